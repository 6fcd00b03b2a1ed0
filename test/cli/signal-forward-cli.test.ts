import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { inheritedEnv } from '../helpers/inherited-env.js';
import { isRunning, waitFor } from '../lab/processes.js';

// README "Signals": a SIGTERM reaches borg exactly once, also when two come at once (`timeout` signals
// its child and then its whole process group) and when borg got one itself (systemd's
// KillMode=control-group signals every process of the unit). The fake borg is borg's own SIGTERM
// handler (helpers/process.py raising_signal_handler: SIG_IGN, then raise) with the moment before its
// SIG_IGN drawn out, where a second copy would raise a second exception inside the clean-up of the
// first: real borg's moment is too short to hit at will (the lab hit it on a loaded machine, and a
// 1.2.4 repository lock stayed behind). It says each time its handler runs.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

const FAKE = `#!/usr/bin/python3
import os, signal, sys, time
if sys.argv[1:] == ['--version']:
    print('borg 1.2.4')
    sys.exit(0)
def handler(signum, frame):
    sys.stderr.write('fake-borg: got SIGTERM\\n')
    sys.stderr.flush()
    time.sleep(float(os.environ['FAKE_WINDOW_MS']) / 1000)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(143)
signal.signal(signal.SIGTERM, handler)
sys.stderr.write('fake-borg: ready %d\\n' % os.getpid())
sys.stderr.flush()
try:
    time.sleep(60)
finally:
    time.sleep(0.3)
    sys.stderr.write('fake-borg: cleaned up\\n')
    sys.stderr.flush()
`;

let work = '';
let borg = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tborg-signal-test-'));
  borg = join(work, 'borg');
  await writeFile(borg, FAKE);
  await chmod(borg, 0o755);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

// tborg running the fake borg, outside a terminal (borg in a process group of its own), and the
// fake's pid once it is ready.
// windowMs: how long the fake's handler takes before its SIG_IGN.
async function start(
  t: TestContext,
  windowMs: number,
): Promise<{ tborg: number; borg: number; stderr: () => string; done: Promise<{ code: number | null; stderr: string }> }> {
  const env = {
    ...inheritedEnv(),
    TBORG_BORG: borg,
    FAKE_WINDOW_MS: String(windowMs),
    XDG_CACHE_HOME: join(work, 'cache'),
    XDG_STATE_HOME: join(work, 'state'),
  };
  const child = spawn(process.execPath, [TBORG, 'create', join(work, 'repo::a'), '/etc/hostname'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  let borgPid = 0;
  t.after(() => {
    for (const pid of [child.pid, borgPid]) if (pid && isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  borgPid = await waitFor('the fake borg to be ready', () => Number(/fake-borg: ready (\d+)/.exec(stderr)?.[1]) || undefined, 15_000);
  return { tborg: child.pid!, borg: borgPid, stderr: () => stderr, done };
}

const times = (stderr: string): number => stderr.split('\n').filter((l) => l === 'fake-borg: got SIGTERM').length;

// borg's handler ran once, its clean-up ran to its end, and tborg exits with borg's 143.
async function assertOneSigterm(done: Promise<{ code: number | null; stderr: string }>): Promise<void> {
  const { code, stderr } = await done;
  assert.equal(times(stderr), 1, stderr);
  assert.match(stderr, /fake-borg: cleaned up\n$/);
  assert.equal(code, 143, stderr);
}

test('a second SIGTERM to tborg while borg handles the first (timeout: its child, then its group): borg gets one', async (t) => {
  const run = await start(t, 1000);
  process.kill(run.tborg, 'SIGTERM');
  await waitFor("borg's handler to run", () => times(run.stderr()) > 0, 15_000);
  process.kill(run.tborg, 'SIGTERM');
  await assertOneSigterm(run.done);
});

test('SIGTERM to tborg and borg at once (KillMode=control-group): borg keeps the one it got', async (t) => {
  // Well within tborg's look for borg's own (signal-forward.ts FORWARD_GRACE_MS).
  const run = await start(t, 50);
  process.kill(run.borg, 'SIGTERM');
  process.kill(run.tborg, 'SIGTERM');
  await assertOneSigterm(run.done);
});

test('SIGTERM to tborg alone: borg gets it, after the short look for one of its own', async (t) => {
  const run = await start(t, 50);
  process.kill(run.tborg, 'SIGTERM');
  await assertOneSigterm(run.done);
});
