import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import {
  checkHolders,
  checkKeepalive,
  checkLocalBorg,
  checkLockWait,
  describeAge,
  doctorPlanArgs,
  formatCheck,
  interpretRepositoryProbe,
  interpretServerProbe,
  listCommand,
  parseExclusiveName,
  parseRoster,
  planRshWords,
  readLockHolders,
  lastingLockHolders,
  type LockHolder,
  repositoryProbe,
  runDoctor,
  splitDoctorWords,
  stderrLines,
  verdict,
  type Check,
  type CheckStatus,
  type KeepaliveSources,
  type ProbeResult,
  type ProcessRunner,
  type RunOptions,
} from '../../src/guide/doctor.js';
import type { CommandContext } from '../../src/cli/command-context.js';
import { buildPlan, type PlanInput } from '../../src/plan/plan.js';
import { readRsh, sshTarget } from '../../src/ssh/rsh.js';
import { splitArguments } from '../../src/cli/tborg-options.js';
import { Terminal } from '../../src/cli/terminal.js';

// Issue 6, `tborg doctor`: the pure parts as tables. The verdict, the argument, each check's reading
// of what ssh and borg said (borg 1.2.4's and OpenSSH 9.2's own messages, as measured in the lab),
// and the probe argv built from a real plan. One run of the whole thing with a fake process runner.

const c = (name: Check['name'], status: CheckStatus): Check => ({ name, status, detail: `${name} detail` });

describe('verdict', () => {
  const cases: Array<[string, Check[], number, string, RegExp]> = [
    ['nothing checked is healthy', [], 0, 'healthy', /^verdict: healthy, exit 0$/],
    ['all ok', [c('borg', 'ok'), c('keepalive', 'ok'), c('lock', 'ok')], 0, 'healthy', /healthy, exit 0/],
    ['skips do not count', [c('borg', 'ok'), c('keepalive', 'skip'), c('server', 'skip')], 0, 'healthy', /healthy/],
    ['a keepalive warning', [c('borg', 'ok'), c('keepalive', 'warn'), c('lock', 'ok')], 1, 'warnings', /with warnings \(keepalive\), exit 1$/],
    ['locked now', [c('keepalive', 'ok'), c('repository', 'skip'), c('lock', 'warn')], 1, 'warnings', /\(lock\), exit 1/],
    ['two warnings, in check order', [c('keepalive', 'warn'), c('lock', 'warn')], 1, 'warnings', /\(keepalive, lock\)/],
    ['unreachable', [c('keepalive', 'warn'), c('server', 'fail'), c('repository', 'skip')], 2, 'unusable', /cannot be reached or used \(server failed; warnings: keepalive\), exit 2$/],
    ['fail beats warn', [c('repository', 'fail'), c('lock', 'warn')], 2, 'unusable', /repository failed/],
    ['no borg', [c('borg', 'fail'), c('location', 'skip')], 2, 'unusable', /\(borg failed\)/],
  ];
  for (const [name, checks, exitCode, word, summary] of cases) {
    test(name, () => {
      const v = verdict(checks);
      assert.equal(v.exitCode, exitCode);
      assert.equal(v.verdict, word);
      assert.match(v.summary, summary);
      assert.deepEqual(v.lines, [...checks.map(formatCheck), v.summary]);
    });
  }

  test('one line per check: status in 6 columns, name in 11', () => {
    assert.equal(formatCheck({ name: 'keepalive', status: 'ok', detail: 'ServerAliveInterval 10' }), 'ok    keepalive  ServerAliveInterval 10');
    assert.equal(formatCheck({ name: 'repository', status: 'fail', detail: 'x' }), 'fail  repository x');
    assert.equal(formatCheck({ name: 'lock', status: 'warn', detail: 'y' }), 'warn  lock       y');
  });
});

describe('the argument', () => {
  const cases: Array<[string, string[], 1 | 2, { options?: string[]; repository: string | null; droppedArchive?: string | null; error?: string | null }, string[]?]> = [
    ['an ssh URL', ['ssh://h/r'], 1, { repository: 'ssh://h/r' }],
    ['scp style', ['h:r'], 1, { repository: 'h:r' }],
    ['--rsh with its value', ['--rsh', 'ssh -x', 'h:r'], 1, { options: ['--rsh', 'ssh -x'], repository: 'h:r' }],
    ['--rsh=value', ['--rsh=ssh -x', 'h:r'], 1, { options: ['--rsh=ssh -x'], repository: 'h:r' }],
    ['a flag takes no value', ['--debug', 'h:r'], 1, { options: ['--debug'], repository: 'h:r' }],
    ['--lock-wait N', ['--lock-wait', '5', 'h:r'], 1, { options: ['--lock-wait', '5'], repository: 'h:r' }],
    ['--remote-path after the repository', ['h:r', '--remote-path', 'borg1'], 1, { options: ['--remote-path', 'borg1'], repository: 'h:r' }],
    ['-r for borg 2', ['-r', 'ssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['--repo= for borg 2', ['--repo=ssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['-rREPO', ['-rssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['-r accepted for borg 1.x too', ['-r', 'h:r'], 1, { repository: 'h:r' }],
    ['::ARCHIVE dropped (borg 1.x)', ['h:r::monday'], 1, { repository: 'h:r', droppedArchive: 'monday' }],
    ['::ARCHIVE alone: BORG_REPO', ['::monday'], 1, { repository: '::', droppedArchive: 'monday' }],
    ['"::" kept for borg 2 (not its syntax: borg judges)', ['ssh://h/r::x'], 2, { repository: 'ssh://h/r::x' }],
    ['nothing: BORG_REPO', [], 1, { repository: null }],
    ['two repositories', ['a', 'b'], 1, { repository: null, error: 'one repository only, got a b' }],
    ['-r without a value', ['-r'], 2, { repository: null, error: '-r needs a repository' }],
    ['after --', ['--'], 1, { repository: '-odd' }, ['-odd']],
  ];
  for (const [name, words, major, expected, afterDashDash] of cases) {
    test(`splitDoctorWords: ${name}`, () => {
      const got = splitDoctorWords(words, major, afterDashDash ?? []);
      assert.deepEqual(got, {
        options: expected.options ?? [],
        repository: expected.repository,
        droppedArchive: expected.droppedArchive ?? null,
        error: expected.error ?? null,
      });
    });
  }

  test('the plan is of the command that lists archives, with the repository where borg wants it', () => {
    const split = splitDoctorWords(['--rsh', 'ssh -x', 'ssh://h/r'], 1);
    assert.deepEqual(doctorPlanArgs(split, 1, '1.2.4'), ['list', '--rsh', 'ssh -x', 'ssh://h/r']);
    const split2 = splitDoctorWords(['--remote-path', 'borg2', 'ssh://h/r'], 2);
    assert.deepEqual(doctorPlanArgs(split2, 2, '2.0.0b5'), ['rlist', '--remote-path', 'borg2', '-r', 'ssh://h/r']);
    assert.deepEqual(doctorPlanArgs(splitDoctorWords([], 2), 2, '2.0.0b5'), ['rlist']);
    assert.equal(listCommand(2, '2.0.0b14'), 'repo-list');
    assert.equal(listCommand(1, '1.4.0'), 'list');
  });
});

// ---------------------------------------------------------------------------------------------
// Plans built the way gatherPlanInput builds them, with ssh -G's answer given.

const defaults = splitArguments([], {}).options;

function planFor(args: string[], env: NodeJS.ProcessEnv, ssh: { interval: number; countMax: number; intervalIsDefault?: boolean } | null, major: 1 | 2 = 1, options = defaults) {
  const commandLine = parseBorgCommandLine(args, env, major);
  const loc = commandLine.repository!.location;
  const rsh = readRsh(commandLine.rsh?.value ?? null, env);
  const input: PlanInput = {
    args,
    env,
    options,
    borg: { path: major === 1 ? '/usr/bin/borg' : '/usr/bin/borg2', version: major === 1 ? '1.2.4' : '2.0.0b5', major },
    commandLine,
    ssh:
      ssh && loc.host
        ? {
            rsh,
            target: sshTarget(rsh.words, { user: loc.user, host: loc.host, port: loc.port }),
            configured: { interval: ssh.interval, countMax: ssh.countMax },
            intervalIsDefault: ssh.intervalIsDefault ?? false,
            hostBlock: null,
          }
        : null,
    nonSshRsh: null,
  };
  return { input, plan: buildPlan(input), commandLine };
}

const SSH_OPTS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];

describe('the repository probe argv', () => {
  test('injected keepalive in BORG_RSH, then doctor\'s options; --json --last 1 --lock-wait 5 before the repository', () => {
    const env = { BORG_RSH: 'ssh -F /cfg' };
    const args = ['list', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(args, env, { interval: 0, countMax: 3 });
    assert.equal(plan.keepalive, 'injected');
    assert.deepEqual(planRshWords(plan, commandLine, env), ['ssh', '-F', '/cfg', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=30']);
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords(['ssh://lab/r'], 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5', 'ssh://lab/r']);
    assert.equal(probe.env.BORG_RSH, 'ssh -F /cfg -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10');
  });

  test('the user\'s --rsh is where the options go (borg prefers it to BORG_RSH)', () => {
    const env = { BORG_RSH: 'ssh -v' };
    const words = ['--rsh', 'ssh -F /c', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], env, { interval: 20, countMax: 3 });
    assert.equal(plan.keepalive, 'configured');
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, ['list', '--rsh', 'ssh -F /c -o BatchMode=yes -o ConnectTimeout=10', '--json', '--last', '1', '--lock-wait', '5', 'ssh://lab/r']);
    assert.equal(probe.env.BORG_RSH, undefined);
  });

  test('--rsh=value form, keepalive injected into it', () => {
    const words = ['--rsh=ssh -F /c', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], {}, { interval: 0, countMax: 3 });
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.equal(probe.argv[1], '--rsh=ssh -F /c -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10');
  });

  test('the user\'s --lock-wait stays in the plan but the probe\'s comes later and wins', () => {
    const words = ['--lock-wait', '600', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], {}, { interval: 10, countMax: 30 });
    assert.equal(plan.lockWait.seconds, 600);
    assert.equal(plan.lockWait.userGiven, true);
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv.slice(-3), ['--lock-wait', '5', 'ssh://lab/r']);
    const reparsed = parseBorgCommandLine(probe.argv, { BORG_RSH: probe.env.BORG_RSH }, 1);
    assert.equal(reparsed.lockWait, 5);
    assert.equal(reparsed.invalid, null);
  });

  test('a local repository: no ssh options, no BORG_RSH', () => {
    const { plan, commandLine } = planFor(['list', '/srv/r'], {}, null);
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(['/srv/r'], 1), 1, null);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5', '/srv/r']);
    assert.deepEqual(probe.env, {});
  });

  test('borg 2: rlist ... -r REPO', () => {
    const words = ['--remote-path', 'borg2', 'ssh://lab/r'];
    const split = splitDoctorWords(words, 2);
    const args = doctorPlanArgs(split, 2, '2.0.0b5');
    const { plan, commandLine } = planFor(args, {}, { interval: 10, countMax: 30 }, 2);
    const probe = repositoryProbe(plan, commandLine, {}, split, 2, SSH_OPTS);
    assert.deepEqual(probe.argv, ['rlist', '--remote-path', 'borg2', '--json', '--last', '1', '--lock-wait', '5', '-r', 'ssh://lab/r']);
    assert.equal(parseBorgCommandLine(probe.argv, probe.env, 2).invalid, null);
  });

  test('BORG_REPO alone', () => {
    const env = { BORG_REPO: 'ssh://lab/r' };
    const { plan, commandLine } = planFor(['list'], env, { interval: 10, countMax: 30 });
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords([], 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5']);
  });
});

describe('keepalive and lock-wait checks', () => {
  const sources: KeepaliveSources = { interval: '~/.ssh/config:12 (Host lab)', countMax: '~/.ssh/config:13 (Host lab)', configFile: '/root/.ssh/config', explicitConfig: false };

  test('configured: where each value comes from', () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkKeepalive(plan, input, sources);
    assert.equal(check.status, 'ok');
    assert.equal(
      check.detail,
      'ServerAliveInterval 10 from ~/.ssh/config:12 (Host lab), ServerAliveCountMax 30 from ~/.ssh/config:13 (Host lab): ssh gives up on a silent server after (30+1) x 10 = 310 s; tborg adds nothing',
    );
  });

  test('configured with ssh\'s default count', () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 15, countMax: 3 });
    const check = checkKeepalive(plan, input, { ...sources, countMax: null });
    assert.match(check.detail, /ServerAliveCountMax 3 \(ssh's default\): ssh gives up on a silent server after \(3\+1\) x 15 = 60 s/);
  });

  test('none of the user\'s: warn, say what is injected and how to make it permanent', () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], { BORG_RSH: 'ssh -F /c' }, { interval: 0, countMax: 3 });
    const check = checkKeepalive(plan, input, { interval: null, countMax: null, configFile: '/c', explicitConfig: true });
    assert.equal(check.status, 'warn');
    assert.equal(
      check.detail,
      'your ssh config sets no keepalive for lab; tborg injects ServerAliveInterval 10, ServerAliveCountMax 30 into BORG_RSH (ssh gives up on a silent server after (30+1) x 10 = 310 s); to make it yours: tborg ssh-config lab --config /c --write',
    );
    assert.equal(check.data?.state, 'injected');
  });

  test('Debian\'s BatchMode default of 300 is not the user\'s', () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 300, countMax: 3, intervalIsDefault: true });
    const check = checkKeepalive(plan, input, sources);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /its ServerAliveInterval 300 is Debian's default for BatchMode yes/);
    assert.match(check.detail, /tborg ssh-config lab --write$/);
  });

  test('--tborg-keepalive-mode warn and off: warn, nothing injected', () => {
    for (const mode of ['warn', 'off'] as const) {
      const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 0, countMax: 3 }, 1, { ...defaults, keepaliveMode: mode });
      const check = checkKeepalive(plan, input, null);
      assert.equal(check.status, 'warn');
      assert.match(check.detail, new RegExp(`--tborg-keepalive-mode ${mode}: nothing injected`));
    }
  });

  test('a local repository: not applicable', () => {
    const { plan, input } = planFor(['list', '/srv/r'], {}, null);
    assert.deepEqual([checkKeepalive(plan, input, null).status, checkKeepalive(plan, input, null).detail], ['skip', 'not applicable: local repository']);
  });

  test('an rsh that is not ssh: warn', () => {
    const { input } = planFor(['list', 'ssh://lab/r'], {}, null);
    input.nonSshRsh = { words: ['sh', '-c', 'exec socat - TCP:x:1'], source: 'BORG_RSH' };
    const check = checkKeepalive(buildPlan(input), input, null);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /^BORG_RSH \(sh -c 'exec socat - TCP:x:1'\) is not ssh/);
  });

  test('lock wait: the plan\'s number and its reasons', () => {
    const { plan } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkLockWait(plan, { serverAliveGiven: false });
    assert.equal(check.status, 'ok');
    assert.match(check.detail, /^10m40s: max\(\(30\+1\)x10, 2x\(30\+1\)x10\) \+ 20 = 640 s: your ssh gives up after 310 s, a stale borg serve is gone ~620 s after a drop \(server ClientAlive 10 x 30, assumed/);
    assert.equal(check.data?.seconds, 640);
  });

  test('lock wait: a --lock-wait shorter than a stale borg serve can last is a warning', () => {
    const { plan } = planFor(['list', '--lock-wait', '30', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkLockWait(plan, { serverAliveGiven: false });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /^30s \(your --lock-wait\).*--lock-wait 30 is shorter than/);
  });

  test('lock wait: a server without ClientAlive is a warning', () => {
    const { plan } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 }, 1, { ...defaults, serverAlive: null });
    const check = checkLockWait(plan, { serverAliveGiven: true });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /TCP keepalive.*no ClientAliveInterval/);
  });
});

describe('the local borg', () => {
  test('found', () => {
    assert.deepEqual(
      [checkLocalBorg({ path: '/usr/bin/borg', version: '1.2.4', error: null, fromOption: false, skippedTborg: ['/usr/local/bin/borg'] })].map((x) => [x.status, x.detail]),
      [['ok', '/usr/bin/borg 1.2.4, not tborg; skipped /usr/local/bin/borg (tborg itself)']],
    );
  });
  test('none', () => {
    const check = checkLocalBorg({ path: null, version: null, error: 'no borg found on PATH; install BorgBackup', fromOption: false, skippedTborg: [] });
    assert.deepEqual([check.status, check.detail], ['fail', 'no borg found on PATH; install BorgBackup']);
  });
  test('no version', () => {
    assert.equal(checkLocalBorg({ path: '/x/borg', version: null, error: null, fromOption: true, skippedTborg: [] }).status, 'warn');
  });
});

// ---------------------------------------------------------------------------------------------
// What ssh and borg said.

const probe = (over: Partial<ProbeResult>): ProbeResult => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 420, ...over });
const serverCtx = { host: 'lab', remotePath: 'borg', localMajor: 1 as const, timeoutSeconds: 30 };

describe('the server probe (ssh HOST borg --version)', () => {
  const cases: Array<[string, Partial<ProbeResult>, CheckStatus, RegExp]> = [
    ['borg answers', { stdout: 'borg 1.2.4\n' }, 'ok', /^reachable in 0\.4 s; the server runs borg 1\.2\.4 \(borg\)$/],
    ['a borg2 binary answers', { stdout: 'borg2 2.0.0b5\n' }, 'warn', /the server runs borg 2\.0\.0b5, this borg is 1\.x/],
    ['refused', { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n' }, 'fail', /^cannot reach lab: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused$/],
    ['black-holed', { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 2222: Connection timed out\r\n' }, 'fail', /^cannot reach lab: .*Connection timed out$/],
    ['unknown name', { exitCode: 255, stderr: 'ssh: Could not resolve hostname nope: Name or service not known\r\n' }, 'fail', /^cannot reach lab: ssh: Could not resolve hostname/],
    ['no key', { exitCode: 255, stderr: 'root@127.0.0.1: Permission denied (publickey).\r\n' }, 'fail', /^cannot log in to lab without a prompt \(BatchMode\)/],
    ['unknown host key', { exitCode: 255, stderr: 'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n' }, 'fail', /host key is not known or has changed/],
    ['no answer in time', { exitCode: null, timedOut: true }, 'fail', /^no answer from lab within 30 s$/],
    ['no borg there', { exitCode: 127, stderr: 'bash: line 1: borg: command not found\n' }, 'fail', /^reachable, but the server has no borg: bash: line 1: borg: command not found; give --remote-path/],
    ['a forced command that is not borg serve', { stdout: 'hi\n' }, 'ok', /^reachable in 0\.4 s; remote command restricted \(forced command\?\): `borg --version` answered "hi"; which borg runs there is unknown$/],
    ['a forced command that prints nothing', { stdout: '', exitCode: 1 }, 'ok', /remote command restricted .*printed nothing, exit 1/],
    ['ssh missing', { exitCode: null, spawnError: 'spawn ssh ENOENT' }, 'fail', /^cannot run ssh: spawn ssh ENOENT$/],
    ['a known-hosts notice is noise', { stdout: 'borg 1.2.4\n', stderr: "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\r\n" }, 'ok', /runs borg 1\.2\.4/],
  ];
  for (const [name, over, status, detail] of cases) {
    test(name, () => {
      const check = interpretServerProbe(probe(over), serverCtx);
      assert.equal(check.name, 'server');
      assert.equal(check.status, status, check.detail);
      assert.match(check.detail, detail);
    });
  }
  test('borg 2 locally, borg 1 there: hint at --remote-path', () => {
    const check = interpretServerProbe(probe({ stdout: 'borg 1.2.4\n' }), { ...serverCtx, localMajor: 2 });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /borg 2 needs a borg 2 server: --remote-path/);
  });
});

const repoCtx = { command: 'borg list', env: { BORG_CACHE_DIR: '/home/u/.cache/borg' }, home: '/home/u', timeoutSeconds: 60, now: new Date('2026-11-26T06:00:00Z') };
const LIST_JSON = JSON.stringify({
  archives: [{ name: 'host-2026-11-26', time: '2026-11-26T03:00:00.000000', id: 'ab' }],
  encryption: { mode: 'repokey' },
  repository: { id: 'f00e', last_modified: '2026-11-26T03:00:01.000000', location: 'ssh://lab/r' },
});

describe('the repository probe (borg list --json --last 1 --lock-wait 5)', () => {
  const cases: Array<[string, Partial<ProbeResult>, CheckStatus, RegExp, CheckStatus, RegExp]> = [
    ['opens', { stdout: LIST_JSON }, 'ok', /^opens \(encryption repokey, 0\.4 s\); newest archive host-2026-11-26 from 2026-11-26T03:00:00 \(\d+ h ago\)$/, 'ok', /^not locked: borg list got its lock \(readers/],
    ['empty', { stdout: JSON.stringify({ archives: [], encryption: { mode: 'none' }, repository: { id: 'x' } }) }, 'ok', /no archives yet$/, 'ok', /not locked/],
    ['held by another client', { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n' }, 'skip', /not opened: it is locked/, 'warn', /^locked now \(repository lock \/srv\/r\/lock\.exclusive\): another borg is using it, or a stale borg serve/],
    ['shared readers block', { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock (timeout).\n' }, 'skip', /locked/, 'warn', /repository lock \/srv\/r\/lock\)/],
    ['the local cache lock', { exitCode: 2, stderr: 'Failed to create/acquire the lock /home/u/.cache/borg/f00e/lock.exclusive (timeout).\n' }, 'skip', /locked/, 'warn', /^locked now \(cache lock \/home\/u\/\.cache\/borg\/f00e\/lock\.exclusive\): another borg on this machine/],
    ['--log-json lock timeout', { exitCode: 2, stderr: '{"type": "log_message", "msgid": "LockTimeout", "message": "Failed to create/acquire the lock /srv/r/lock.exclusive (timeout)."}\n' }, 'skip', /locked/, 'warn', /repository lock \/srv\/r\/lock\.exclusive/],
    ['modern exit code 73', { exitCode: 73, stderr: '' }, 'skip', /locked/, 'warn', /^locked now \(repository lock\)/],
    ['does not exist', { exitCode: 2, stderr: 'Repository ssh://lab/nope does not exist.\n' }, 'fail', /^does not exist: Repository ssh:\/\/lab\/nope does not exist\.$/, 'skip', /no repository/],
    ['not a repository', { exitCode: 2, stderr: '/srv/x is not a valid repository. Check repo config.\n' }, 'fail', /^not a borg repository/, 'skip', /no repository/],
    ['wrong passphrase: the lock was free', { exitCode: 2, stderr: 'passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.\n' }, 'fail', /^wrong passphrase/, 'ok', /not locked/],
    ["wrong passphrase, borg 1.4.5's capital P, legacy exit code", { exitCode: 2, stderr: 'Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.\n' }, 'fail', /^wrong passphrase/, 'ok', /not locked/],
    ['no passphrase, no terminal', { exitCode: 2, stderr: '/usr/lib/python3.11/getpass.py:91: GetPassWarning: Can not control echo on the terminal.\nWarning: Password input may be echoed.\nEnter passphrase for key ssh://lab/enc: can not acquire a passphrase: BORG_PASSPHRASE is not set. BORG_PASSCOMMAND is not set. Interactive password query failed.\n' }, 'fail', /^needs a passphrase and none is given/, 'ok', /not locked/],
    ['unknown unencrypted repository', { exitCode: 2, stderr: 'Warning: Attempting to access a previously unknown unencrypted repository!\nDo you want to continue? [yN] Aborting.\nCache initialization aborted\n' }, 'fail', /BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes/, 'ok', /not locked/],
    ['relocated', { exitCode: 2, stderr: 'Warning: The repository at location ssh://a/r was previously located at ssh://b/r\nDo you want to continue? [yN] Aborting.\n' }, 'fail', /BORG_RELOCATED_REPO_ACCESS_IS_OK=yes/, 'ok', /not locked/],
    ['no borg on the server', { exitCode: 2, stderr: 'Remote: bash: line 1: borgx: command not found\nConnection closed by remote host. Is borg working on the server?\n' }, 'fail', /^borg serve did not work on the server: Remote: bash: line 1: borgx: command not found; Connection closed by remote host\. Is borg working on the server\?$/, 'skip', /no connection/],
    ['restricted path', { exitCode: 2, stderr: 'Repository path not allowed: /srv/other\n' }, 'fail', /refuses this path/, 'skip', /not checked/],
    ['borg 2 client, borg 1 server', { exitCode: 2, stderr: 'Borg server is too old for info. Required version 2.0.0a3\n' }, 'fail', /too old for this borg/, 'skip', /not checked/],
    ['no answer in time', { exitCode: null, timedOut: true }, 'fail', /^borg list did not finish within 60 s$/, 'skip', /did not finish/],
    ['anything else', { exitCode: 2, stderr: 'Local Exception\nTraceback...\nKeyError: x\n' }, 'fail', /^borg list failed \(exit 2\): Traceback\.\.\.; KeyError: x$/, 'skip', /not checked/],
    ['a warning', { exitCode: 1, stdout: LIST_JSON, stderr: 'some warning\n' }, 'warn', /borg warned: some warning/, 'ok', /not locked/],
    ['borg missing', { exitCode: null, spawnError: 'spawn /x/borg ENOENT' }, 'fail', /^cannot run borg: spawn \/x\/borg ENOENT$/, 'skip', /not checked/],
  ];
  for (const [name, over, repoStatus, repoDetail, lockStatus, lockDetail] of cases) {
    test(name, () => {
      const out = interpretRepositoryProbe(probe(over), repoCtx);
      assert.equal(out.repository.status, repoStatus, out.repository.detail);
      assert.match(out.repository.detail, repoDetail);
      assert.equal(out.lock.status, lockStatus, out.lock.detail);
      assert.match(out.lock.detail, lockDetail);
    });
  }
  // borg2 b25 over rest (store locks): borg2 names the holder (storelocking.py format_locks).
  test('borg2 store lock: the holder borg2 names, and the 30-minute rule', () => {
    const stderr = 'Failed to create/acquire the lock ssh://lab//srv/r (timeout). Repository is locked by: exclusive lock on host vm@42, pid 77, age 12 seconds.\n';
    const out = interpretRepositoryProbe(probe({ exitCode: 73, stderr }), { ...repoCtx, storeLock: true });
    assert.equal(out.lock.status, 'warn');
    assert.match(out.lock.detail, /held by exclusive lock on host vm@42, pid 77, age 12 seconds; borg2 keeps a vanished client's lock in the repository until it is 30m0s old/);
    assert.equal((out.lock.data as { holders?: string }).holders, 'exclusive lock on host vm@42, pid 77, age 12 seconds');
  });
  test('the repository id comes from borg\'s JSON (for the cache lock)', () => {
    assert.equal(interpretRepositoryProbe(probe({ stdout: LIST_JSON }), repoCtx).repositoryId, 'f00e');
    assert.equal(interpretRepositoryProbe(probe({ stdout: 'not json' }), repoCtx).repositoryId, null);
  });
});

describe('lock files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tborg-doctor-locks-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('names and rosters as borg writes them', () => {
    assert.deepEqual(parseExclusiveName('host.example.org@1234567.4242-0'), { host: 'host.example.org@1234567', pid: 4242, kind: 'exclusive' });
    assert.equal(parseExclusiveName('junk'), null);
    assert.deepEqual(parseRoster('{"shared": [["h@1", 7, 0]], "exclusive": []}'), [{ host: 'h@1', pid: 7, kind: 'shared' }]);
    assert.deepEqual(parseRoster('{not json'), []);
    assert.deepEqual(parseRoster('[]'), []);
  });

  test('read from a directory: the exclusive holder once, then shared ones', async () => {
    const lockDir = join(dir, 'cache-id');
    await mkdir(join(lockDir, 'lock.exclusive'), { recursive: true });
    await writeFile(join(lockDir, 'lock.exclusive', 'h@1.99-0'), '');
    await writeFile(join(lockDir, 'lock.roster'), JSON.stringify({ exclusive: [['h@1', 99, 0]], shared: [['g@2', 5, 0]] }));
    assert.deepEqual(readLockHolders(lockDir), [
      { host: 'h@1', pid: 99, kind: 'exclusive' },
      { host: 'g@2', pid: 5, kind: 'shared' },
    ]);
    assert.deepEqual(readLockHolders(join(dir, 'none')), []);
  });

  test("only holders still there after a pause count: another borg's moment on the lock is not a lock", async () => {
    const a: LockHolder = { host: 'h@1', pid: 10, kind: 'exclusive' };
    const b: LockHolder = { host: 'h@1', pid: 11, kind: 'shared' };
    const c: LockHolder = { host: 'h@1', pid: 12, kind: 'exclusive' };
    const reads = (...answers: LockHolder[][]) => {
      const log: string[] = [];
      let i = 0;
      return {
        log,
        read: (d: string) => {
          log.push(`read ${d}`);
          return answers[i++] ?? [];
        },
        sleep: async (ms: number) => {
          log.push(`sleep ${ms}`);
        },
      };
    };
    // Nobody: one read, no pause.
    let r = reads([]);
    assert.deepEqual(await lastingLockHolders('/c', 1500, r.read, r.sleep), []);
    assert.deepEqual(r.log, ['read /c']);
    // A borg list's moment on the cache lock (a), gone by the second read; b stays; c came later.
    r = reads([a, b], [b, c]);
    assert.deepEqual(await lastingLockHolders('/c', 1500, r.read, r.sleep), [b]);
    assert.deepEqual(r.log, ['read /c', 'sleep 1500', 'read /c']);
    // The same pid in another role is another holder.
    r = reads([a], [{ ...a, kind: 'shared' }]);
    assert.deepEqual(await lastingLockHolders('/c', 10, r.read, r.sleep), []);
    // Real files and the real pause: a lock directory that stays is reported.
    const lockDir = join(dir, 'lasting');
    await mkdir(join(lockDir, 'lock.exclusive'), { recursive: true });
    await writeFile(join(lockDir, 'lock.exclusive', 'h@1.99-0'), '');
    assert.deepEqual(await lastingLockHolders(lockDir, 20), [{ host: 'h@1', pid: 99, kind: 'exclusive' }]);
  });

  test('a holder makes the lock check a warning', () => {
    assert.equal(checkHolders('cache', '/c/lock.exclusive', [], () => null), null);
    const check = checkHolders('cache', '/c/id/lock.exclusive', [{ host: 'box.lan@1', pid: 42, kind: 'exclusive' }], () => true)!;
    assert.equal(check.status, 'warn');
    assert.equal(check.detail, 'locked now (cache lock /c/id/lock.exclusive: exclusive lock of pid 42 on box.lan, running): another borg on this machine uses its cache of this repository');
    const stale = checkHolders('repository', '/r/lock.roster', [{ host: 'box@1', pid: 42, kind: 'shared' }], () => false)!;
    assert.match(stale.detail, /gone: stale, borg removes it itself\): a reader/);
  });
});

describe('small pieces', () => {
  test('stderr lines: CRLF, blank lines, --log-json', () => {
    assert.deepEqual(stderrLines('a\r\n\r\nb\n{"type": "log_message", "message": "c"}\n{x\n'), ['a', 'b', 'c', '{x']);
  });
  const now = new Date('2026-01-02T12:00:00Z');
  const ages: Array<[string, string]> = [
    ['2026-01-02T11:59:30Z', 'just now'],
    ['2026-01-02T11:20:00Z', '40 min ago'],
    ['2026-01-02T02:00:00Z', '10 h ago'],
    ['2025-12-26T12:00:00Z', '7 d ago'],
    ['2026-01-02T13:00:00Z', 'in the future (clock skew?)'],
    ['garbage', 'at an unknown time'],
  ];
  for (const [then, text] of ages) test(`describeAge ${then}`, () => assert.equal(describeAge(new Date(then), now), text));
});

// ---------------------------------------------------------------------------------------------
// The whole run with a fake runner: a fake borg for --version, the real `ssh -G` (never connects).

const sshAvailable = spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;

describe('runDoctor with a fake process runner', { skip: sshAvailable ? false : 'no ssh client' }, () => {
  let dir = '';
  let fakeBorg = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tborg-doctor-run-'));
    fakeBorg = join(dir, 'borg');
    await writeFile(fakeBorg, '#!/bin/sh\necho "borg 1.2.4"\n');
    await chmod(fakeBorg, 0o755);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  function context(env: NodeJS.ProcessEnv): { context: CommandContext; out: () => string } {
    let text = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) });
    const fullEnv = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), TBORG_BORG: fakeBorg, ...env };
    return {
      context: { args: [], options: splitArguments([], fullEnv).options, env: fullEnv, terminal: new Terminal({ stdout: sink, stderr: sink }), selfPaths: [] },
      out: () => text,
    };
  }

  // Answers by program: ssh -> the server probe, borg -> the repository probe. Records each call.
  function runner(answers: { ssh?: Partial<ProbeResult>; borg?: Partial<ProbeResult> }): { run: ProcessRunner; calls: Array<{ file: string; args: readonly string[]; options: RunOptions }> } {
    const calls: Array<{ file: string; args: readonly string[]; options: RunOptions }> = [];
    const run: ProcessRunner = async (file, args, options) => {
      calls.push({ file, args, options });
      if (file === 'ssh') return probe(answers.ssh ?? { stdout: 'borg 1.2.4\n' });
      // The repository probe ends early when it is aborted, as the real runner does.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (options.signal?.aborted) return probe({ exitCode: null, timedOut: true });
      return probe(answers.borg ?? { stdout: LIST_JSON });
    };
    return { run, calls };
  }

  const RSH = 'ssh -F /dev/null -o ServerAliveInterval=10 -o ServerAliveCountMax=30';

  test('healthy: every check ok, exit 0; both probes run with doctor\'s ssh options', async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run, calls } = runner({});
    const lines: string[] = [];
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run, onCheck: (check) => lines.push(formatCheck(check)) });
    assert.deepEqual(report.checks.map((x) => [x.name, x.status]), [
      ['borg', 'ok'], ['location', 'ok'], ['keepalive', 'ok'], ['lock-wait', 'ok'], ['server', 'ok'], ['repository', 'ok'], ['lock', 'ok'],
    ]);
    assert.equal(report.verdict.exitCode, 0);
    assert.equal(lines.length, 7);
    assert.match(lines[2]!, /^ok {4}keepalive {2}ServerAliveInterval 10 from BORG_RSH \(-o ServerAliveInterval=10\), ServerAliveCountMax 30 from BORG_RSH \(-o ServerAliveCountMax=30\)/);
    const ssh = calls.find((x) => x.file === 'ssh')!;
    assert.deepEqual([...ssh.args], ['-F', '/dev/null', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=30', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', 'lab.invalid', 'borg', '--version']);
    const borg = calls.find((x) => x.file === fakeBorg)!;
    assert.deepEqual([...borg.args], ['list', '--json', '--last', '1', '--lock-wait', '5', 'ssh://lab.invalid/srv/r']);
    assert.equal(borg.options.env.BORG_RSH, `${RSH} -o BatchMode=yes -o ConnectTimeout=10`);
    assert.deepEqual(report.planArgs, ['list', 'ssh://lab.invalid/srv/r']);
  });

  test('unreachable: exit 2, the repository probe is stopped and its checks skipped', async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run, calls } = runner({ ssh: { exitCode: 255, stderr: 'ssh: connect to host lab.invalid port 22: Connection refused\r\n' } });
    const report = await runDoctor(ctx, ['--remote-path', 'borg-1.2', 'ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 2);
    assert.deepEqual(report.checks.slice(4).map((x) => [x.name, x.status]), [['server', 'fail'], ['repository', 'skip'], ['lock', 'skip']]);
    assert.equal(calls.find((x) => x.file === fakeBorg)!.options.signal?.aborted, true);
    assert.deepEqual(calls.find((x) => x.file === 'ssh')!.args.slice(-2), ['borg-1.2', '--version']);
  });

  test('no keepalive of the user\'s: exit 1, tborg\'s injected into the probes as into a run', async () => {
    const { context: ctx } = context({ BORG_RSH: 'ssh -F /dev/null' });
    const { run, calls } = runner({});
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 1);
    assert.equal(report.checks.find((x) => x.name === 'keepalive')!.status, 'warn');
    assert.equal(calls.find((x) => x.file === fakeBorg)!.options.env.BORG_RSH, 'ssh -F /dev/null -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10');
  });

  test('locked: exit 1', async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run } = runner({ borg: { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n' } });
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 1);
    assert.match(report.checks.at(-1)!.detail, /^locked now \(repository lock \/srv\/r\/lock\.exclusive\)/);
  });

  test('bad arguments: exit 2 without running anything', async () => {
    for (const words of [['a', 'b'], [], ['--no-such-option', 'ssh://h/r']]) {
      const { context: ctx } = context({ BORG_RSH: RSH });
      const { run, calls } = runner({});
      const report = await runDoctor(ctx, words, [], { run });
      assert.equal(report.verdict.exitCode, 2, words.join(' '));
      assert.equal(report.checks.find((x) => x.name === 'location')!.status, 'fail');
      assert.equal(calls.length, 0);
      assert.equal(report.checks.length, 7);
    }
  });

  test('a local repository: no ssh at all', async () => {
    const { context: ctx } = context({});
    const { run, calls } = runner({});
    const report = await runDoctor(ctx, [join(dir, 'repo')], [], { run });
    assert.deepEqual(calls.map((x) => x.file), [fakeBorg]);
    assert.deepEqual(report.checks.map((x) => x.status), ['ok', 'ok', 'skip', 'ok', 'skip', 'ok', 'ok']);
    assert.equal(report.verdict.exitCode, 0);
  });
});
