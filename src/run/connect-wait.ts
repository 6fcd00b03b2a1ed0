import { nextDelayMs } from './backoff.js';
import { classifyReach, type StderrFindings } from '../borg/borg-errors.js';
import { formatDuration } from '../plan/lock-wait.js';

// Riding out a server that cannot be reached when a run starts (a laptop waking at 02:00 with its
// Wi-Fi still coming up): attempts that fail before borg's handshake with an ssh "cannot connect"
// are retried with back-off and jitter for up to the connect wait. Nothing that the server answered
// (a wrong key, a changed host key, no borg there, a wrong path) is ever retried. Pure: the clock and
// the randomness come in as numbers, so the schedule is table-tested.

// The default under cron (stdin not a terminal): a night's Wi-Fi usually comes back within minutes.
export const DEFAULT_CONNECT_WAIT_SECONDS = 15 * 60;
// borg's hint line alone hides ssh's reason (borg-errors.ts classifyReach): look again this often.
const AMBIGUOUS_LOOKS = 2; // in a row

// --tborg-connect-wait, else 15 min without a terminal on stdin and 0 with one: a person at a
// terminal wants a typo's error at once; cron wants the backup.
export function connectWaitSeconds(given: number | undefined, stdinIsTTY: boolean): number {
  return given ?? (stdinIsTTY ? 0 : DEFAULT_CONNECT_WAIT_SECONDS);
}

// What attempts.ts does with a failed attempt: retry after delayMs, saying `line`, or let it stand.
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

// One per run. The wait applies only until an attempt reaches the server: after that, a failure is
// a lost connection or borg's own answer, which attempts.ts handles by its own rules.
export class ConnectWait {
  private reached = false;
  private unreachableInARow = 0;
  private ambiguous = 0;
  // Attempts retried because the server could not be reached (for the status record).
  retries = 0;

  constructor(
    private readonly waitSeconds: number,
    private readonly start: number,
    private readonly host: string,
  ) {}

  get enabled(): boolean {
    return this.waitSeconds > 0;
  }

  decide(end: AttemptEnd): ConnectDecision {
    const reach = this.reached || !this.enabled ? undefined : classifyReach(end.exitCode, end.findings);
    if (reach === undefined || reach === 'final') {
      this.reached = true;
      return { retry: false };
    }
    // Consecutive: in a long outage about one attempt in ten is ambiguous, and that must not end the wait.
    if (reach === 'ambiguous' && ++this.ambiguous > AMBIGUOUS_LOOKS) return { retry: false };
    if (reach === 'unreachable') this.ambiguous = 0;
    const deadline = this.start + this.waitSeconds * 1000;
    const remainingMs = deadline - end.now;
    if (remainingMs <= 0) {
      return { retry: false, line: `gave up: ${this.host} could not be reached within ${formatDuration(this.waitSeconds)} (--tborg-connect-wait), over ${this.retries + 1} attempts` };
    }
    this.unreachableInARow++;
    this.retries++;
    const delayMs = nextDelayMs({
      attemptDurationMs: 0,
      attemptLockWaitMs: null,
      quickFailuresInARow: this.unreachableInARow,
      remainingMs,
      random: end.random,
    });
    const reason = reach === 'ambiguous' ? 'the connection closed before borg answered' : reasonOf(end.findings);
    const waited = formatDuration(Math.max(0, Math.round((end.now - this.start) / 1000)));
    return {
      retry: true,
      delayMs,
      line:
        `cannot reach ${this.host} (${reason}); retrying in ${formatDuration(Math.max(1, Math.round(delayMs / 1000)))}, ` +
        `${waited} of ${formatDuration(this.waitSeconds)} waited (--tborg-connect-wait), attempt ${this.retries + 1}`,
    };
  }
}

// ssh's own words, without borg's "Remote: " prefix.
function reasonOf(findings: StderrFindings): string {
  const line = [findings.unreachable ?? '', ...findings.lastLines].find((l) => /ssh: (connect to host|Could not resolve hostname)/.test(l)) ?? '';
  const at = line.indexOf('ssh: ');
  return at === -1 ? 'ssh could not connect' : line.slice(at).trim();
}
