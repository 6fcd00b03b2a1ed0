import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBuffered, type RunResult } from '../lab/processes.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// What a run says and does around retries, against a scripted borg: which lost connections are
// retried, tborg's one line when not, --log-json lines, the fit of --tborg-max-wait, the short
// --lock-wait warning, and how often ssh -G (and with it a `Match exec` command) runs.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');

// A borg whose run N does SCRIPT[N] (the last entry repeats): optional start-up pause (ssh connect),
// then, for a held lock, a sleep of its --lock-wait; stdout and stderr bytes; an exit code. Every run
// appends its argv to RUNS (and, with TIMES, when its process started and ended). `--version` is answered like borg 1.2.4.
const SCRIPT_BORG = String.raw`
import { appendFileSync, readFileSync } from 'node:fs';
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) { process.stdout.write('borg 1.2.4\n'); process.exit(0); }
appendFileSync(process.env.RUNS, JSON.stringify(argv) + '\n');
const n = readFileSync(process.env.RUNS, 'utf8').split('\n').filter(Boolean).length - 1;
const script = JSON.parse(process.env.SCRIPT);
const step = script[Math.min(n, script.length - 1)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(step.startupMs ?? 0);
if (step.held) { const i = argv.indexOf('--lock-wait'); await sleep(1000 * (i === -1 ? 1 : Number(argv[i + 1]))); }
const write = (stream, text) => new Promise((r) => (text ? stream.write(text, r) : r()));
await write(process.stdout, step.stdout ?? '');
await write(process.stderr, step.stderr ?? '');
if (process.env.TIMES) appendFileSync(process.env.TIMES, JSON.stringify([performance.timeOrigin, Date.now()]) + '\n');
process.exit(step.exit ?? 0);
`;

const LOCK = 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n';
const LOST = 'Remote: Timeout, server h not responding.\nConnection closed by remote host\n';

let work = '';
let borg = '';
let sshConfig = '';
let runCount = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tborg-retry-cli-'));
  const script = join(work, 'script-borg.mjs');
  await writeFile(script, SCRIPT_BORG);
  borg = join(work, 'borg');
  await writeFile(borg, `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`);
  await chmod(borg, 0o755);
  sshConfig = join(work, 'ssh_config');
  await writeFile(sshConfig, 'Host h\n  HostName 127.0.0.1\n');
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Step {
  stdout?: string;
  stderr?: string;
  exit?: number;
  startupMs?: number;
  held?: boolean;
}

interface Run extends RunResult {
  runs: string[][];
  seconds: number;
}

async function tborg(args: readonly string[], script: Step[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const runs = join(work, `runs-${++runCount}`);
  await writeFile(runs, '');
  const env = inheritedEnv(['CI']);
  Object.assign(
    env,
    { TBORG_BORG: borg, BORG_RSH: `ssh -F ${sshConfig}`, RUNS: runs, SCRIPT: JSON.stringify(script), XDG_CACHE_HOME: join(work, 'cache') },
    extraEnv,
  );
  const started = Date.now();
  const r = await runBuffered([process.execPath, TBORG, ...args], { env, input: '', timeoutMs: 120_000 });
  const seconds = (Date.now() - started) / 1000;
  const list = readFileSync(runs, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
  return { ...r, runs: list, seconds };
}

for (const [args, reason] of [
  [['extract', '--stdout', 'h:r::a', 'big.bin'], 'extract --stdout writes its result to stdout; a second attempt would write it again'],
  [['export-tar', 'h:r::a', '-'], 'export-tar to - writes its result to stdout; a second attempt would write it again'],
  [['list', '--json', 'h:r'], 'list writes its result to stdout; a second attempt would write it again'],
  [['key', 'export', 'h:r', '-'], 'key export to - writes its result to stdout; a second attempt would write it again'],
] as const) {
  test(`a lost connection during ${args.join(' ')}: one attempt, borg's bytes and code, one line why`, async () => {
    const r = await tborg(
      ['--tborg-quiet', ...args],
      [
        { stdout: 'partial result', stderr: LOST, exit: 2 },
        { stdout: 'AGAIN', exit: 0 },
      ],
    );
    assert.equal(r.code, 2, r.stderr.toString());
    assert.equal(r.runs.length, 1, 'borg ran once');
    assert.equal(r.stdout.toString(), 'partial result', "stdout is borg's, once");
    const said = r.stderr.toString();
    assert.ok(said.startsWith(LOST), said);
    const own = said.slice(LOST.length).trimEnd().split('\n');
    assert.equal(own.length, 1, said);
    assert.match(own[0]!, new RegExp(`^\\S+Z tborg: not retrying the lost connection: ${escapeRegExp(reason)}$`));
  });
}

// README "What is retried": a command of yours gets one attempt; its output is borg's stderr, so
// tborg reads nothing into it and adds nothing.
test("a lost connection during create --content-from-command: one attempt, borg's bytes and code, nothing of tborg's", async () => {
  const r = await tborg(
    ['--tborg-quiet', 'create', '--content-from-command', 'h:r::a', '--', 'pg_dump', 'db'],
    [
      { stdout: 'partial result', stderr: LOST, exit: 2 },
      { stdout: 'AGAIN', exit: 0 },
    ],
  );
  assert.equal(r.code, 2, r.stderr.toString());
  assert.deepEqual(
    r.runs.map((argv) => argv.slice(0, 3)),
    [['--lock-wait', '640', 'create']],
    'borg ran once, waiting the whole wait itself',
  );
  assert.equal(r.stdout.toString(), 'partial result');
  assert.equal(r.stderr.toString(), LOST);
});

test('a lost connection during create of files: the archive did not land, so it is retried, and the backup lands', async () => {
  const r = await tborg(
    ['--tborg-quiet', 'create', 'h:r::a', '/data'],
    [{ stderr: LOST, exit: 2 }, { stdout: '{"archives": []}', exit: 0 }, { exit: 0 }],
  );
  assert.equal(r.code, 0, r.stderr.toString());
  assert.equal(r.runs.length, 3);
  assert.deepEqual(
    r.runs[1]!.slice(2),
    ['list', '--json', '--format', '{hostname}{username}', '--last', '20', 'h:r'],
    'the archive list with who made each archive, with a lock wait of its own',
  );
  assert.match(r.stderr.toString(), /tborg: the connection to h was lost; retrying \(1 of 3\)/);
});

test('a lost connection during create of files after the archive landed: exit 0, borg not run again', async () => {
  const start = new Date(Date.now() + 5000).toISOString();
  const r = await tborg(
    ['--tborg-quiet', 'create', 'h:r::a', '/data'],
    [
      { stderr: LOST, exit: 2 },
      { stdout: JSON.stringify({ archives: [{ name: 'a', start }] }), exit: 0 },
      { exit: 2, stderr: 'Archive a already exists\n' },
    ],
  );
  assert.equal(r.code, 0, r.stderr.toString());
  assert.equal(r.runs.length, 2, 'the create ran once');
  assert.match(r.stderr.toString(), /tborg: the archive a had landed before the connection was lost/);
});

test("a lost connection during create of files, another machine's archive of that name landed meanwhile: not this run's, so it is retried", async () => {
  const start = new Date(Date.now() + 5000).toISOString();
  const r = await tborg(
    ['--tborg-quiet', 'create', 'h:r::a', '/data'],
    [
      { stderr: LOST, exit: 2 },
      { stdout: JSON.stringify({ archives: [{ name: 'a', start, hostname: 'elsewhere', username: 'someone' }] }), exit: 0 },
      { exit: 0 },
    ],
  );
  assert.equal(r.code, 0, r.stderr.toString());
  assert.equal(r.runs.length, 3, 'the create ran again');
  assert.doesNotMatch(r.stderr.toString(), /had landed/);
});

test('tborg plan --json: connectionRetries 0 and the reason for a stream to stdout, 3 for create', async () => {
  const plan = async (args: string[]) => JSON.parse((await tborg(['plan', '--json', ...args], [{}])).stdout.toString()).retry;
  const extract = await plan(['extract', '--stdout', 'h:r::a', 'f']);
  assert.equal(extract.connectionRetries, 0);
  assert.match(extract.noConnectionRetry, /^extract --stdout writes its result to stdout/);
  const create = await plan(['create', 'h:r::a', '/data']);
  assert.deepEqual([create.connectionRetries, create.noConnectionRetry], [3, null]);
});

test("--log-json: every stderr line is JSON, tborg's in borg's log format", async () => {
  const lockJson =
    '{"type": "log_message", "time": 1.5, "message": "Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).", "levelname": "ERROR", "name": "borg.archiver", "msgid": "LockTimeout"}\n';
  const r = await tborg(
    ['--log-json', 'list', 'h:r'],
    [
      { stderr: lockJson, exit: 73 },
      { stderr: LOST, exit: 2 },
    ],
  );
  assert.equal(r.code, 2);
  const lines = r.stderr
    .toString()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('Remote:') && !l.startsWith('Connection closed'));
  const ours = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.name === 'tborg');
  assert.ok(ours.length >= 2, r.stderr.toString());
  for (const o of ours) {
    assert.deepEqual(Object.keys(o), ['type', 'time', 'message', 'levelname', 'name']);
    assert.equal(o.type, 'log_message');
    assert.equal(typeof o.time, 'number');
    assert.ok(Math.abs((o.time as number) - Date.now() / 1000) < 120);
    assert.doesNotMatch(o.message as string, /^tborg:|^\d{4}-/);
  }
  assert.ok(ours.some((o) => o.levelname === 'INFO' && /^waiting for the lock on h:r, .* attempt 2$/.test(o.message as string)));
  assert.ok(ours.some((o) => o.levelname === 'WARNING' && /^not retrying the lost connection: list writes/.test(o.message as string)));
});

test('--tborg-max-wait 15: tborg gives up by the deadline plus one poll, and the counts agree', async () => {
  // Each attempt spends 2 s before borg looks at the lock (ssh, python), then its --lock-wait.
  const times = join(work, 'max-wait-times');
  const r = await tborg(
    ['--tborg-quiet', '--tborg-max-wait', '15', 'list', 'h:r'],
    [{ startupMs: 2000, held: true, stderr: LOCK, exit: 73 }],
    { TIMES: times },
  );
  const endedAt = Date.now();
  assert.equal(r.code, 73);
  // Before: 10 s + 2 s, then a 3 s attempt + 2 s = 17.x s. Now the last attempt must fit: the
  // attempts' own lock waits plus their 2 s start-up stay within the 15 s (the schedule, read from the
  // argv each attempt got, so a loaded machine cannot make it pass or fail), and tborg's own schedule
  // stays within the cap plus a quarter of it (at-once.ts): from the first attempt's start to tborg's
  // end, less what a busy machine added to the attempts beyond their plan (their node start-up included).
  const plannedEach = r.runs.map((argv) => Number(argv[argv.indexOf('--lock-wait') + 1]) + 2);
  const planned = plannedEach.reduce((sum, s) => sum + s, 0);
  assert.ok(planned <= 15, `attempts planned for ${planned} s: ${JSON.stringify(r.runs)}`);
  const ran = readFileSync(times, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as [number, number]);
  assert.equal(ran.length, r.runs.length);
  const stretchMs = ran.reduce((sum, [from, to], i) => sum + Math.max(0, to - from - plannedEach[i]! * 1000), 0);
  const scheduleMs = endedAt - ran[0]![0] - stretchMs;
  assert.ok(
    scheduleMs < 15_000 * 1.25,
    `tborg's schedule took ${scheduleMs} ms for --tborg-max-wait 15 (${r.seconds} s in all, attempts ${Math.round(stretchMs)} ms over their plan)`,
  );
  const said = r.stderr.toString();
  const gaveUp = /gave up after waiting (\d+)s over (\d+) attempts?/.exec(said);
  assert.ok(gaveUp, said);
  assert.equal(Number(gaveUp[2]), r.runs.length, said);
  const announced = [...said.matchAll(/attempt (\d+)\n/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    announced,
    r.runs.slice(1).map((_, i) => i + 2),
    said,
  );
});

test("a short --lock-wait of the user's: silent when no wait happened, one warning when it did, always in plan", async () => {
  // 20 s: as short against the 10m40s model as any, and tborg's retries for it end in 20 s, not 60.
  const args = ['create', '--lock-wait', '20', 'h:r::a', '/data'];
  const quiet = await tborg(['--tborg-quiet', ...args], [{ exit: 0 }]);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr.toString(), '', 'cron mails nothing');
  const waited = await tborg(['--tborg-quiet', ...args], [{ stderr: LOCK, exit: 73 }]);
  assert.equal(waited.code, 73);
  assert.equal(
    (waited.stderr.toString().match(/warning: --lock-wait 20 is shorter than the 10m40s/g) ?? []).length,
    1,
    waited.stderr.toString(),
  );
  const plan = await tborg(['plan', ...args], [{}]);
  assert.match(plan.stdout.toString(), /warning: +--lock-wait 20 is shorter than the 10m40s/);
});

test("ssh -G runs once per run, so a Match exec command runs once (as in borg's own ssh), BatchMode yes included", async () => {
  const count = join(work, 'match-exec-count');
  const config = join(work, 'ssh_config_match');
  await writeFile(config, `Match exec "echo x >> ${count}"\n  User u\nHost h\n  HostName 127.0.0.1\n  BatchMode yes\n`);
  for (const args of [
    ['create', 'h:r::a', '/data'],
    ['plan', 'create', 'h:r::a', '/data'],
  ]) {
    await writeFile(count, '');
    const r = await tborg(args, [{ exit: 0 }], { BORG_RSH: `ssh -F ${config}` });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(readFileSync(count, 'utf8'), 'x\n', args.join(' '));
  }
  // Debian's BatchMode default (300) is still told from a 300 someone wrote: then ssh is asked again.
  const plan = await tborg(['plan', '--json', 'create', 'h:r::a', '/data'], [{}], { BORG_RSH: `ssh -F ${config}` });
  const batchDefault = spawnSync('ssh', ['-G', '-F', '/dev/null', '-o', 'BatchMode=yes', 'x.invalid'], {
    encoding: 'utf8',
  }).stdout.includes('serveraliveinterval 300');
  assert.equal(
    JSON.parse(plan.stdout.toString()).keepalive,
    'injected',
    batchDefault ? "Debian's default is not the user's" : 'nothing set',
  );
  await writeFile(config, `Host h\n  HostName 127.0.0.1\n  BatchMode yes\n  ServerAliveInterval 300\n`);
  const own = await tborg(['plan', '--json', 'create', 'h:r::a', '/data'], [{}], { BORG_RSH: `ssh -F ${config}` });
  assert.equal(JSON.parse(own.stdout.toString()).keepalive, 'configured');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
