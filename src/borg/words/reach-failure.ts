import { BORG_REST_OPEN_FAILED, BORG_SERVE_HINT, BORG_SERVER_SAID_NO } from './borg-words.js';
import { SSH_CANNOT_CONNECT_YET, SSH_HOST_KEY_REFUSED, SSH_LOGIN_REFUSED } from './ssh-words.js';
import type { StderrFindings } from './stderr-scanner.js';
import { matchesSome, type Wording } from './wording.js';

// Why an attempt did not get past borg's handshake with the server, read from its last stderr lines:
//   'unreachable' — ssh could not reach the server, for a reason that may pass (ssh-words.ts
//     SSH_CANNOT_CONNECT_YET). borg 1.x and 2 pass ssh's stderr on as "Remote: ..." and then say
//     "Connection closed by remote host. Is borg working on the server?"; borg2's rest-over-ssh carries
//     the same ssh line inside its own message. The network may come back: worth waiting for (README
//     "Monitoring").
//   'final' — the server answered and said no: the login or the host key refused (ssh-words.ts), no
//     borg on the server or no repository at the path (borg-words.ts BORG_SERVER_SAID_NO). Waiting
//     cannot fix these.
//   'ambiguous' — borg's hint line alone: borg 1.2 raises ConnectionClosedWithHint at the EOF of ssh's
//     stdout without draining ssh's stderr, so ssh's own line is lost in about 1 of 10 refused
//     connections (measured over the lab's sshd, docs/facts.md). Another attempt shows the reason.
export type ReachFailure = 'unreachable' | 'final' | 'ambiguous';

const SAID_NO: readonly Wording[] = [...SSH_LOGIN_REFUSED, ...SSH_HOST_KEY_REFUSED, ...BORG_SERVER_SAID_NO];

// See ReachFailure; undefined when the attempt shows no reach failure at all (borg ran, or failed
// for another reason). Only failed attempts (not 0 or 1) count.
export function classifyReach(exitCode: number, findings: StderrFindings): ReachFailure | undefined {
  if (exitCode === 0 || exitCode === 1) return undefined;
  // ssh's line as the scanner first saw it, too: borg2 b19 follows it with a 10-line traceback
  // (RemoteRepository.__del__), which pushes it out of the last lines.
  const lines = findings.unreachable === undefined ? findings.lastLines : [findings.unreachable, ...findings.lastLines];
  if (lines.some((l) => matchesSome(l, SAID_NO))) return 'final';
  if (lines.some((l) => matchesSome(l, SSH_CANNOT_CONNECT_YET))) return 'unreachable';
  const meaningful = findings.lastLines.filter((l) => l.trim() !== '');
  if (meaningful.length === 1 && BORG_SERVE_HINT.line.test(meaningful[0]!)) return 'ambiguous';
  // borg2 b22+'s line at open, borgstore's reason after it; with ssh's words inside, the lists above
  // decide first.
  if (lines.some((l) => BORG_REST_OPEN_FAILED.line.test(l))) return 'ambiguous';
  return undefined;
}
