import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runAttempts, type AttemptDeps } from '../src/attempts.js';
import { StderrScanner } from '../src/borg-errors.js';
import type { Plan } from '../src/plan.js';
import type { AttemptResult } from '../src/run-borg.js';
import { Terminal } from '../src/terminal.js';

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
      attemptSeconds: 10,
      model: { clientBound: 20, serverBound: 40, margin: 20, seconds: 60, formula: 'f', serverAlive: { interval: 3, countMax: 3 }, tcpKeepaliveFallback: false },
      ...lockWait,
    },
    retry: { deadlineSeconds: 60, lockTimeouts: true, connectionRetries: 3, noConnectionRetry: null, connectWaitSeconds: 0, ...overrides },
    command: ['create'],
    baseArgv: ['create', 'ssh://h/srv/r::a', '/data'],
    warnings: [],
  };
}

type Step = { rc: number; stderr: string; seconds: number };
const LOCK = { rc: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n', seconds: 10 };
const LOST = { rc: 2, stderr: 'Remote: Timeout, server h not responding.\nConnection closed by remote host\n', seconds: 3 };
const OK = { rc: 0, stderr: '', seconds: 5 };

function harness(steps: Step[], options: { stopAfter?: number } = {}) {
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
      clock += step.seconds * 1000;
      if (options.stopAfter === argvs.length) {
        stopped = 'SIGTERM';
        controller.abort();
      }
      const s = new StderrScanner();
      s.feed(Buffer.from(step.stderr));
      // As run-borg.ts does with holdLockMessage: borg's lock message is held back for tborg to decide.
      const at = opts.holdLockMessage ? step.stderr.indexOf('Failed to create/acquire the lock') : -1;
      if (at > 0) deps.terminal.passthrough(Buffer.from(step.stderr.slice(0, at)));
      if (at === -1) deps.terminal.passthrough(Buffer.from(step.stderr));
      const held = Buffer.from(at === -1 ? '' : step.stderr.slice(at));
      return { exitCode: step.rc, findings: s.end(), durationMs: step.seconds * 1000, held } satisfies AttemptResult;
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    signal: controller.signal,
    stoppedBy: () => stopped,
    terminal: new Terminal({ stdout: new PassThrough(), stderr }),
    spinDuringAttempts: true,
  };
  return { deps, argvs, sleeps, output: () => text, elapsed: () => clock - 1_000_000 };
}

test('a held lock is waited out: retried until borg gets it, exit code is the successful one', async () => {
  const h = harness([LOCK, LOCK, OK]);
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 0);
  assert.equal(out.attempts, 3);
  assert.deepEqual(h.argvs[0], ['--lock-wait', '10', 'create', 'ssh://h/srv/r::a', '/data']);
  // Attempts that waited inside borg are followed almost at once.
  assert.ok(h.sleeps.every((ms) => ms < 300), `${h.sleeps}`);
  // Not a terminal: one plain timestamped line per wait, no escape codes or \r. borg's own lock
  // message of the attempts tborg retried is not shown: it stopped being true.
  const lines = h.output().trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ tborg: waiting for the lock on ssh:\/\/h\/srv\/r, 10s of 1m0s, attempt 2$/);
  assert.doesNotMatch(h.output(), /\r|\x1b/);
});

test('the deadline ends the wait with borg\'s exit code and one explanation', async () => {
  const h = harness(Array.from({ length: 10 }, () => LOCK));
  const out = await runAttempts(plan(), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(out.lastKind, 'lock-timeout');
  assert.ok(h.elapsed() >= 60_000 && h.elapsed() < 75_000, `${h.elapsed()}`);
  assert.match(h.output(), /gave up after waiting 1m\d+s over \d attempts: the repository lock \/srv\/r\/lock.exclusive on h is still held/);
  // borg's own error of the last attempt stands, once, before tborg's explanation.
  assert.equal(h.output().split('Failed to create/acquire the lock').length, 2);
  assert.ok(h.output().indexOf('Failed to create/acquire') < h.output().indexOf('gave up after'));
  assert.match(h.output(), /borg break-lock ssh:\/\/h\/srv\/r` is safe only when/);
});

test('later attempts never wait in borg past the deadline', async () => {
  const h = harness(Array.from({ length: 10 }, () => LOCK));
  await runAttempts(plan({ deadlineSeconds: 25 }, { seconds: 25, attemptSeconds: 10 }), {}, h.deps);
  const waits = h.argvs.map((a) => Number(a[1]));
  assert.ok(waits.every((w) => w >= 1 && w <= 10), `${waits}`);
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
  const out = await runAttempts(plan({ noConnectionRetry: 'create - reads input that cannot be replayed' }), {}, h.deps);
  assert.equal(out.exitCode, 2);
  assert.equal(out.attempts, 1);
  assert.match(h.output(), /not retrying the lost connection: create - reads input that cannot be replayed/);
});

test('a signal during an attempt: borg\'s own exit code, no further attempt', async () => {
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
