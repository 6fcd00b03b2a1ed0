// How long to pause before the next attempt. Pure, so the retry schedule is table-tested without
// waiting.
//
// - An attempt that waited out its own --lock-wait inside borg already spent its time waiting: start
//   the next one almost at once (a small random pause keeps contending clients out of lock-step), so
//   tborg notices a released lock within about borg's poll interval.
// - An attempt that failed quickly (a lost connection, a borg that does not wait for locks) backs off
//   exponentially with jitter, so cron jobs that all start at :00 do not hammer one server in step.
export interface BackoffInput {
  attemptDurationMs: number;
  attemptLockWaitMs: number | null;
  quickFailuresInARow: number;
  remainingMs: number;
  random: number; // in [0, 1)
}

const QUICK_BASE_MS = 1000;
export const QUICK_MAX_MS = 30_000;
export const HANDOFF_JITTER_MS = 300;

export function isQuickFailure(attemptDurationMs: number, attemptLockWaitMs: number | null): boolean {
  if (attemptLockWaitMs === null) return true;
  return attemptDurationMs < attemptLockWaitMs * 0.8;
}

export function nextDelayMs(input: BackoffInput): number {
  const { attemptDurationMs, attemptLockWaitMs, quickFailuresInARow, remainingMs, random } = input;
  let delay: number;
  if (!isQuickFailure(attemptDurationMs, attemptLockWaitMs)) {
    delay = Math.floor(random * HANDOFF_JITTER_MS);
  } else {
    const ceiling = Math.min(QUICK_MAX_MS, QUICK_BASE_MS * 2 ** Math.max(0, quickFailuresInARow - 1));
    // "Equal jitter": at least half the step, so the back-off still grows.
    delay = Math.floor(ceiling / 2 + (random * ceiling) / 2);
  }
  return Math.max(0, Math.min(delay, remainingMs));
}
