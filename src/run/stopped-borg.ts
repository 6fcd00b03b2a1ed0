import { HOLDS_LOCK_MARGIN_MS } from './wait-status.js';
import { readProcCmdline } from '../process/proc-stat.js';
import { readActivity, serveChildren, waitsForChild } from './process-state.js';

// A stop (SIGTERM, Ctrl-C) while borg waits for a lock that another client holds on the server.
// borg 1.x handles SIGTERM at once, but then waits for its ssh to exit (remote.py
// RemoteRepository.__del__ -> close: stdin closed, then p.wait()), and ssh exits only when `borg serve`
// does; the serve sits in its lock wait (locking.py TimeoutTimer sleeps) and reads nothing, so it
// notices neither the closed stdin nor the gone client until that lock wait is over. sshd sends a
// session without a pty no signal when its client goes (OpenSSH session.c session_close_by_channel).
// The first SIGINT borg only notes (helpers/process.py SigIntManager: a checkpoint at the next file),
// so in a lock wait it acts on it when the wait is over. Measured in the lab: plain
// `borg --lock-wait 10` stopped 2 s in took 8 to 10 s to end, with SIGTERM or SIGINT alike; README
// "Signals" wants a stop to end at once, and tborg's waits are longer than borg's default 1 s.
//
// So, while the attempt may still be inside its lock wait (and a margin, wait-status.ts):
//   - once a stopped borg has waited for its `borg serve` ssh for STOP_RELEASE_MS, tborg ends that ssh
//     with SIGTERM, as borg's own close would if it could. Nothing is lost: borg has closed the
//     connection's pipes and wants nothing more from it; the serve, left without a client, holds no
//     lock while it waits and ends at its next write or at the end of its lock wait. A borg that has
//     the lock ends its ssh itself within milliseconds of its clean-up and is left alone.
//   - after a SIGINT, a borg that has printed nothing this attempt and, with its ssh, has not used
//     the CPU or moved a byte for SIGINT_IDLE_MS is waiting for the server's answer to its open,
//     where it holds nothing: it gets the second SIGINT, which borg answers at once ("Keyboard
//     interrupt", 130), and then the rule above. A borg that works (reads files, sends chunks, writes
//     a checkpoint after the first Ctrl-C) is never idle that long and keeps its graceful stop.
const STOP_RELEASE_MS = 250;
const SIGINT_IDLE_MS = 400;
const POLL_MS = 50;

export interface StoppedBorg {
  pid: number;
  signal: NodeJS.Signals;
  // When the attempt's own lock wait is over.
  lockWaitEnd: number;
  // borg has written to stderr during this attempt.
  printed: () => boolean;
}

// Watches the stopped borg until it is gone or the attempt's lock wait is over. end(): borg has
// exited; a serve ssh of its that outlived it (borg2 2.0.0b25's rest client leaves it running when
// borg ends on a signal) has nobody left to end it, and gets SIGTERM.
export function watchStoppedBorg(borg: StoppedBorg, now: () => number = Date.now): { end(): void } {
  let waitingSince: number | undefined;
  let idle = { since: now(), activity: readActivity(borg.pid) };
  const serves = new Map<number, string>();
  const remember = (): void => {
    for (const pid of serveChildren(borg.pid)) if (!serves.has(pid)) serves.set(pid, readProcCmdline(pid));
  };
  remember();
  const timer = setInterval(() => {
    remember();
    if (now() > borg.lockWaitEnd + HOLDS_LOCK_MARGIN_MS) {
      clearInterval(timer);
      return;
    }
    if (!waitsForChild(borg.pid)) {
      waitingSince = undefined;
      if (borg.signal !== 'SIGINT') return;
      const current = readActivity(borg.pid);
      if (current !== idle.activity || borg.printed()) idle = { since: now(), activity: current };
      else if (now() - idle.since >= SIGINT_IDLE_MS && serveChildren(borg.pid).length > 0) {
        // Again after each idle spell: two SIGINTs that reach a borg the scheduler has not run yet
        // are one for its handler (Python runs it once for both), and borg just notes it again.
        idle = { since: now(), activity: current };
        signal(borg.pid, 'SIGINT');
      }
      return;
    }
    waitingSince ??= now();
    if (now() - waitingSince < STOP_RELEASE_MS) return;
    for (const child of serveChildren(borg.pid)) signal(child, 'SIGTERM');
    clearInterval(timer);
  }, POLL_MS);
  timer.unref();
  return {
    end(): void {
      clearInterval(timer);
      for (const [pid, argv] of serves) if (argv !== '' && readProcCmdline(pid) === argv) signal(pid, 'SIGTERM');
    },
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone meanwhile.
  }
}
