import { HOLDS_LOCK_MARGIN_MS } from './wait-status.js';
import { childrenOf, waitsForChild } from './process-state.js';

// A stop (SIGTERM, Ctrl-C) while borg waits for a lock that another client holds on the server.
// borg 1.x handles the signal at once, but then waits for its ssh to exit (remote.py
// RemoteRepository.__del__ -> close: stdin closed, then p.wait()), and ssh exits only when `borg serve`
// does; the serve sits in its lock wait (locking.py TimeoutTimer sleeps) and reads nothing, so it
// notices neither the closed stdin nor the gone client until that lock wait is over. sshd sends a
// session without a pty no signal when its client goes (OpenSSH session.c session_close_by_channel).
// Measured in the lab: plain `borg --lock-wait 30` stopped 4 s in took 28 s to end, tborg's 10 s
// attempt up to 9 s; README "Signals" wants a stop to end at once.
//
// So once a stopped borg has waited for its `borg serve` ssh for STOP_RELEASE_MS, and its attempt
// may still be inside its lock wait, tborg ends that ssh with SIGTERM, as borg's own close would if
// it could. Nothing is lost: borg has closed the connection's pipes and wants nothing more from it;
// the serve, left without a client, holds no lock while it waits and ends at its next write (its
// answer to the open) or at the end of its lock wait. A borg that has the lock ends its ssh itself
// within milliseconds of its clean-up, well within STOP_RELEASE_MS, and is left alone.
export const STOP_RELEASE_MS = 300;
const POLL_MS = 50;

// The argv borg gives its ssh ends with `borg serve` and the serve's options (remote.py borg_cmd:
// remote_path, 'serve'); a `--content-from-command` or other child of borg's has no such word.
function startsServe(argv: readonly string[]): boolean {
  return argv.includes('serve');
}

// Watches the stopped borg `pid` until it is gone; `lockWaitEnd`: when its attempt's lock wait is over.
export function watchStoppedBorg(pid: number, lockWaitEnd: number, now: () => number = Date.now): NodeJS.Timeout {
  let waitingSince: number | undefined;
  const timer = setInterval(() => {
    if (!waitsForChild(pid)) {
      waitingSince = undefined;
      return;
    }
    waitingSince ??= now();
    if (now() - waitingSince < STOP_RELEASE_MS) return;
    if (now() > lockWaitEnd + HOLDS_LOCK_MARGIN_MS) {
      clearInterval(timer);
      return;
    }
    for (const child of childrenOf(pid)) {
      if (!startsServe(child.argv)) continue;
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // Gone meanwhile.
      }
    }
    clearInterval(timer);
  }, POLL_MS);
  timer.unref();
  return timer;
}
