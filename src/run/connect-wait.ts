import { nextDelayMs } from './backoff.js';
import { BORG_SERVE_HINT } from '../borg/words/borg-words.js';
import { classifyReach } from '../borg/words/reach-failure.js';
import { CONNECT_TO_HOST, SSH_CANNOT_CONNECT } from '../borg/words/ssh-words.js';
import type { StderrFindings } from '../borg/words/stderr-scanner.js';
import { formatDuration } from '../plan/lock-wait.js';

// Riding out a server that cannot be reached when a run starts (a laptop waking at 02:00 with its
// Wi-Fi still coming up): attempts that fail before borg's handshake with an ssh "cannot connect"
// are retried with back-off and jitter for up to the connect wait. Nothing that the server answered
// (a wrong key, a changed host key, no borg there, a wrong path) is ever retried. How long: the
// plan's (src/plan/plan.ts connectWaitSeconds). Pure: the clock and
// the randomness come in as numbers, so the schedule is table-tested.

// borg's hint line alone hides ssh's reason (src/borg/words/reach-failure.ts classifyReach). Where tborg can probe the
// host (ssh -G's hostname and port, no proxy in the way), the probe settles it; where it cannot, an
// attempt is looked at again, this often in a row, before the hint is taken as the server's answer.
// borg 1.2 drops ssh's line in about 1 of 4 refused connections (measured): 5 in a row is ~1 in 1000.
const AMBIGUOUS_LOOKS = 5;

// What tborg's TCP probe of the host found (reach-probe.ts): whether something accepted a connection
// on ssh's port, and in ssh's words what happened ("connect to host H port P: Connection refused").
export interface ProbeResult {
  open: boolean;
  detail: string;
}

// What next-step.ts does with a failed attempt: retry after delayMs, saying `line`, or let it stand.
export type ConnectDecision =
  // line: why tborg stopped waiting, shown after borg's own message.
  { retry: false; line?: string } | { retry: true; delayMs: number; line: string };

// An attempt's end as the connect wait sees it; the clock and the randomness come in as numbers.
export interface AttemptEnd {
  exitCode: number;
  findings: StderrFindings;
  now: number;
  random: number;
  // The probe made after this attempt (wantsProbe), if any.
  probe?: ProbeResult | undefined;
}

// Where a run's connect wait stands: pure data, so nextStep (next-step.ts) carries it in the run's state.
export interface ConnectState {
  // An attempt got past ssh to the server: from then on the wait is closed.
  reached: boolean;
  unreachableInARow: number;
  // Attempts in a row that ended in borg's hint alone and that no probe showed unreachable.
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

// Whether the attempt that just ended needs tborg's probe: the wait is on, the server was not reached
// yet, and borg said only its hint (ssh's own words, when borg relays them, need no probe).
export function wantsProbe(
  rules: Pick<ConnectRules, 'waitSeconds'>,
  state: ConnectState,
  exitCode: number,
  findings: StderrFindings,
): boolean {
  return !state.reached && rules.waitSeconds > 0 && classifyReach(exitCode, findings) === 'ambiguous';
}

// The wait applies only until an attempt reaches the server: after that, a failure is a lost
// connection or borg's own answer, which next-step.ts handles by its own rules. Whenever tborg stops
// a wait it had begun, it says when and why.
export function decideConnect(
  rules: ConnectRules,
  state: ConnectState,
  end: AttemptEnd,
): { decision: ConnectDecision; state: ConnectState } {
  const seen = state.reached || rules.waitSeconds <= 0 ? undefined : classifyReach(end.exitCode, end.findings);
  const waited = formatDuration(Math.max(0, Math.round((end.now - rules.start) / 1000)));
  const stopped = (why: string, next: ConnectState): { decision: ConnectDecision; state: ConnectState } => ({
    decision: state.retries > 0 ? { retry: false, line: `stopped waiting for ${rules.host} after ${waited}: ${why}` } : { retry: false },
    state: { ...next, reached: true },
  });
  if (seen === undefined) return { decision: { retry: false }, state: { ...state, reached: true } };
  if (seen === 'final') return stopped("it answered (borg's message above); waiting cannot change that answer", state);
  let reason: string;
  let ambiguous = 0;
  if (seen === 'unreachable') {
    reason = reasonOf(end.findings);
  } else if (end.probe && !end.probe.open) {
    // The probe knocked on ssh's host and port and nothing answered: unreachable, whatever borg relayed.
    reason = `${end.probe.detail} (tborg's probe; borg relayed no reason)`;
  } else if (end.probe) {
    // Something answered on ssh's port, and yet borg serve did not start: a forced command such as
    // /bin/false, a server that closes the session, or an sshd that is just coming up. Right after an
    // unreachable attempt the last is likely: one more look; else it is the server's answer.
    if (state.unreachableInARow === 0 || state.ambiguous > 0) {
      return stopped(
        `it answered on ${end.probe.detail.replace(CONNECT_TO_HOST, '')}, but borg serve did not start (borg's message above)`,
        state,
      );
    }
    ambiguous = state.ambiguous + 1;
    reason = 'the server began to answer but closed the connection; looking again';
  } else {
    // Consecutive: in a long outage some attempts are ambiguous, and that must not end the wait.
    ambiguous = state.ambiguous + 1;
    if (ambiguous > AMBIGUOUS_LOOKS) {
      const line =
        `stopped waiting for ${rules.host} after ${waited}: borg said only "${BORG_SERVE_HINT.words}" ` +
        `${ambiguous} times in a row and tborg cannot probe ${rules.host} (a ProxyCommand or ProxyJump is in the way): taken as the server's answer`;
      return { decision: { retry: false, line }, state: { ...state, ambiguous, reached: true } };
    }
    reason = 'the connection closed before borg answered';
  }
  const remainingMs = rules.start + rules.waitSeconds * 1000 - end.now;
  if (remainingMs <= 0) {
    const line = `gave up: ${rules.host} could not be reached within ${formatDuration(rules.waitSeconds)} (--tborg-connect-wait), over ${state.retries + 1} attempt${state.retries === 0 ? '' : 's'}`;
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
  const line =
    `cannot reach ${rules.host} (${reason}); retrying in ${formatDuration(Math.max(1, Math.round(delayMs / 1000)))}, ` +
    `${waited} of ${formatDuration(rules.waitSeconds)} waited (--tborg-connect-wait), attempt ${next.retries + 1}`;
  return { decision: { retry: true, delayMs, line }, state: next };
}

// ssh's own words, without what came before them on the line (borg's "Remote: " prefix).
function reasonOf(findings: StderrFindings): string {
  for (const line of [findings.unreachable ?? '', ...findings.lastLines]) {
    for (const { words } of SSH_CANNOT_CONNECT) {
      const at = line.indexOf(words);
      if (at !== -1) return line.slice(at).trim();
    }
  }
  return 'ssh could not connect';
}
