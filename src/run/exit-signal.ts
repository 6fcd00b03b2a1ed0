import { constants as osConstants } from 'node:os';

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
