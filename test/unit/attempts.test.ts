import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runAttempts, type AttemptDeps } from '../../src/run/attempts.js';
import { StderrScanner } from '../../src/borg/words/stderr-scanner.js';
import type { Plan } from '../../src/plan/plan.js';
import type { AttemptResult } from '../../src/run/borg-process.js';
import { Terminal } from '../../src/cli/terminal.js';
import { RETRY_DEFAULTS } from '../helpers/plan-retry.js';

// The retry schedule, driven by a fake clock and scripted borg attempts: no real waiting.

function plan(overrides: Partial<Plan['retry']> = {}, lockWait: Partial<Plan['lockWait']> = {}): Plan {
  return {
    borg: { path: '/usr/bin/borg', version: '1.2.4', major: 1, argv: [] },
    env: {},
    repository: { location: 'ssh://h/srv/r', proto: 'ssh', user: null, host: 'h', port: null, path: '/srv/r', archive: null },
    ssh: null,
    keepalive: 'injected',
    lockWait: {
      seconds: 60,
      userGiven: false,
      userSource: null,
      attemptSeconds: 10,
      model: {
        kind: 'serve',
        why: 'w',
        clientBound: 20,
        serverBound: 40,
        margin: 20,
        seconds: 60,
        formula: 'f',
        serverAlive: { interval: 3, countMax: 3 },
        tcpKeepaliveFallback: false,
      },
      ...lockWait,
    },
    retry: {
      ...RETRY_DEFAULTS,
      ...overrides,
    },
    command: ['create'],
    baseArgv: ['create', 'ssh://h/srv/r::a', '/data'],
    warnings: [],
  };
}

// seconds: how long the attempt runs; 'wait': as real borg does on a held lock, its --lock-wait plus
// one second of start-up (ssh, python).
type Step = { rc: number; stderr: string; seconds: number | 'wait' };
const LOCK = { rc: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n', seconds: 10 };
const LOST = { rc: 2, stderr: 'Remote: Timeout, server h not responding.\nConnection closed by remote host\n', seconds: 3 };
const OK = { rc: 0, stderr: '', seconds: 5 };
const HELD = { ...LOCK, seconds: 'wait' as const };

function harness(steps: Step[], options: { stopAfter?: number; during?: (attempt: number) => void; terminal?: Terminal } = {}) {
  let clock = 1_000_000;
  const argvs: string[][] = [];
  const sleeps: number[] = [];
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const controller = new AbortController();
  let stopped: 'SIGTERM' | undefined;
  // Assigned below; the scripted attempt writes borg's stderr through deps.terminal.
  let deps: AttemptDeps;
  deps = {
    attempt: async (argv, _env, opts) => {
      argvs.push(argv);
      const step = steps.shift();
      if (!step) throw new Error('no more scripted attempts');
      options.during?.(argvs.length);
      const at = argv.indexOf('--lock-wait');
      const seconds = step.seconds === 'wait' ? Number(argv[at + 1]) + 1 : step.seconds;
      clock += seconds * 1000;
      if (options.stopAfter === argvs.length) {
        stopped = 'SIGTERM';
        controller.abort();
      }
      const s = new StderrScanner();
      s.feed(Buffer.from(step.stderr));
      // As run-borg.ts does with holdLockMessage: borg's lock message is held back for tborg to decide.
      const lockAt = opts.holdLockMessage ? step.stderr.indexOf('Failed to create/acquire the lock') : -1;
      if (lockAt > 0) deps.terminal.passthrough(Buffer.from(step.stderr.slice(0, lockAt)));
      if (lockAt === -1) deps.terminal.passthrough(Buffer.from(step.stderr));
      const held = Buffer.from(lockAt === -1 ? '' : step.stderr.slice(lockAt));
      return { exitCode: step.rc, findings: s.end(), durationMs: seconds * 1000, held } satisfies AttemptResult;
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    signal: controller.signal,
    stoppedBy: () => stopped,
    terminal: options.terminal ?? new Terminal({ stdout: new PassThrough(), stderr }),
    spinDuringAttempts: true,
    home: '/home/tborg-test',
  };
  return { deps, argvs, sleeps, stderr, output: () => text, elapsed: () => clock - 1_000_000, advance: (ms: number) => (clock += ms) };
}

test('a held lock is waited out: retried until borg gets it, exit code is the successful one', async () => {
  const h = harness([LOCK, LOCK, OK]);
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 0);
  assert.equal(out.attempts, 3);
  assert.deepEqual(h.argvs[0], ['--lock-wait', '10', 'create', 'ssh://h/srv/r::a', '/data']);
  // Attempts that waited inside borg are followed almost at once.
  assert.ok(
    h.sleeps.every((ms) => ms < 300),
    `${h.sleeps}`,
  );
  // Not a terminal: one plain timestamped line per wait, no escape codes or \r. borg's own lock
  // message of the attempts tborg retried is not shown: it stopped being true.
  const lines = h.output().trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ tborg: waiting for the lock on ssh:\/\/h\/srv\/r, 10s of 1m0s, attempt 2$/);
  assert.doesNotMatch(h.output(), /\r|\x1b/);
});

test("the deadline ends the wait with borg's exit code and one explanation", async () => {
  const h = harness(Array.from({ length: 10 }, () => LOCK));
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(out.lastKind, 'lock-timeout');
  assert.ok(h.elapsed() >= 60_000 && h.elapsed() < 75_000, `${h.elapsed()}`);
  assert.match(
    h.output(),
    /gave up after waiting 1m\d+s over \d attempts: the repository lock \/srv\/r\/lock.exclusive on h is still held/,
  );
  // borg's own error of the last attempt stands, once, before tborg's explanation.
  assert.equal(h.output().split('Failed to create/acquire the lock').length, 2);
  assert.ok(h.output().indexOf('Failed to create/acquire') < h.output().indexOf('gave up after'));
  assert.match(h.output(), /borg break-lock ssh:\/\/h\/srv\/r` is safe only when/);
});

test('later attempts never wait in borg past the deadline', async () => {
  const h = harness(Array.from({ length: 10 }, () => HELD));
  await runAttempts(plan({ deadlineSeconds: 25 }, { seconds: 25, attemptSeconds: 10 }), {}, h.deps);
  const waits = h.argvs.map((a) => Number(a[1]));
  assert.ok(
    waits.every((w) => w >= 1 && w <= 14),
    `${waits}`,
  );
  // Start-up included, the last attempt ends by the deadline (25 s), not one attempt later.
  assert.ok(h.elapsed() <= 25_000, `${h.elapsed()} ms, waits ${waits}`);
  assert.ok(h.elapsed() >= 20_000, `${h.elapsed()} ms: gave up early`);
});

test('--tborg-max-wait 15: the last attempt is cut to fit, and the counts agree', async () => {
  const h = harness(Array.from({ length: 10 }, () => HELD));
  const out = await runAttempts(plan({ deadlineSeconds: 15 }, { seconds: 640, attemptSeconds: 10 }), {}, h.deps);
  assert.equal(out.lastKind, 'lock-timeout');
  // By 15 s plus at most one of borg's polls, not 20 s.
  assert.ok(h.elapsed() <= 16_000, `${h.elapsed()} ms, waits ${h.argvs.map((a) => a[1])}`);
  assert.deepEqual(
    h.argvs.map((a) => a[1]),
    ['10', '2'],
  );
  // Every "attempt N" announced ran, and the give-up message counts the same attempts.
  const announced = [...h.output().matchAll(/attempt (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(announced, [2]);
  assert.match(h.output(), new RegExp(`over ${out.attempts} attempts`));
  assert.equal(out.attempts, h.argvs.length);
  assert.match(h.output(), /gave up after waiting 1[45]s over 2 attempts/);
});

test('other failures are never retried', async () => {
  const h = harness([{ rc: 2, stderr: 'passphrase supplied in BORG_PASSPHRASE is incorrect.\n', seconds: 1 }]);
  const out = await runAttempts(plan(), {}, h.deps);
  // borg's output, untouched, and not a word from tborg.
  assert.deepEqual([out.exitCode, out.attempts, h.output()], [2, 1, 'passphrase supplied in BORG_PASSPHRASE is incorrect.\n']);
});

test('a lost connection is retried a bounded number of times, and the wait restarts to cover the server bound', async () => {
  const h = harness([LOST, LOST, LOST, LOST, OK]);
  const out = await runAttempts(plan({ connectionRetries: 3 }), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(out.attempts, 4);
  assert.equal((h.output().match(/connection to h was lost; retrying/g) ?? []).length, 3);
  // Quick failures back off, growing.
  assert.ok(h.sleeps.length === 3 && h.sleeps[0]! < h.sleeps[1]! && h.sleeps[1]! < h.sleeps[2]!, `${h.sleeps}`);
});

test('a lost connection after the lock wait is spent still gets its retry', async () => {
  // 30 s of lock wait; the connection drops at ~23 s; the stale lock then needs up to the server
  // bound (60 s here) again, so attempts go on past the original 30 s.
  const h = harness([LOCK, LOCK, LOST, LOCK, LOCK, LOCK, OK]);
  const out = await runAttempts(plan({ deadlineSeconds: 30 }), {}, h.deps);
  assert.equal(out.exitCode, 0);
  assert.equal(out.attempts, 7);
  assert.ok(h.elapsed() > 30_000);
});

test('input that cannot be replayed: a lost connection is not retried, and tborg says why', async () => {
  const h = harness([LOST, OK]);
  const out = await runAttempts(
    plan({ connectionRetries: 0, noConnectionRetry: 'create - reads input that cannot be replayed' }),
    {},
    h.deps,
  );
  assert.equal(out.exitCode, 2);
  assert.equal(out.attempts, 1);
  assert.match(h.output(), /not retrying the lost connection: create - reads input that cannot be replayed/);
});

test("a stream to stdout: not retried, borg's error and code stand, one line of tborg's", async () => {
  const reason = 'extract --stdout writes its result to stdout; a second attempt would write it again';
  const h = harness([LOST, OK]);
  const out = await runAttempts(plan({ connectionRetries: 0, noConnectionRetry: reason }), {}, h.deps);
  assert.deepEqual([out.exitCode, out.attempts, out.lastKind], [2, 1, 'connection-lost']);
  const lines = h.output().trim().split('\n');
  assert.equal(lines.filter((l) => l.includes('tborg:')).length, 1, h.output());
  assert.match(lines.at(-1)!, new RegExp(`tborg: not retrying the lost connection: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  assert.ok(h.output().startsWith(LOST.stderr), "borg's own error first, unchanged");
});

test("a short --lock-wait of the user's is mentioned only when a wait happened", async () => {
  const warning = {
    kind: 'short-lock-wait' as const,
    text: '--lock-wait 60 is shorter than the 10m40s ...',
    onRun: false,
    onWait: true as const,
  };
  const withWarning = (): Plan => ({
    ...plan({ deadlineSeconds: 60 }, { userGiven: true, attemptSeconds: null, seconds: 60 }),
    warnings: [warning],
  });
  const quiet = harness([OK]);
  await runAttempts(withWarning(), {}, quiet.deps);
  assert.equal(quiet.output(), '', 'a run that did not wait says nothing (cron mails nothing)');
  const waited = harness([LOCK, OK]);
  await runAttempts(withWarning(), {}, waited.deps);
  assert.equal((waited.output().match(/warning: --lock-wait 60 is shorter/g) ?? []).length, 1, waited.output());
  const lost = harness([LOST, OK]);
  await runAttempts(withWarning(), {}, lost.deps);
  assert.equal((lost.output().match(/warning: --lock-wait 60 is shorter/g) ?? []).length, 1, lost.output());
});

test('the spinner tells the running attempt, and stops saying "waiting" once borg outlived its lock wait', async () => {
  let status: (() => string | null) | undefined;
  class Capture extends Terminal {
    override async waiting(s: () => string | null): Promise<void> {
      status = s;
    }
  }
  const seen: Array<string | null> = [];
  let h: ReturnType<typeof harness>;
  h = harness([HELD, OK], {
    terminal: new Capture({ stdout: new PassThrough(), stderr: new PassThrough() }),
    during: (n) => {
      if (n !== 2) return;
      seen.push(status!()); // attempt 2 has just started
      h.advance(11_000); // its --lock-wait is 10 s: still within the lock wait and its margin
      seen.push(status!());
      h.advance(10_000); // 21 s into a 10 s lock wait: borg has the lock and does the work
      seen.push(status!());
    },
  });
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.attempts, 2);
  assert.match(seen[0]!, /attempt 2$/);
  assert.match(seen[1]!, /attempt 2$/);
  assert.equal(seen[2], null);
  // Elapsed never exceeds the total: well past the 60 s deadline it reads "1m0s of 1m0s".
  h.advance(60_000);
  assert.match(status!() ?? '', /, 1m0s of 1m0s, /);
});

test("a signal during an attempt: borg's own exit code, no further attempt", async () => {
  const h = harness([LOCK, { rc: 143, stderr: '', seconds: 1 }, OK], { stopAfter: 2 });
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 143);
  assert.equal(h.argvs.length, 2);
});

test('a user --lock-wait is respected: argv untouched, no lock retry past it', async () => {
  const h = harness([LOCK, OK]);
  const p = plan({ deadlineSeconds: 10 }, { userGiven: true, attemptSeconds: null, seconds: 10 });
  p.baseArgv = ['--lock-wait', '10', 'create', 'ssh://h/srv/r::a', '/data'];
  const out = await runAttempts(p, {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.deepEqual(h.argvs, [p.baseArgv]);
});

test('the spinner may stay up during an attempt only when borg can neither prompt on the terminal nor write its result there', async () => {
  const { spinnerSafeDuringAttempts } = await import('../../src/run/spinner-safety.js');
  const p = (command: string, argv: string[] = []): Plan => ({ ...plan(), command: [command], baseArgv: [command, ...argv] });
  const rows: Array<[Plan, NodeJS.ProcessEnv, boolean, boolean]> = [
    // getpass() prompts on /dev/tty whatever stdin is: without a passphrase in the environment, no spinner.
    [p('create'), {}, false, false],
    [p('create'), { BORG_PASSPHRASE: '' }, false, true],
    [p('create'), { BORG_PASSPHRASE_FD: '3' }, false, true],
    // A passcommand is a command of yours, which may ask on the terminal itself (pinentry).
    [p('create'), { BORG_PASSCOMMAND: 'pass show borg' }, false, false],
    // A result on the same terminal as the spinner.
    [p('list'), { BORG_PASSPHRASE: 'x' }, true, false],
    [p('create', ['--json']), { BORG_PASSPHRASE: 'x' }, true, false],
    [p('list'), { BORG_PASSPHRASE: 'x' }, false, true],
    [p('create'), { BORG_PASSPHRASE: 'x' }, true, true],
  ];
  for (const [pl, env, stdoutIsTTY, expected] of rows) {
    assert.equal(
      spinnerSafeDuringAttempts(pl, env, { stdoutIsTTY }),
      expected,
      `${pl.baseArgv.join(' ')} ${JSON.stringify(env)} stdout tty ${stdoutIsTTY}`,
    );
  }
});

// borg2 store locks (lock-wait.ts 'store'): a 1860 s wait, 60 s attempts after the first, and the
// 30-minute rule said once.
function storePlan(seconds: number): Plan {
  const p = plan(
    { deadlineSeconds: seconds },
    {
      seconds,
      attemptSeconds: 10,
      model: {
        kind: 'store',
        why: 'w',
        clientBound: 120,
        serverBound: 1800,
        margin: 60,
        seconds: 1860,
        formula: 'f',
        serverAlive: null,
        tcpKeepaliveFallback: false,
      },
    },
  );
  return { ...p, borg: { ...p.borg, version: '2.0.0b25', major: 2 }, command: ['check'] };
}
const STORE_LOCK = {
  rc: 73,
  stderr: 'Failed to create/acquire the lock ssh://h//srv/r (timeout). Repository is locked by: shared lock on host x@1, pid 9, age 12m.\n',
  seconds: 10,
};

test('store locks: the 30-minute rule is said once at the first lock timeout, later attempts are 60 s long', async () => {
  const h = harness([STORE_LOCK, { ...STORE_LOCK, seconds: 60 }, { ...STORE_LOCK, seconds: 60 }, OK]);
  const out = await runAttempts(storePlan(1860), {}, h.deps);
  assert.equal(out.exitCode, 0);
  assert.deepEqual(
    h.argvs.map((a) => a[1]),
    ['10', '60', '60', '60'],
  );
  const said = h.output().split("borg2 keeps a vanished client's lock in the repository until it is 30m0s old").length - 1;
  assert.equal(said, 1, h.output());
  assert.match(h.output(), /ssh:\/\/h\/srv\/r is locked: another client holds a lock on it\./);
});

test("store locks: a wait cut short by --tborg-max-wait still says why, then gives up with borg's rc 73", async () => {
  const h = harness([{ ...STORE_LOCK, seconds: 8 }]);
  const out = await runAttempts(storePlan(8), {}, h.deps);
  assert.equal(out.exitCode, 73);
  assert.match(h.output(), /until it is 30m0s old; tborg waits up to 8s for it/);
  assert.ok(h.output().indexOf('30m0s old') < h.output().indexOf('gave up after'));
});

// p-retry as the driver (attempts.ts): its signal, its failures, and the run's counts.

test("a signal during an attempt that succeeds: borg's 0 stands, no further attempt", async () => {
  const h = harness([LOCK, OK, OK], { stopAfter: 2 });
  const out = await runAttempts(plan(), {}, h.deps);
  assert.deepEqual([out.exitCode, out.attempts, h.argvs.length], [0, 2, 2]);
});

test('a signal during the pause between attempts: 128+N at once, no further attempt', async () => {
  const h = harness([LOCK, OK]);
  const controller = new AbortController();
  h.deps.signal = controller.signal;
  h.deps.stoppedBy = () => (controller.signal.aborted ? 'SIGTERM' : undefined);
  h.deps.sleep = async () => controller.abort();
  const out = await runAttempts(plan(), {}, h.deps);
  assert.deepEqual([out.exitCode, out.attempts, out.lastKind], [143, 1, 'lock-timeout']);
  assert.doesNotMatch(h.output(), /gave up/);
});

test('an attempt that could not run at all is an error, not retried', async () => {
  const h = harness([]);
  await assert.rejects(runAttempts(plan(), {}, h.deps), /no more scripted attempts/);
  assert.equal(h.argvs.length, 1);
});

test('under cron an unreachable server is waited for, and the run counts those retries', async () => {
  const refused = {
    rc: 2,
    stderr:
      'Remote: ssh: connect to host h port 22: Connection refused\nConnection closed by remote host. Is borg working on the server?\n',
    seconds: 1,
  };
  const h = harness([refused, refused, LOCK, OK]);
  const out = await runAttempts(plan({ connectWaitSeconds: 900 }), {}, h.deps);
  assert.deepEqual([out.exitCode, out.attempts, out.unreachableRetries, out.lockRetries, out.connectionRetries], [0, 4, 2, 1, 0]);
  assert.deepEqual(h.sleeps.slice(0, 2), [750, 1500]);
  assert.equal(
    (h.output().match(/tborg: cannot reach h \(ssh: connect to host h port 22: Connection refused\); retrying in/g) ?? []).length,
    2,
    h.output(),
  );
  // borg's own lines of the retried attempts pass as they came; its held lock message is dropped.
  assert.equal(h.output().split('Failed to create/acquire').length, 1);
});

test("when tborg gives up, borg's held lock message comes before tborg's warning and explanation (in the order written)", async () => {
  const warning = {
    kind: 'short-lock-wait' as const,
    text: '--lock-wait 5 is shorter than the 10m40s ...',
    onRun: false,
    onWait: true as const,
  };
  const p: Plan = { ...plan({ deadlineSeconds: 5 }, { userGiven: true, attemptSeconds: null, seconds: 5 }), warnings: [warning] };
  const h = harness([{ ...LOCK, seconds: 6 }]);
  await runAttempts(p, {}, h.deps);
  const out = h.output();
  const lockAt = out.indexOf('Failed to create/acquire the lock');
  assert.ok(lockAt !== -1 && lockAt < out.indexOf('warning: --lock-wait 5 is shorter'), out);
});

test("a broken output pipe ends the run like a stopping signal: borg's code, no retry, no word of a lost connection", async () => {
  const h = harness([LOST, OK]);
  const attempt = h.deps.attempt;
  h.deps.attempt = async (argv, env, opts) => ({ ...(await attempt(argv, env, opts)), outputClosed: true });
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(h.argvs.length, 1);
  assert.doesNotMatch(h.output(), /tborg: /);
});

// README "A server that cannot be reached at start": borg's bare hint is settled by tborg's probe,
// asked only then; a port that refuses keeps the wait going, one that answers ends it.
const HINT_ONLY = { rc: 2, stderr: 'Connection closed by remote host. Is borg working on the server?\n', seconds: 1 };
test("the connect wait probes only after borg's bare hint, and waits on while the port refuses", async () => {
  const h = harness([HINT_ONLY, HINT_ONLY, HINT_ONLY, HINT_ONLY, HINT_ONLY, HINT_ONLY, HINT_ONLY, OK]);
  let probes = 0;
  h.deps.probe = async () => {
    probes++;
    return { open: false, detail: 'connect to host h port 22: Connection refused' };
  };
  const out = await runAttempts(plan({ connectWaitSeconds: 900 }), {}, h.deps);
  assert.equal(out.exitCode, 0);
  assert.equal(probes, 7);
  assert.equal(out.unreachableRetries, 7);
  assert.match(h.output(), /cannot reach h \(connect to host h port 22: Connection refused \(tborg's probe; borg relayed no reason\)\)/);
});

test("a port that answers while borg gives only its hint (a forced /bin/false): one attempt, borg's answer", async () => {
  const h = harness([HINT_ONLY, OK]);
  h.deps.probe = async () => ({ open: true, detail: 'connect to host h port 22' });
  const out = await runAttempts(plan({ connectWaitSeconds: 900 }), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(out.attempts, 1);
  assert.doesNotMatch(h.output(), /tborg:/);
});

// README "What is retried": a lost create asks whether its archive landed before it is retried.
test('a lost create whose archive landed ends 0 without another attempt; one that did not is retried at once', async () => {
  const check = { kind: 'create' as const, listArgv: ['list', '--json', 'ssh://h/srv/r'], archive: 'a', old: null };
  const landed = harness([LOST, OK]);
  const asked: number[] = [];
  landed.deps.checkLanded = async ({ sinceMs }) => {
    asked.push(sinceMs);
    return { landed: 'a' };
  };
  const out = await runAttempts(plan({ landedCheck: check }), {}, landed.deps);
  assert.equal(out.exitCode, 0);
  assert.equal(out.attempts, 1);
  assert.deepEqual(asked, [1_000_000 - 2000]);
  assert.match(landed.output(), /tborg: the archive a had landed before the connection was lost/);

  const missing = harness([LOST, OK]);
  missing.deps.checkLanded = async () => ({ landed: null });
  const again = await runAttempts(plan({ landedCheck: check }), {}, missing.deps);
  assert.equal(again.exitCode, 0);
  assert.equal(again.attempts, 2);
  assert.deepEqual(missing.sleeps, [], 'the check waited for the old lock: no pause');
});
