import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { classifyReach } from '../../src/borg/words/reach-failure.js';
import { StderrScanner } from '../../src/borg/words/stderr-scanner.js';
import { judgeRecords } from '../../src/cli/commands/status-command.js';
import { CONNECT_START, decideConnect, type AttemptEnd } from '../../src/run/connect-wait.js';
import { connectWaitSeconds } from '../../src/plan/plan.js';

// decideConnect with its state carried from one attempt to the next, as next-step.ts carries it.
function connectWait(waitSeconds: number, start: number, host: string) {
  let state = CONNECT_START;
  return {
    decide(end: AttemptEnd) {
      const r = decideConnect({ waitSeconds, start, host }, state, end);
      state = r.state;
      return r.decision;
    },
    get retries(): number {
      return state.retries;
    },
  };
}
import { parseDuration } from '../../src/core/duration.js';
import { escapeLabelValue, formatMetrics } from '../../src/monitor/metrics.js';
import {
  buildPingRequest,
  checkPingUrl,
  endBody,
  isSuccess,
  MAX_BODY_BYTES,
  choosePingRole,
  resolvePingStyle,
} from '../../src/monitor/ping.js';
import { parseGetentHosts } from '../../src/monitor/ping-address.js';
import { classifyRun, isRefusedPrompt, repositoryKey } from '../../src/monitor/run-record.js';
import { commandFacts } from '../../src/borg/command-facts.js';
import { findBaseDirectory } from '../../src/process/state-files.js';
import {
  nextRecord,
  NEVER_SUCCEEDED_KEPT_MS,
  recordFileName,
  removeOldRecord,
  writeRecord,
  readRecord,
  type RunRecord,
  type StatusRecord,
} from '../../src/monitor/status-record.js';
import { splitArguments } from '../../src/cli/tborg-options.js';

// The monitoring pure parts (README "Monitoring"), as tables: which failures to reach the server are waited out, durations,
// ping requests, status records and the metrics text.

function findings(stderr: string) {
  const s = new StderrScanner();
  s.feed(Buffer.from(stderr));
  return s.end();
}

const HINT = 'Connection closed by remote host. Is borg working on the server?';
// Messages as borg 1.2.4 and borg2 2.0.0b5 printed them over the lab's sshd (stopped, REJECTed,
// black-holed, wrong key, changed host key, --remote-path to nothing, a missing repository); the
// borg2 b25 rest line is the one README "borg 2" quotes.
const reachTable: Array<[string, number, string, ReturnType<typeof classifyReach>]> = [
  ['refused', 2, `Remote: ssh: connect to host 127.0.0.1 port 2222: Connection refused\n${HINT}\n`, 'unreachable'],
  ['refused, modern exit code 81', 81, `Remote: ssh: connect to host 127.0.0.1 port 2222: Connection refused\n${HINT}\n`, 'unreachable'],
  ['no route', 2, `Remote: ssh: connect to host 127.0.0.1 port 2222: No route to host\n${HINT}\n`, 'unreachable'],
  ['timed out', 2, `Remote: ssh: connect to host 127.0.0.1 port 2222: Connection timed out\n${HINT}\n`, 'unreachable'],
  ['network unreachable', 2, `Remote: ssh: connect to host 10.1.2.3 port 22: Network is unreachable\n${HINT}\n`, 'unreachable'],
  [
    'name resolution',
    2,
    `Remote: ssh: Could not resolve hostname nosuchhost.invalid: Temporary failure in name resolution\n${HINT}\n`,
    'unreachable',
  ],
  ['borg2 rest over ssh', 2, 'rest connection was lost: ssh: connect to host backup port 22: Connection refused\n', 'unreachable'],
  [
    "borg2 2.0.0b19: ssh's line, then a 10-line traceback from RemoteRepository.__del__ (Debian 13)",
    80,
    'stderr: ssh: connect to host 127.0.0.1 port 2222: Connection refused\nException ignored in: <function RemoteRepository.__del__ at 0x7f25499d3ce0>\n' +
      'Traceback (most recent call last):\n' +
      '  File "/usr/lib/borgbackup2/borg/remote.py", line 641, in __del__\n    self.close()\n' +
      '  File "/usr/lib/borgbackup2/borg/remote.py", line 1003, in close\n    self.call("close", {}, wait=True)\n' +
      '  File "/usr/lib/borgbackup2/borg/remote.py", line 724, in call\n    for resp in self.call_many(cmd, [args], **kw):\n' +
      '  File "/usr/lib/borgbackup2/borg/remote.py", line 854, in call_many\n    raise ConnectionClosed()\n' +
      'borg.remote.ConnectionClosed: Connection closed by remote host\nConnection closed by remote host\n',
    'unreachable',
  ],
  ["the hint alone (ssh's line lost)", 2, `${HINT}\n`, 'ambiguous'],
  [
    'borg2 b25 at open, no ssh words (LogLevel QUIET, a forced /bin/false)',
    2,
    "rest: connection lost (BackendConnectionError('stdio server closed connection unexpectedly')), trying to reconnect...\n" +
      "Error: Could not access the repository via borg serve on the remote host: rest connection was lost and could not be reestablished: BackendConnectionError('stdio server closed connection unexpectedly')\n" +
      'Is borg 2 installed there (see BORG_REMOTE_PATH)? For a borg 1.x repository, use --from-borg1.\n',
    'ambiguous',
  ],
  ['wrong key', 2, `Remote: root@127.0.0.1: Permission denied (publickey).\n${HINT}\n`, 'final'],
  [
    'changed host key',
    2,
    `Remote: @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nRemote: Host key verification failed.\n${HINT}\n`,
    'final',
  ],
  ['host key verification only', 2, `Remote: Host key verification failed.\n${HINT}\n`, 'final'],
  ['no borg on the server', 2, `Remote: bash: line 1: borg-nope: command not found\n${HINT}\n`, 'final'],
  ['no borg on the server, zsh', 2, `Remote: zsh:1: command not found: borg\n${HINT}\n`, 'final'],
  ['no borg on the server, dash', 2, `Remote: sh: 1: borg: not found\n${HINT}\n`, 'final'],
  ['no borg at --remote-path', 2, `Remote: bash: line 1: /opt/borg/bin/borg: No such file or directory\n${HINT}\n`, 'final'],
  ['wrong repository path', 2, 'Repository ssh://lab/srv/nope does not exist.\n', 'final'],
  ['a lost connection mid-run', 2, 'Remote: Timeout, server 127.0.0.1 not responding.\nConnection closed by remote host\n', undefined],
  ['a lock timeout', 2, 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n', undefined],
  ['success', 0, `Remote: ssh: connect to host x port 22: Connection refused\n`, undefined],
];
for (const [name, rc, stderr, expected] of reachTable) {
  test(`classifyReach: ${name}`, () => assert.equal(classifyReach(rc, findings(stderr)), expected));
}

test('connect wait: default 15 min without a terminal on stdin, 0 with one, the option wins', () => {
  assert.equal(connectWaitSeconds(undefined, false), 900);
  assert.equal(connectWaitSeconds(undefined, true), 0);
  assert.equal(connectWaitSeconds(30, true), 30);
  assert.equal(connectWaitSeconds(0, false), 0);
});

test('connect wait: retries unreachable attempts with growing jittered pauses until the wait is spent', () => {
  const wait = connectWait(60, 0, 'backup');
  const refused = findings(`Remote: ssh: connect to host 1.2.3.4 port 22: Connection refused\n${HINT}\n`);
  const delays: number[] = [];
  let now = 0;
  for (;;) {
    const d = wait.decide({ exitCode: 2, findings: refused, now, random: 0.5 });
    if (!d.retry) break;
    assert.match(
      d.line,
      /^cannot reach backup \(ssh: connect to host 1\.2\.3\.4 port 22: Connection refused\); retrying in \d+s, \d+s of 1m0s waited/,
    );
    delays.push(d.delayMs);
    now += d.delayMs + 100;
  }
  assert.ok(now >= 60_000, `stopped only when the wait was spent (${now} ms)`);
  assert.deepEqual(delays.slice(0, 5), [750, 1500, 3000, 6000, 12000]);
  assert.ok(delays.every((d) => d <= 30_000));
  assert.equal(wait.retries, delays.length);
});

test('connect wait: never for a final answer, off at 0, closed once the server was reached', () => {
  const refused = findings(`Remote: ssh: connect to host h port 22: Connection refused\n${HINT}\n`);
  const denied = findings(`Remote: u@h: Permission denied (publickey).\n${HINT}\n`);
  assert.equal(connectWait(900, 0, 'h').decide({ exitCode: 2, findings: denied, now: 0, random: 0 }).retry, false);
  assert.equal(connectWait(0, 0, 'h').decide({ exitCode: 2, findings: refused, now: 0, random: 0 }).retry, false);
  const w = connectWait(900, 0, 'h');
  assert.equal(
    w.decide({ exitCode: 2, findings: findings('Failed to create/acquire the lock /r/lock (timeout).\n'), now: 0, random: 0 }).retry,
    false,
  );
  assert.equal(
    w.decide({ exitCode: 2, findings: refused, now: 1, random: 0 }).retry,
    false,
    'a refused connection after the server was reached is not "at start"',
  );
});

test('connect wait without a probe: the hint alone is looked at again five times in a row, not more', () => {
  const bare = findings(`${HINT}\n`);
  const refused = findings(`Remote: ssh: connect to host h port 22: Connection refused\n${HINT}\n`);
  const w = connectWait(900, 0, 'h');
  const seq = [bare, bare, bare, bare, refused, bare, bare, bare, bare, bare, bare].map(
    (f, i) => w.decide({ exitCode: 2, findings: f, now: i, random: 0 }).retry,
  );
  assert.deepEqual(seq, [true, true, true, true, true, true, true, true, true, true, false]);
});

const durations: Array<[string, number | RegExp]> = [
  ['0', 0],
  ['90', 90],
  ['90s', 90],
  ['15m', 900],
  ['1h30m', 5400],
  ['2d', 172800],
  [' 1H ', 3600],
  ['', /expected a duration/],
  ['-5', /expected a duration/],
  ['5x', /expected a duration/],
  ['m', /expected a duration/],
  ['1.5h', /expected a duration/],
];
for (const [text, expected] of durations) {
  test(`parseDuration ${JSON.stringify(text)}`, () => {
    if (typeof expected === 'number') assert.equal(parseDuration(text, 'x'), expected);
    else
      assert.throws(
        () => parseDuration(text, 'x'),
        (e: Error & { exitCode?: number }) => expected.test(e.message) && e.exitCode === 2,
      );
  });
}

test('options: monitoring twins and bad values are one line and exit 2', () => {
  const o = splitArguments(['--tborg-ping', 'https://hc.example/abc', 'create'], {
    TBORG_CONNECT_WAIT: '2m',
    TBORG_STATUS_FILE: 'none',
    TBORG_PING_ALL: '1',
  }).options;
  assert.equal(o.pingUrl, 'https://hc.example/abc');
  assert.equal(o.connectWait, 120);
  assert.equal(o.statusFile, null);
  assert.equal(o.pingAll, true);
  assert.equal(splitArguments(['list'], { TBORG_PING_URL: 'http://x/y' }).options.pingUrl, 'http://x/y');
  // A mistyped URL is taken as given: pinging it is a warning at run time, the backup runs.
  assert.equal(splitArguments(['list'], { TBORG_PING_URL: 'htps//x' }).options.pingUrl, 'htps//x');
  assert.equal(checkPingUrl('htps//x'), "not a URL: 'htps//x'");
  assert.equal(checkPingUrl('ftp://x/y'), "not an http:// or https:// URL: 'ftp://x/y'");
  assert.equal(checkPingUrl('https://hc-ping.com/u'), undefined);
  for (const [argv, env, re] of [
    [['--tborg-ping-style', 'kuma'], {}, /expected healthchecks or uptime-kuma/],
    [['list'], { TBORG_CONNECT_WAIT: 'soon' }, /TBORG_CONNECT_WAIT: expected a duration/],
    [['--tborg-metrics-file', ''], {}, /--tborg-metrics-file: expected the path/],
  ] as Array<[string[], Record<string, string>, RegExp]>) {
    assert.throws(
      () => splitArguments(argv, env),
      (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2 && !e.message.includes('\n'),
    );
  }
});

test('ping: a backup is a job, maintenance fails loudly but never reports fine, the rest only with --tborg-ping-all', () => {
  // The kind is the command's table row's (CommandSpec.monitor), for borg 1.x or borg 2 alike.
  const role = (words: string, dryRun: boolean, all: boolean) => {
    const command = words.split(' ');
    const kind = commandFacts(1, null, command)?.monitor ?? commandFacts(2, null, command)?.monitor;
    assert.ok(kind, words);
    return choosePingRole(kind, dryRun, all);
  };
  for (const c of ['create', 'import-tar']) assert.equal(role(c, false, false), 'job', c);
  for (const c of ['prune', 'compact', 'check', 'delete', 'recreate']) assert.equal(role(c, false, false), 'maintenance', c);
  for (const c of ['list', 'info', 'extract', 'mount', 'rlist', 'repo-list', 'diff', 'init', 'repo-create', 'rename', 'key'])
    assert.equal(role(c, false, false), null, c);
  assert.equal(role('key export', false, false), null);
  assert.equal(role('create', true, false), null, 'a dry run changes nothing');
  assert.equal(role('prune', true, false), null);
  assert.equal(role('list', false, true), 'job');
  assert.equal(role('create', true, true), 'job');
  assert.equal(role('prune', false, true), 'maintenance', '--tborg-ping-all never lets maintenance report the check fine');
});

test("success: 0, 1 and borg's modern warning codes; errors and signals are not", () => {
  for (const c of [0, 1, 100, 107, 127]) assert.ok(isSuccess(c), String(c));
  for (const c of [2, 3, 13, 99, 128, 130, 143]) assert.ok(!isSuccess(c), String(c));
});

test('recorded kind: backups and maintenance; never reads, dry runs or a refused prompt', () => {
  const B1 = { major: 1, version: '1.2.4' } as const;
  const ended = (exitCode: number, ...lastLines: string[]) => ({ exitCode, lastLines });
  const yes = "Type 'YES' if you understand this and want to continue: ";
  assert.equal(classifyRun({ borg: B1, command: ['create'] }, ended(2, 'Archive a already exists')), 'backup');
  assert.equal(classifyRun({ borg: B1, command: ['create'], dryRun: true }, ended(0)), null);
  assert.equal(classifyRun({ borg: B1, command: ['list'] }, ended(2, 'Archive typo does not exist.')), null);
  assert.equal(classifyRun({ borg: B1, command: ['prune'] }, ended(0)), 'maintenance');
  assert.equal(classifyRun({ borg: B1, command: ['delete'] }, ended(2, `${yes}Aborting.`)), null, 'borg 1.x: NO');
  assert.equal(classifyRun({ borg: B1, command: ['check'] }, ended(3, `${yes}Aborting.`, 'Cancelled by user.')), null, 'borg 2.0.0b25: NO');
  assert.equal(classifyRun({ borg: B1, command: ['delete'] }, ended(2, `${yes}Invalid answer, aborting.`)), null);
  assert.equal(classifyRun({ borg: B1, command: ['delete'] }, ended(2, 'Repository /x does not exist.')), 'maintenance');
  assert.ok(!isRefusedPrompt(ended(0, `${yes}Aborting.`)));
});

test("getent ahosts: every address once, in getaddrinfo's order", () => {
  assert.deepEqual(parseGetentHosts('::1             STREAM localhost\n::1             DGRAM\n127.0.0.1       STREAM \n'), [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ]);
  assert.deepEqual(parseGetentHosts('192.0.2.7       STREAM hc.example\n'), [{ address: '192.0.2.7', family: 4 }]);
  assert.deepEqual(parseGetentHosts(''), []);
});

test("state directory: XDG_STATE_HOME, else an absolute HOME, else the password database's; never relative", () => {
  assert.equal(findBaseDirectory({ XDG_STATE_HOME: '/s', HOME: '/h' }, 'state'), '/s');
  assert.equal(findBaseDirectory({ XDG_STATE_HOME: 'rel', HOME: '/h' }, 'state'), '/h/.local/state');
  assert.equal(findBaseDirectory({ HOME: '/h' }, 'cache'), '/h/.cache');
  assert.equal(
    findBaseDirectory({ HOME: '' }, 'state', () => '/root'),
    '/root/.local/state',
  );
  assert.equal(
    findBaseDirectory({ HOME: 'rel' }, 'state', () => '/root'),
    '/root/.local/state',
  );
  assert.equal(
    findBaseDirectory({ HOME: '' }, 'state', () => ''),
    null,
  );
});

test('ping: requests per style', () => {
  const end = (exitCode: number) => ({ exitCode, lastLines: ['a', 'Repository /x does not exist.'], durationMs: 1234 });
  assert.equal(resolvePingStyle('https://kuma.example/api/push/tok?status=up', undefined), 'uptime-kuma');
  assert.equal(resolvePingStyle('https://hc-ping.com/uuid', undefined), 'healthchecks');
  assert.equal(resolvePingStyle('https://kuma.example/api/push/tok', 'healthchecks'), 'healthchecks');
  const hc = (e: Parameters<typeof buildPingRequest>[2]) =>
    buildPingRequest('healthchecks', 'https://hc.example/ping/u-1/', e, 'RID', 'tborg: borg create r')!;
  assert.equal(hc('start').url, 'https://hc.example/ping/u-1/start?rid=RID');
  assert.equal(hc(end(0)).url, 'https://hc.example/ping/u-1?rid=RID');
  assert.equal(hc(end(1)).url, 'https://hc.example/ping/u-1?rid=RID');
  assert.equal(hc(end(2)).url, 'https://hc.example/ping/u-1/2?rid=RID');
  assert.equal(
    buildPingRequest('healthchecks', 'https://hc.example/ping/u-1/', end(0), 'RID', 'x', 'log')!.url,
    'https://hc.example/ping/u-1/log?rid=RID',
  );
  assert.equal(buildPingRequest('uptime-kuma', 'https://k.example/api/push/tok', end(0), 'RID', 'x', 'log'), null);
  assert.equal(hc(end(143)).method, 'POST');
  assert.match(hc(end(2)).body, /^tborg: borg create r: exit code 2\na\nRepository \/x does not exist\.\n$/);
  const kuma = (e: Parameters<typeof buildPingRequest>[2]) =>
    buildPingRequest('uptime-kuma', 'https://k.example/api/push/tok?status=up&msg=OK&ping=', e, 'RID', 'borg create r');
  assert.equal(kuma('start'), null);
  const down = new URL(kuma(end(2))!.url);
  assert.equal(down.searchParams.get('status'), 'down');
  assert.equal(down.searchParams.get('msg'), 'borg create r: exit 2: Repository /x does not exist.');
  assert.equal(down.searchParams.get('ping'), '1234');
  assert.equal(new URL(kuma(end(0))!.url).searchParams.get('status'), 'up');
});

test("ping: the body keeps the end of borg's stderr within the bound", () => {
  const lines = Array.from({ length: 12 }, (_, i) => `${i}`.repeat(2000));
  const body = endBody({ exitCode: 2, lastLines: lines, durationMs: 1 }, 'tborg');
  assert.ok(Buffer.byteLength(body) <= MAX_BODY_BYTES, `${Buffer.byteLength(body)}`);
  assert.ok(body.startsWith('tborg: exit code 2\n'));
  assert.ok(body.endsWith(`${'11'.repeat(1000)}\n`));
});

function run(over: Partial<RunRecord> = {}): RunRecord {
  return {
    repository: 'ssh://h/srv/r',
    kind: 'backup',
    command: 'create',
    start: '2026-01-01T00:00:00.000Z',
    end: '2026-01-01T00:01:00.000Z',
    exitCode: 0,
    lockWaitSeconds: 0,
    attempts: 1,
    lockRetries: 0,
    connectionRetries: 0,
    unreachableRetries: 0,
    borgVersion: '1.2.4',
    ...over,
  };
}
const maintenance = (command: string, over: Partial<RunRecord> = {}) => run({ kind: 'maintenance', command, ...over });

test('status record: the last backup and its last success; maintenance apart, never moving either', () => {
  const ok = nextRecord(undefined, run());
  assert.equal(ok.backup?.lastSuccess, '2026-01-01T00:01:00.000Z');
  const failed = nextRecord(ok, run({ exitCode: 2, end: '2026-01-02T00:00:00.000Z' }));
  assert.equal(failed.backup?.exitCode, 2);
  assert.equal(failed.backup?.lastSuccess, ok.backup?.lastSuccess);
  const pruned = nextRecord(
    nextRecord(failed, maintenance('prune', { end: '2026-01-02T01:00:00.000Z' })),
    maintenance('compact', { end: '2026-01-02T02:00:00.000Z' }),
  );
  assert.deepEqual(pruned.backup, failed.backup, 'maintenance never touches the backup');
  assert.equal(pruned.maintenance.prune?.lastSuccess, '2026-01-02T01:00:00.000Z');
  assert.equal(pruned.maintenance.compact?.exitCode, 0);
  const badCheck = nextRecord(pruned, maintenance('check', { exitCode: 2 }));
  assert.equal(badCheck.maintenance.check?.lastSuccess, null);
  assert.equal(badCheck.maintenance.prune?.lastSuccess, '2026-01-02T01:00:00.000Z');
  const warning = nextRecord(badCheck, run({ exitCode: 1, end: '2026-01-04T00:00:00.000Z' }));
  assert.equal(warning.backup?.lastSuccess, '2026-01-04T00:00:00.000Z', 'exit 1: borg reached its normal end, with warnings');
  const older = nextRecord(warning, run({ end: '2026-01-03T12:00:00.000Z' }));
  assert.equal(older.backup?.lastSuccess, '2026-01-04T00:00:00.000Z');
  const other = nextRecord(older, run({ repository: 'ssh://h/srv/other', exitCode: 2 }));
  assert.equal(other.backup?.lastSuccess, null, "a single --tborg-status-file shared by two repositories: the last one's");
  assert.deepEqual(other.maintenance, {});
});

test('status record: file names are safe and distinct', () => {
  const a = recordFileName('ssh://u@h:2222/srv/a b/../c');
  assert.match(a, /^[A-Za-z0-9._-]+\.json$/);
  assert.notEqual(recordFileName('/srv/r'), recordFileName('/srv-r'));
  assert.match(recordFileName('../../etc/passwd'), /^etc-passwd-[0-9a-f]{10}\.json$/);
});

test("status record: the repository key is borg's canonical form, with ssh -G's host, port and user", () => {
  const r = (o: object) => ({ location: 'x', proto: 'ssh', user: null, host: 'h', port: null, path: '/srv/r', archive: null, ...o });
  assert.equal(repositoryKey(r({})), 'ssh://h/srv/r');
  const g = { hostname: '192.0.2.1', port: 22, user: 'me' };
  for (const spelled of [r({}), r({ port: 22 }), r({ user: 'me' })]) assert.equal(repositoryKey(spelled, g), 'ssh://me@192.0.2.1:22/srv/r');
  assert.equal(repositoryKey(r({ path: 'repo' }), g), 'ssh://me@192.0.2.1:22/./repo');
  assert.equal(repositoryKey(r({ path: '~/repo' }), g), 'ssh://me@192.0.2.1:22/~/repo');
  assert.equal(repositoryKey(r({ user: 'u', port: 2222, path: 'repo' })), 'ssh://u@h:2222/./repo');
  assert.equal(repositoryKey(r({ host: '::1' })), 'ssh://[::1]/srv/r');
  assert.equal(repositoryKey(r({ proto: 'file', host: null, path: '/srv/local' })), '/srv/local');
});

test('status record: concurrent writers of one repository keep the last success', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tborg-status-')), 'r.json');
  const runs = Array.from({ length: 20 }, (_, i) =>
    run({ exitCode: i === 7 ? 0 : 2, end: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }),
  );
  await Promise.all(runs.map((r) => writeRecord(path, r)));
  const record = await readRecord(path);
  assert.equal(record?.backup?.lastSuccess, runs[7]!.end);
});

test("status record: an older tborg's version 1 record is not read (its last success may be a prune's), and is removed", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tborg-status-'));
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify({ version: 1, ...run({ command: 'prune' }), lastSuccess: '2026-01-01T00:01:00.000Z' }));
  assert.equal(await readRecord(old), undefined);
  const current = join(dir, 'current.json');
  await writeRecord(current, run());
  await removeOldRecord(current);
  assert.notEqual(await readRecord(current), undefined, 'a current record stays');
  await removeOldRecord(old);
  assert.ok(!existsSync(old));
});

test('metrics: one series per repository and kind; label values escaped; parses with a Prometheus text-format parser', () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const now = Date.parse('2026-01-02T00:00:00.000Z');
  const weird = nextRecord(undefined, run({ repository: 'ssh://h/srv/we"ird\\path\nx' }));
  const local = nextRecord(
    nextRecord(
      nextRecord(undefined, run({ repository: '/srv/local' })),
      run({ repository: '/srv/local', exitCode: 2, attempts: 3, lockWaitSeconds: 12.5 }),
    ),
    maintenance('prune', { repository: '/srv/local' }),
  );
  const records: StatusRecord[] = [weird, local];
  const require = createRequire(import.meta.url);
  const parse = require('parse-prometheus-text-format') as (
    text: string,
  ) => Array<{ name: string; type: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
  const families = parse(formatMetrics(records, now));
  const byName = new Map(families.map((f) => [f.name, f]));
  assert.deepEqual([...byName.keys()].sort(), [
    'tborg_attempts',
    'tborg_last_exit_code',
    'tborg_last_run_timestamp_seconds',
    'tborg_last_success_timestamp_seconds',
    'tborg_lock_wait_seconds',
  ]);
  for (const f of families) assert.equal(f.type, 'GAUGE');
  const success = byName.get('tborg_last_success_timestamp_seconds')!.metrics;
  assert.deepEqual(
    success.map((m) => [m.labels.repository, m.labels.kind]),
    [
      ['ssh://h/srv/we"ird\\path\nx', 'backup'],
      ['/srv/local', 'backup'],
      ['/srv/local', 'prune'],
    ],
  );
  assert.deepEqual(
    success.map((m) => Number(m.value)),
    [Date.UTC(2026, 0, 1, 0, 1) / 1000, Date.UTC(2026, 0, 1, 0, 1) / 1000, Date.UTC(2026, 0, 1, 0, 1) / 1000],
  );
  assert.equal(Number(byName.get('tborg_last_exit_code')!.metrics[1]!.value), 2);
  assert.equal(Number(byName.get('tborg_lock_wait_seconds')!.metrics[1]!.value), 12.5);
  assert.equal(Number(byName.get('tborg_attempts')!.metrics[1]!.value), 3);
});

test('status verdicts: per repository and kind; failed, stale (backups only), ok; never-succeeded runs forgotten after a week', () => {
  const now = Date.parse('2026-01-02T00:00:00.000Z');
  const at = (iso: string) => ({ end: iso });
  const good = nextRecord(undefined, run(at('2026-01-01T23:30:00.000Z')));
  const failed = nextRecord(good, run({ exitCode: 2, ...at('2026-01-01T23:40:00.000Z') }));
  const old = nextRecord(undefined, run({ repository: '/old', ...at('2026-01-01T00:00:00.000Z') }));
  const fixedByPrune = nextRecord(failed, maintenance('prune', at('2026-01-01T23:50:00.000Z')));
  const states = (records: StatusRecord[], maxAge?: number) => judgeRecords(records, now, maxAge).map((l) => `${l.kind}:${l.state}`);
  assert.deepEqual(states([good], 3600), ['backup:ok']);
  assert.deepEqual(states([failed], 3600), ['backup:failed']);
  assert.deepEqual(states([old], 3600), ['backup:stale']);
  assert.deepEqual(states([old]), ['backup:ok']);
  assert.deepEqual(states([fixedByPrune], 3600), ['backup:failed', 'prune:ok'], 'maintenance never makes a failed backup fine');
  const oldPrune = nextRecord(good, maintenance('prune', at('2025-12-01T00:00:00.000Z')));
  assert.deepEqual(states([oldPrune], 3600), ['backup:ok', 'prune:ok'], 'maintenance is not judged by --max-age');
  assert.deepEqual(
    states([nextRecord(good, maintenance('check', { exitCode: 2 }))]),
    ['backup:ok', 'check:failed'],
    'maintenance fails loudly',
  );
  assert.equal(judgeRecords([good], now, 3600)[0]!.lastSuccessAgeSeconds, 1800);
  // A mistyped host: failed for a week, then forgotten; a repository that once succeeded never is.
  const typo = (ageMs: number) =>
    nextRecord(undefined, run({ repository: 'ssh://typo/r', exitCode: 2, end: new Date(now - ageMs).toISOString() }));
  assert.deepEqual(states([typo(NEVER_SUCCEEDED_KEPT_MS - 60_000)]), ['backup:failed']);
  assert.deepEqual(states([typo(NEVER_SUCCEEDED_KEPT_MS + 60_000)]), []);
  const longFailed = nextRecord(good, run({ exitCode: 2, end: new Date(now - NEVER_SUCCEEDED_KEPT_MS - 60_000).toISOString() }));
  assert.deepEqual(states([longFailed]), ['backup:failed']);
});

test('the hold keeps back ssh\'s "cannot connect" line and what follows; other lines pass at once', async () => {
  const { LockLineHold } = await import('../../src/borg/words/lock-line-hold.js');
  const text = `Remote: ssh: connect to host 127.0.0.1 port 2222: Connection refused\n${HINT}\n`;
  for (const size of [1, 5, 4096]) {
    const hold = new LockLineHold();
    const bytes = Buffer.from(`first line\n${text}`);
    let passed = '';
    for (let i = 0; i < bytes.length; i += size) passed += hold.filter(bytes.subarray(i, i + size)).toString();
    const { held, unheld } = hold.end();
    assert.equal(passed + unheld.toString(), 'first line\n', `chunk ${size}`);
    assert.equal(held.toString(), text, `chunk ${size}`);
  }
  const dns = new LockLineHold();
  assert.equal(dns.filter(Buffer.from('Remote: ssh: Could not resolve hostname x: Name or service not known\n')).length, 0);
  // Only at an attempt's start, where ssh speaks: later in a long stream such a line passes (and the
  // stream is searched for the lock message alone).
  const late = new LockLineHold();
  assert.equal(late.filter(Buffer.alloc(70 * 1024, 'x\n')).length, 70 * 1024);
  assert.equal(late.filter(Buffer.from(text)).toString(), text);
  const other = new LockLineHold();
  assert.equal(
    other.filter(Buffer.from('Remote: Permission denied (publickey).\n')).toString(),
    'Remote: Permission denied (publickey).\n',
  );
});

test('connect wait: once the wait is spent, one line says so', () => {
  const refused = findings(`Remote: ssh: connect to host h port 22: Connection refused\n${HINT}\n`);
  const w = connectWait(5, 0, 'h');
  assert.equal(w.decide({ exitCode: 2, findings: refused, now: 0, random: 0 }).retry, true);
  const last = w.decide({ exitCode: 2, findings: refused, now: 6000, random: 0 });
  assert.equal(last.retry, false);
  assert.match(
    !last.retry && last.line ? last.line : '',
    /^gave up: h could not be reached within 5s \(--tborg-connect-wait\), over 2 attempts$/,
  );
});

test('ping: run ids are version 4 UUIDs, as Healthchecks requires for rid', async () => {
  const { randomRunId } = await import('../../src/monitor/ping.js');
  const ids = new Set(Array.from({ length: 200 }, () => randomRunId()));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(
    randomRunId(() => 0.999),
    'ffffffff-ffff-4fff-bfff-ffffffffffff',
  );
});
