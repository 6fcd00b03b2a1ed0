import { readActivity } from './process-state.js';

// Whether borg sits still: it has printed nothing this attempt and, with its `borg serve` ssh, has
// used no CPU and moved no byte for IDLE_MS (process-state.ts readActivity). Then borg waits for the
// server's answer to its open, which a lock held elsewhere delays (or a slow server), and tborg's
// spinner may say so (attempts.ts) instead of staying dark for the whole first attempt.
const IDLE_MS = 1000;
const POLL_MS = 250;

// Calls onIdle(true) when borg starts to sit still, onIdle(false) when it moves again; never once it
// has printed. The caller clears the returned timer when the attempt ends.
export function watchIdle(pid: number, onIdle: (idle: boolean) => void, printed: () => boolean): NodeJS.Timeout {
  let last = { activity: readActivity(pid), printed: printed(), since: Date.now() };
  let idle = false;
  const timer = setInterval(() => {
    const now = { activity: readActivity(pid), printed: printed(), since: Date.now() };
    if (now.activity !== last.activity || now.printed !== last.printed) {
      last = now;
      if (idle) onIdle((idle = false));
    } else if (!idle && !now.printed && now.since - last.since >= IDLE_MS) {
      onIdle((idle = true));
    }
  }, POLL_MS);
  timer.unref();
  return timer;
}
