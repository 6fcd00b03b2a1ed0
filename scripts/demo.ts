// `npm run demo`: tborg's main job on an embedded default. A throwaway sshd on loopback (in a network
// namespace of its own when run as root), throwaway keys, a borg repository behind it, and tborg
// backing up through it. Everything lives in one temporary directory that is removed at the end,
// also after a failure or Ctrl-C.
//
// The demo is a list of steps; add one by appending to STEPS. DEMO_BORG=1.4.5 (or b25, sid-borg2, any
// TBORG_TEST_BORGS word) runs it with another borg of the lab's version matrix (test/lab/borgs.ts);
// the default is the machine's own `borg`.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote } from 'shlex';
import { isForegroundProcessGroup, signalExitCode } from '../src/run/borg-process.js';
import { borgLines, checkArgs, createArgs, initArgs, listArchivesArgs, withLockArgs, type BorgLine } from '../test/lab/borgs.js';
import { labAvailable, startLab, type Lab } from '../test/lab/lab.js';
import { isRunning, sleep, waitFor } from '../test/lab/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');
const SOURCE = join(ROOT, 'src');
const LOCK_HOLD_SECONDS = 12;
// The outage step shrinks the guide's 10 x 30 keepalives (client and server) to 1 x 3, so a dead
// connection is noticed in seconds rather than minutes; the mechanism is the same.
const OUTAGE_ALIVE = { interval: 1, countMax: 3 };
const OUTAGE_MIB = 3;
const OUTAGE_RATE_KIB = 600;

// The borg line DEMO_BORG names, or undefined: the machine's own borg.
function demoLine(): BorgLine | undefined {
  const wanted = process.env.DEMO_BORG;
  if (wanted === undefined || wanted === '') return undefined;
  const found = borgLines({ ...process.env, TBORG_TEST_BORGS: wanted });
  if (found.length !== 1) {
    throw new Error(
      `DEMO_BORG=${wanted} names ${found.length} borgs of the lab's matrix (one needed): ${borgLines({
        ...process.env,
        TBORG_TEST_BORGS: '',
      })
        .map((l) => `${l.name} ${l.version}`)
        .join(', ')}`,
    );
  }
  return found[0];
}
const LINE = demoLine();
const BORG = LINE?.client ?? 'borg';

interface Demo {
  lab: Lab;
  repo: string; // the ssh repository URL
  repoPath: string; // the same repository, as the server sees it
  lockFile: string; // what shows the lock is held (borgstore: the locks/ directory, not empty)
}

interface Step {
  title: string;
  // A step that is not ready yet, or only wanted on request, says why it is skipped.
  skip?: () => string | false;
  run(demo: Demo): Promise<void>;
}

function say(text: string): void {
  process.stdout.write(`demo: ${text}\n`);
}

// What the demo is running at the moment, so a signal can reach it.
let current: ChildProcess | undefined;
let stoppedBy: NodeJS.Signals | undefined;
let markStopped: () => void = () => undefined;
// Settles when a signal asks the demo to stop, for steps that wait on something else meanwhile.
const stopRequested = new Promise<null>((resolve) => {
  markStopped = () => resolve(null);
});

class StepFailed extends Error {}

// Steps call this between actions: after Ctrl-C nothing new starts.
function checkStopped(): void {
  if (stoppedBy) throw new StepFailed(`stopped by ${stoppedBy}`);
}

// Runs argv inside the lab with the user's terminal as its stdout/stderr, showing the command first.
async function show(demo: Demo, argv: readonly string[], shown: readonly string[] = argv, env: NodeJS.ProcessEnv = {}): Promise<number> {
  checkStopped();
  const assignments = Object.entries(env)
    .map(([k, v]) => `${k}=${quote(v ?? '')} `)
    .join('');
  process.stdout.write(`\n  $ ${assignments}${shown.map((w) => quote(w)).join(' ')}\n`);
  const child = demo.lab.spawn(argv, { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT, env: demo.lab.env(env) } satisfies SpawnOptions);
  current = child;
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve(c ?? (s ? signalExitCode(s) : 1)));
  });
  current = undefined;
  return code;
}

async function expectSuccess(demo: Demo, argv: readonly string[], shown: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const code = await show(demo, argv, shown, env);
  checkStopped();
  if (code !== 0) throw new StepFailed(`\`${shown.join(' ')}\` exited with ${code}`);
}

const tborg = (...args: string[]): string[] => [process.execPath, TBORG, ...args];

const STEPS: Step[] = [
  {
    title: 'create a borg repository behind the sshd, with plain borg',
    run: async (demo) => {
      const init = [BORG, ...initArgs(LINE, demo.repo)];
      await expectSuccess(demo, init, init);
    },
  },
  {
    title: "back up tborg's own source through tborg",
    run: async (demo) => {
      const files = readdirSync(SOURCE, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
      say(`backing up ${SOURCE} (${files} files); tborg runs the real borg and passes its output through`);
      const args = createArgs(LINE, demo.repo, 'demo-1', SOURCE).toSpliced(1, 0, '--stats');
      await expectSuccess(demo, tborg(...args), ['tborg', ...args]);
    },
  },
  {
    title: 'list the repository through tborg',
    run: async (demo) => {
      await expectSuccess(demo, tborg(...listArchivesArgs(LINE, demo.repo)), ['tborg', ...listArchivesArgs(LINE, demo.repo)]);
    },
  },
  {
    title: `another borg holds the lock for ${LOCK_HOLD_SECONDS} s; tborg waits it out`,
    skip: () => (process.env.DEMO_LOCK === '0' ? 'DEMO_LOCK=0' : false),
    run: async (demo) => {
      const holder = demo.lab.spawn([BORG, ...withLockArgs(LINE, demo.repo, 'sleep', String(LOCK_HOLD_SECONDS))], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const holderDone = new Promise<number | null>((resolve) => holder.once('close', (code) => resolve(code)));
      const { lockFile } = demo;
      await waitFor(
        'the other borg to take the lock',
        () => demo.lab.lockHeld('demo') || holder.exitCode !== null || stoppedBy !== undefined,
        30_000,
      );
      checkStopped();
      if (!demo.lab.lockHeld('demo')) throw new StepFailed('the other borg did not get the lock');
      const held = Date.now();
      say(`another borg (\`borg with-lock ... sleep ${LOCK_HOLD_SECONDS}\`, pid ${holder.pid}) now holds ${lockFile}`);
      say('plain borg would give up after its default --lock-wait of 1 s; tborg waits for the lock');
      const args = createArgs(LINE, demo.repo, 'demo-2', SOURCE).toSpliced(1, 0, '--stats');
      await expectSuccess(demo, tborg(...args), ['tborg', ...args]);
      say(`tborg's archive landed ${((Date.now() - held) / 1000).toFixed(1)} s after the other borg took the lock`);
      const code = await Promise.race([holderDone, stopRequested]);
      checkStopped();
      if (code !== 0) throw new StepFailed(`the lock holder exited with ${code}`);
      await expectSuccess(demo, tborg(...listArchivesArgs(LINE, demo.repo)), ['tborg', ...listArchivesArgs(LINE, demo.repo)]);
    },
  },
  {
    title: 'the network drops mid-backup; the stale borg serve keeps the lock; tborg rides it out',
    skip: () => {
      if (process.env.DEMO_OUTAGE === '0') return 'DEMO_OUTAGE=0';
      return labAvailable().ok ? false : 'needs root: a network namespace and iptables to cut the connection';
    },
    run: async (demo) => {
      const data = join(demo.lab.dir, 'outage');
      writeFileSync(data, randomBytes(OUTAGE_MIB << 20)); // incompressible: it really has to be uploaded
      const alive = `${OUTAGE_ALIVE.interval}x${OUTAGE_ALIVE.countMax}`;
      say(
        `sshd here has ClientAliveInterval ${OUTAGE_ALIVE.interval}, ClientAliveCountMax ${OUTAGE_ALIVE.countMax}; tborg is told so and injects a ${alive} keepalive`,
      );
      say(`(the guide's 10 x 30 works the same way, in minutes: tborg would wait up to 10m40s)`);
      const args = createArgs(LINE, demo.repo, 'demo-3', data);
      const env = { TBORG_KEEPALIVE: alive, TBORG_SERVER_ALIVE: alive };
      // The lab's loopback is slowed to OUTAGE_RATE_KIB until the cut, so the cut lands mid-upload
      // (the same for every borg; borg2 2.0.0b25 has no --upload-ratelimit).
      say(`the lab's network is limited to ${OUTAGE_RATE_KIB} KiB/s until the cut`);
      await demo.lab.limitRate(OUTAGE_RATE_KIB);
      const backup = expectSuccess(demo, tborg(...args), ['tborg', ...args], env);
      // Cut the live connection once the upload is under way and the server holds the lock.
      const outcome = await Promise.race([
        backup.then(() => 'done' as const),
        waitFor('the upload to start', () => demo.lab.lockHeld('demo') || stoppedBy !== undefined, 60_000)
          .then(() => sleep(1500))
          .then(() => 'cut' as const),
      ]);
      checkStopped();
      if (outcome === 'done') throw new StepFailed('the backup ended before the connection could be cut');
      const connections = await demo.lab.clientConnections();
      if (connections.length !== 1) throw new StepFailed(`expected one ssh connection, found ${connections.length}`);
      const sshPids = await demo.lab.clientPids(/^ssh /);
      const cut = Date.now();
      await demo.lab.dropConnection(connections[0]!.localPort);
      await demo.lab.limitRate(null);
      process.stdout.write('\n');
      say(`cut the connection (iptables DROP both ways, port ${connections[0]!.localPort}): borg's ssh hears nothing now`);
      try {
        // The injected keepalive ends the dead ssh; the server side has not noticed yet.
        await waitFor('the dead ssh to give up', () => sshPids.every((pid) => !isRunning(pid)) || stoppedBy !== undefined, 30_000);
        checkStopped();
        const stale = await demo.lab.serverPids(/borg2? serve/);
        say(
          `borg's ssh gave up ${((Date.now() - cut) / 1000).toFixed(1)} s after the cut (keepalive ${alive}); ` +
            (demo.lab.lockHeld('demo') && stale.length > 0
              ? `the server's borg serve (pid ${stale.join(', ')}) does not know yet and still holds the lock: tborg retries and waits for it`
              : 'the server has already let go of the lock'),
        );
        await backup;
      } finally {
        await demo.lab.heal();
        await demo.lab.limitRate(null);
      }
      say(
        `the archive landed ${((Date.now() - cut) / 1000).toFixed(1)} s after the cut; plain borg would have failed, and its next runs too until the stale lock went`,
      );
      await expectSuccess(demo, [BORG, ...checkArgs(LINE, demo.repo)], [BORG, ...checkArgs(LINE, demo.repo)]);
      say('borg check: the repository is consistent');
      await expectSuccess(demo, tborg(...listArchivesArgs(LINE, demo.repo)), ['tborg', ...listArchivesArgs(LINE, demo.repo)]);
    },
  },
];

async function main(): Promise<number> {
  const netns = labAvailable().ok;
  const available = netns ? { ok: true } : labAvailable({ netns: false });
  if (!available.ok) {
    process.stderr.write(`demo: cannot run: ${'why' in available ? available.why : ''}\n`);
    return 1;
  }
  // Ctrl-C on a terminal reaches the whole foreground process group, tborg and borg included: the
  // demo only notes it and lets them stop on their own (forwarding it again would turn borg's
  // graceful stop into an abort). Signals sent to the demo alone are passed on. A second signal
  // stops everything at once.
  const foreground = isForegroundProcessGroup();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stoppedBy) {
        current?.kill('SIGKILL');
        return;
      }
      stoppedBy = signal;
      markStopped();
      process.stderr.write(`\ndemo: ${signal}: stopping and cleaning up\n`);
      if (!(foreground && signal === 'SIGINT')) current?.kill(signal);
    });
  }

  say(
    netns
      ? 'starting a throwaway sshd in a network namespace of its own'
      : 'starting a throwaway sshd on loopback (not root: no network namespace)',
  );
  const lab = await startLab({ name: 'demo', clientAlive: OUTAGE_ALIVE, ...(LINE ? { line: LINE } : {}) });
  try {
    say(
      `sshd listens on 127.0.0.1:${lab.port}${lab.netns ? ` inside network namespace ${lab.netns}` : ''}; ` +
        `keys, ssh config and repository are in ${lab.dir}`,
    );
    say(`borg reaches it as \`${lab.host}\` through BORG_RSH="${lab.rsh}"`);
    if (LINE) say(`with ${LINE.client} ${LINE.version} (${LINE.name}), client and server`);
    const repoPath = lab.repoPath('demo');
    const lockFile = LINE?.repoPrefix === 'repo-' ? join(repoPath, 'locks') : join(repoPath, 'lock.exclusive');
    const demo: Demo = { lab, repo: lab.repoUrl('demo'), repoPath, lockFile };
    let number = 0;
    for (const step of STEPS) {
      number++;
      if (stoppedBy) break;
      const skipped = step.skip?.();
      if (skipped) {
        say(`step ${number}: ${step.title}: skipped (${skipped})`);
        continue;
      }
      process.stdout.write('\n');
      say(`step ${number}: ${step.title}`);
      try {
        await step.run(demo);
      } catch (error) {
        if (stoppedBy) break;
        process.stderr.write(`demo: step ${number} failed: ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
      }
    }
    if (stoppedBy) return signalExitCode(stoppedBy);
    process.stdout.write('\n');
    say('all steps passed');
    return 0;
  } finally {
    // Give a stopping borg a moment to release its lock before everything is killed.
    if (current) await sleep(200);
    await lab.close();
    say(`cleaned up: sshd stopped${lab.netns ? `, namespace ${lab.netns} deleted` : ''}, ${lab.dir} removed`);
  }
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
