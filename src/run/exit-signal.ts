import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';

// When borg died of a signal, a shell running plain borg sees WIFSIGNALED (bash prints "Terminated",
// `set -e` scripts and supervisors tell a kill from an exit 143). tborg returns 128+N from main like
// every other exit code and records the signal here; bin/tborg.js then ends by the same signal.

let lastBorgSignal: NodeJS.Signals | null = null;

// borg-process.ts records how each borg attempt ended: the signal it died of, or null.
export function recordBorgEnd(signal: NodeJS.Signals | null): void {
  lastBorgSignal = signal;
}

// The signal to die of when main's exit code is 128+N because the last borg died of signal N.
export function signalToDieOf(exitCode: number): NodeJS.Signals | undefined {
  if (lastBorgSignal === null) return undefined;
  return exitCode === 128 + (osConstants.signals[lastBorgSignal] ?? -128) ? lastBorgSignal : undefined;
}

// How long tborg, about to die of borg's signal, waits for its own stdout and stderr to take what
// they still hold. Plain borg's last bytes wait in the pipe for a slow reader after borg died;
// tborg's wait in tborg's memory (borg's stderr passes through src/cli/terminal.ts, which lets up to
// 256 KiB queue for a reader that lags) and would die with it. Bounded: a reader that never reads (a
// stopped pager, a full log pipe) must not keep a stopped run's process around for long.
const DRAIN_LIMIT_MS = 5000;

// Resolves once every stream has written what it queued, or one has failed or closed, or after
// limitMs, whichever comes first.
export async function drainBeforeDying(streams: readonly Writable[], limitMs = DRAIN_LIMIT_MS): Promise<void> {
  const pending = streams.filter((s) => s.writableLength > 0 && !s.destroyed);
  if (pending.length === 0) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, limitMs);
    let left = pending.length;
    for (const stream of pending) {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      stream.once('drain', done);
      stream.once('error', done);
      stream.once('close', done);
    }
  });
}
