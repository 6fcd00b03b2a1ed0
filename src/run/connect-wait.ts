import { nextDelayMs } from './backoff.js';
import { classifyReach, type StderrFindings } from '../borg/borg-errors.js';
import { formatDuration } from '../plan/lock-wait.js';

// Riding out a server that cannot be reached when a run starts (a laptop waking at 02:00 with its
// Wi-Fi still coming up): attempts that fail before borg's handshake with an ssh "cannot connect"
// are retried with back-off and jitter for up to the connect wait. Nothing that the server answered
// (a wrong key, a changed host key, no borg there, a wrong path) is ever retried. How long: the
// plan's (src/plan/plan.ts connectWaitSeconds). Pure: the clock and
// the randomness come in as numbers, so the schedule is table-tested.

// borg's hint line alone hides ssh's reason (borg-errors.ts classifyReach): look again this often.
const AMBIGUOUS_LOOKS = 2; // in a row

// What next-step.ts does with a failed attempt: retry after delayMs, saying `line`, or let it stand.
export type ConnectDecision =
  // line: why tborg stopped waiting, shown after borg's own message.
  | { retry: false; line?: string }
  | { retry: true; delayMs: number; line: string };

// An attempt's end as the connect wait sees it; the clock and the randomness come in as numbers.
export interface AttemptEnd {
  exitCode: number;
  findings: StderrFindings;
  now: number;
  random: number;
}

// Where a run's connect wait stands: pure data, so nextStep (next-step.ts) carries it in the run's state.
export interface ConnectState {
  // An attempt got past ssh to the server: from then on the wait is closed.
  reached: boolean;
  unreachableInARow: number;
  ambiguous: number;
  // Attempts retried because the server could not be reached (for the status record).
  retries: number;
}

// A run's start: nothing tried yet.
export const CONNECT_START: ConnectState = { reached: false, unreachableInARow: 0, ambiguous: 0, retries: 0 };

// What the wait is: how long (0: off), from when, and the host named in tborg's lines.
export interface ConnectRules {
  waitSeconds: number;
  start: number;
  host: string;
}

// The wait applies only until an attempt reaches the server: after that, a failure is a lost
// connection or borg's own answer, which next-step.ts handles by its own rules.
export function decideConnect(rules: ConnectRules, state: ConnectState, end: AttemptEnd): { decision: ConnectDecision; state: ConnectState } {
  const reach = state.reached || rules.waitSeconds <= 0 ? undefined : classifyReach(end.exitCode, end.findings);
  if (reach === undefined || reach === 'final') return { decision: { retry: false }, state: { ...state, reached: true } };
  // Consecutive: in a long outage about one attempt in ten is ambiguous, and that must not end the wait.
  const ambiguous = reach === 'ambiguous' ? state.ambiguous + 1 : 0;
  if (ambiguous > AMBIGUOUS_LOOKS) return { decision: { retry: false }, state: { ...state, ambiguous } };
  const remainingMs = rules.start + rules.waitSeconds * 1000 - end.now;
  if (remainingMs <= 0) {
    const line = `gave up: ${rules.host} could not be reached within ${formatDuration(rules.waitSeconds)} (--tborg-connect-wait), over ${state.retries + 1} attempts`;
    return { decision: { retry: false, line }, state: { ...state, ambiguous } };
  }
  const next = { ...state, ambiguous, unreachableInARow: state.unreachableInARow + 1, retries: state.retries + 1 };
  const delayMs = nextDelayMs({
    attemptDurationMs: 0,
    attemptLockWaitMs: null,
    quickFailuresInARow: next.unreachableInARow,
    remainingMs,
    random: end.random,
  });
  const reason = reach === 'ambiguous' ? 'the connection closed before borg answered' : reasonOf(end.findings);
  const waited = formatDuration(Math.max(0, Math.round((end.now - rules.start) / 1000)));
  const line =
    `cannot reach ${rules.host} (${reason}); retrying in ${formatDuration(Math.max(1, Math.round(delayMs / 1000)))}, ` +
    `${waited} of ${formatDuration(rules.waitSeconds)} waited (--tborg-connect-wait), attempt ${next.retries + 1}`;
  return { decision: { retry: true, delayMs, line }, state: next };
}

// ssh's own words, without borg's "Remote: " prefix.
function reasonOf(findings: StderrFindings): string {
  const line = [findings.unreachable ?? '', ...findings.lastLines].find((l) => /ssh: (connect to host|Could not resolve hostname)/.test(l)) ?? '';
  const at = line.indexOf('ssh: ');
  return at === -1 ? 'ssh could not connect' : line.slice(at).trim();
}
