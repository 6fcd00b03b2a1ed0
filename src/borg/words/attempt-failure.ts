import { BORG_CTRL_C } from './borg-words.js';
import type { StderrFindings } from './stderr-scanner.js';

export type FailureKind = 'ok' | 'lock-timeout' | 'connection-lost' | 'other';

// Modern exit codes (borg 1.4 with BORG_EXIT_CODES=modern, the default in borg 2): helpers.errors.
const EXIT_LOCK_TIMEOUT = 73;
const EXIT_CONNECTION_CLOSED = 80;
const EXIT_CONNECTION_CLOSED_WITH_HINT = 81;
const EXIT_CONNECTION_BROKEN_WITH_HINT = 87;

// Decides what an attempt's end means. Only the legacy error code 2 (or a modern code) together with
// borg's own message counts; a user's Ctrl-C (130, or rc 2 with "Got Ctrl-C") is never a lock problem.
export function classifyAttempt(exitCode: number, findings: StderrFindings): FailureKind {
  if (exitCode === 0 || exitCode === 1) return 'ok';
  if (exitCode === EXIT_LOCK_TIMEOUT) return 'lock-timeout';
  if (
    exitCode === EXIT_CONNECTION_CLOSED ||
    exitCode === EXIT_CONNECTION_CLOSED_WITH_HINT ||
    exitCode === EXIT_CONNECTION_BROKEN_WITH_HINT
  ) {
    return findings.unreachable ? 'other' : 'connection-lost';
  }
  if (exitCode !== 2) return 'other';
  if (findings.lastLines.some((l) => BORG_CTRL_C.line.test(l))) return 'other';
  if (findings.lockTimeout) return 'lock-timeout';
  if (findings.unreachable) return 'other';
  if (findings.connectionLost) return 'connection-lost';
  return 'other';
}
