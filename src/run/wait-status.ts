import { formatDuration } from '../plan/lock-wait.js';

// The spinner's text while tborg waits for a lock, and when to stop showing it. The spinner must stay
// honest: it never says "waiting" for an attempt that has the lock and is doing the user's work, and
// its elapsed time never exceeds the total. Pure: the clock comes in as a number.

// An attempt that runs this long past its own --lock-wait has the lock: borg gives up on a held lock
// within about one poll after its lock wait (locking.py TimeoutTimer, a poll of min(60, wait / 10) s
// in 1.x). Added to the start-up (ssh connect, borg's python) the earlier attempts measured.
export const HOLDS_LOCK_MARGIN_MS = 5000;

// What the text is made of (next-step.ts RunState, plus whether an attempt runs now).
export interface WaitView {
  // The repository's location, or 'the repository'.
  target: string;
  start: number;
  deadline: number;
  // Attempts started so far.
  attempts: number;
  // An attempt runs now, started at `attemptStart`, with borg's --lock-wait `attemptWaitMs`.
  running: boolean;
  attemptStart: number;
  attemptWaitMs: number;
  // What an attempt costs beyond its --lock-wait (ssh connect, borg start-up), as measured.
  overheadMs: number;
}

// null: stop showing a wait (an attempt that outlived its own lock wait holds the lock).
export function describeWait(view: WaitView, now: number): string | null {
  if (view.running && now - view.attemptStart > view.attemptWaitMs + Math.max(HOLDS_LOCK_MARGIN_MS, 2 * view.overheadMs)) return null;
  const totalMs = Math.max(0, view.deadline - view.start);
  // Never more than the total: an attempt may end up to one poll after the deadline.
  const waitedMs = Math.min(totalMs, Math.max(0, now - view.start));
  const attempt = view.running ? view.attempts : view.attempts + 1;
  return `waiting for the lock on ${view.target}, ${formatDuration(Math.round(waitedMs / 1000))} of ${formatDuration(Math.round(totalMs / 1000))}, attempt ${attempt}`;
}

// The spinner's text while an attempt whose wait is not known yet (the first one) sits still: borg has
// printed nothing and, with its ssh, neither used the CPU nor moved a byte for a second
// (borg-process.ts onIdle). borg then waits for the server's answer to its open, which a lock held
// elsewhere delays, but which a slow server delays too: the text says what tborg knows. null, as
// above, once the attempt has outlived its lock wait.
export function describeSilentWait(view: WaitView, now: number): string | null {
  const known = describeWait(view, now);
  if (known === null) return null;
  const totalMs = Math.max(0, view.deadline - view.start);
  const waitedMs = Math.min(totalMs, Math.max(0, now - view.start));
  return `waiting for ${view.target} to answer (a lock held elsewhere?), ${formatDuration(Math.round(waitedMs / 1000))} of ${formatDuration(Math.round(totalMs / 1000))}`;
}
