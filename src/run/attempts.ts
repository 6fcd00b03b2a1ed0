import { homedir } from 'node:os';
import pRetry, { AbortError } from 'p-retry';
import { isQuickFailure, nextDelayMs } from './backoff.js';
import { classifyAttempt, isCacheLock, type FailureKind } from '../borg/borg-errors.js';
import type { ConnectWait } from './connect-wait.js';
import { describeGiveUp } from './give-up-message.js';
import { attemptLockWait, formatDuration, STORE_LOCK_STALE_SECONDS, takesExclusiveStoreLock } from '../plan/lock-wait.js';
import { attemptArgv, type Plan } from '../plan/plan.js';
import type { AttemptResult, ForwardedSignal } from './borg-process.js';
import { signalExitCode } from './borg-process.js';
import type { Terminal } from '../cli/terminal.js';

// Drives borg attempts until one ends in something other than a lock timeout (or a lost connection
// that is safe to retry), or until the plan's deadline is spent. Everything with side effects comes
// in through `deps`, so the schedule is tested with a fake clock and scripted attempts.

export interface AttemptDeps {
  // holdLockMessage: hold back borg's lock-timeout message (AttemptResult.held) for tborg to decide.
  attempt(argv: string[], env: NodeJS.ProcessEnv, options: { holdLockMessage: boolean }): Promise<AttemptResult>;
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  signal: AbortSignal;
  stoppedBy(): ForwardedSignal | undefined;
  terminal: Terminal;
  // Whether a spinner may keep spinning while borg runs (see spinnerSafeDuringAttempt in run.ts).
  spinDuringAttempts: boolean;
  // Retries a server that cannot be reached at start (connect-wait.ts); absent: never.
  connectWait?: ConnectWait;
}

export interface RunOutcome {
  exitCode: number;
  attempts: number;
  lastKind: FailureKind;
  // For the status record and the monitors (status-record.ts, ping.ts).
  lockRetries: number;
  connectionRetries: number;
  // Time spent in attempts that ended in a lock timeout, and the pauses after them.
  lockWaitMs: number;
  // borg's last stderr lines of the last attempt.
  lastLines: string[];
}

class RetryableAttempt extends Error {
  // delayMs: the pause before the next attempt when the caller decided it (the connect wait's own back-off).
  constructor(readonly result: AttemptResult, readonly kind: FailureKind | 'unreachable', readonly delayMs?: number) {
    super(kind);
  }
}

// An attempt that runs this long past its own --lock-wait has the lock: borg gives up on a held lock
// within about one poll after its lock wait (locking.py TimeoutTimer, a poll of min(60, wait / 10) s
// in 1.x). Added to the start-up (ssh connect, borg's python) the earlier attempts measured.
export const HOLDS_LOCK_MARGIN_MS = 5000;

export async function runAttempts(plan: Plan, env: NodeJS.ProcessEnv, deps: AttemptDeps): Promise<RunOutcome> {
  const { terminal } = deps;
  const start = deps.now();
  let deadline = start + plan.retry.deadlineSeconds * 1000;
  let connectionFailures = 0;
  let quickFailures = 0;
  let lastKind: FailureKind = 'other';
  let attempts = 0;
  let lastLockWait: number | null = null;
  // Whether an attempt runs now, and since when (for the spinner's text and its honesty).
  let running = false;
  let attemptStart = start;
  // What an attempt costs beyond its --lock-wait (ssh connect, borg start-up): measured on attempts
  // that waited out their lock wait, so the last attempt can be cut to end by the deadline.
  let overheadMs = 0;
  let pendingDelay = 0;
  let waitWarned = false;
  let lockRetries = 0;
  let lockWaitMs = 0;
  let lastLines: string[] = [];
  const serverBoundMs = (plan.lockWait.model?.seconds ?? 0) * 1000;
  const target = plan.repository ? plan.repository.location : 'the repository';
  const totalMs = (): number => Math.max(0, deadline - start);
  const total = (): string => formatDuration(Math.round(totalMs() / 1000));
  // Never more than the total: an attempt may end up to one poll after the deadline.
  const waited = (): string => formatDuration(Math.round(Math.min(totalMs(), Math.max(0, deps.now() - start)) / 1000));
  // The --lock-wait borg applies to the running attempt (tborg's, the user's, or borg's default 1).
  const attemptWaitMs = (): number => (lastLockWait ?? (plan.lockWait.userGiven ? plan.lockWait.seconds : 1)) * 1000;
  // null: stop showing a wait. An attempt that outlived its own lock wait holds the lock and is doing
  // the user's work, not waiting.
  const status = (): string | null => {
    if (running && deps.now() - attemptStart > attemptWaitMs() + Math.max(HOLDS_LOCK_MARGIN_MS, 2 * overheadMs)) return null;
    return `waiting for the lock on ${target}, ${waited()} of ${total()}, attempt ${running ? attempts : attempts + 1}`;
  };

  // Store locks (borg2 rest): why the wait can be half an hour, said once, at the first lock timeout
  // or when tborg gives up, whichever comes first.
  let explained = false;
  const explainStoreLock = (): void => {
    if (explained || plan.lockWait.model?.kind !== 'store') return;
    explained = true;
    terminal.message(storeLockWaitMessage(plan, total()));
  };

  // borg's held-back stderr is borg's answer after all: pass it on, late but unchanged.
  const release = (result: AttemptResult): AttemptResult => {
    if (result.held.length > 0) terminal.passthrough(result.held);
    return result;
  };
  // The plan's warnings that matter only once a run had to wait (a short --lock-wait of the user's).
  const warnOnWait = (): void => {
    if (waitWarned) return;
    waitWarned = true;
    for (const warning of plan.warnings) if (warning.onWait) terminal.warn(warning.text);
  };
  const delayAfter = (result: AttemptResult): number =>
    nextDelayMs({
      attemptDurationMs: result.durationMs,
      attemptLockWaitMs: lastLockWait === null ? null : lastLockWait * 1000,
      quickFailuresInARow: quickFailures,
      remainingMs: Math.max(0, deadline - deps.now()),
      random: deps.random(),
    });

  const once = async (): Promise<AttemptResult> => {
    const stopped = deps.stoppedBy();
    if (stopped) throw new AbortError(stopped);
    // The last attempt is cut to what is left, start-up included, so tborg gives up by the deadline
    // plus about one poll (--tborg-max-wait 15: ~15 s, not 20).
    const remainingSeconds = Math.max(1, Math.floor((deadline - deps.now() - overheadMs) / 1000));
    const lockWait =
      attempts === 0 || plan.lockWait.attemptSeconds === null
        ? plan.lockWait.attemptSeconds
        : attemptLockWait(remainingSeconds, plan.borg.major, plan.lockWait.model?.kind);
    lastLockWait = lockWait;
    if (attempts > 0 && !deps.spinDuringAttempts) terminal.stopSpinner();
    attempts++;
    running = true;
    attemptStart = deps.now();
    let result: AttemptResult;
    try {
      result = await deps.attempt(attemptArgv(plan, lockWait), env, { holdLockMessage: plan.retry.lockTimeouts });
    } finally {
      running = false;
    }
    const kind = classifyAttempt(result.exitCode, result.findings);
    lastKind = kind;
    lastLines = result.findings.lastLines;
    if (deps.stoppedBy()) return release(result); // borg's own answer to the signal stands
    const now = deps.now();
    const reach = deps.connectWait?.decide({ exitCode: result.exitCode, findings: result.findings, now, random: deps.random() });
    if (reach?.retry) {
      // Dropped like a retried lock timeout's: tborg's line says what ssh said.
      terminal.message(reach.line);
      // The lock wait starts when the server can be reached.
      deadline = Math.max(deadline, now + plan.retry.deadlineSeconds * 1000);
      throw new RetryableAttempt(result, 'unreachable', reach.delayMs);
    }
    if (reach?.line) {
      release(result);
      terminal.message(reach.line);
      return result;
    }
    if (kind === 'lock-timeout' && plan.retry.lockTimeouts) {
      warnOnWait();
      if (lockWait !== null && result.durationMs >= lockWait * 1000) overheadMs = result.durationMs - lockWait * 1000;
      lockRetries++;
      lockWaitMs += result.durationMs;
      quickFailures = isQuickFailure(result.durationMs, lockWait === null ? null : lockWait * 1000) ? quickFailures + 1 : 0;
      pendingDelay = delayAfter(result);
      // Another attempt only when at least a 1 s lock wait fits before the deadline, start-up and
      // pause included: an attempt that cannot end in time is not started (nor announced).
      if (deadline - now - pendingDelay - overheadMs >= 1000) {
        // Dropped: tborg retries, and its own "waiting for the lock" line says what is going on.
        throw new RetryableAttempt(result, kind);
      }
    }
    if (kind === 'connection-lost' && plan.repository?.host) {
      warnOnWait();
      if (plan.retry.noConnectionRetry) {
        release(result);
        terminal.message(`not retrying the lost connection: ${plan.retry.noConnectionRetry}`, 'WARNING');
        return result;
      }
      if (connectionFailures < plan.retry.connectionRetries) {
        connectionFailures++;
        quickFailures++;
        // The old `borg serve` may still hold the lock until the server's sshd notices: the wait
        // starts over and covers the server bound.
        deadline = Math.max(deadline, now + serverBoundMs);
        pendingDelay = delayAfter(result);
        // Store locks (borg2 rest): the lost attempt's lock is this machine's and its owner is dead, so
        // the next borg deletes it at once (storelocking.py process_alive); only another client's can last.
        const oldLock = plan.lockWait.model?.kind === 'store'
          ? `the lost attempt's lock is this machine's and goes at once; another client's can last up to ${formatDuration(Math.round(serverBoundMs / 1000))}`
          : `allowing up to ${formatDuration(Math.round(serverBoundMs / 1000))} for the server to release the old lock`;
        terminal.message(
          `the connection to ${plan.repository.host} was lost; retrying (${connectionFailures} of ${plan.retry.connectionRetries}), ${oldLock}`,
          'WARNING',
        );
        release(result);
        throw new RetryableAttempt(result, kind);
      }
    }
    return release(result);
  };

  try {
    // No `signal` for p-retry: a signal that arrives while borg runs must let borg's own exit code
    // through (once() returns it); one that arrives between attempts ends the wait at the next
    // once() call (AbortError) right after the aborted sleep.
    const result = await pRetry(once, {
      retries: Number.MAX_SAFE_INTEGER,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      shouldRetry: ({ error }) => error instanceof RetryableAttempt,
      onFailedAttempt: async ({ error }) => {
        if (!(error instanceof RetryableAttempt)) return;
        const delay = error.delayMs ?? pendingDelay;
        if (error.kind === 'lock-timeout') {
          const lock = error.result.findings.lockTimeout?.path;
          if (attempts === 1 && isCacheLock(lock, env, homedir())) {
            terminal.message(`the local cache lock ${lock} is held by another borg on this machine; waiting`);
          } else if (attempts === 1) {
            explainStoreLock();
          }
          await terminal.waiting(status);
          lockWaitMs += delay;
        }
        if (delay > 0) await deps.sleep(delay, deps.signal);
      },
    });
    terminal.stopSpinner();
    if ((lastKind as FailureKind) === 'lock-timeout' && plan.retry.lockTimeouts && !deps.stoppedBy()) {
      if (!isCacheLock(result.findings.lockTimeout?.path, env, homedir())) explainStoreLock();
      giveUp(plan, env, result, start, deps, attempts);
    }
    return { exitCode: result.exitCode, attempts, lastKind, lockRetries, connectionRetries: connectionFailures, lockWaitMs, lastLines };
  } catch (error) {
    terminal.stopSpinner();
    const stopped = deps.stoppedBy();
    // Stopped while waiting between attempts: no borg runs now, so end at once as the signal asks.
    if (stopped) {
      return { exitCode: signalExitCode(stopped), attempts, lastKind, lockRetries, connectionRetries: connectionFailures, lockWaitMs, lastLines };
    }
    throw error;
  }
}

// Why a store-lock wait can be long: a lock in the repository outlives its vanished owner until it is
// 30 minutes old (storelocking.py stale=30*60), and borg2 itself only retries every 1-5 s.
function storeLockWaitMessage(plan: Plan, total: string): string {
  const exclusive = takesExclusiveStoreLock(plan.command);
  const blocker = exclusive ? 'another client holds a lock on it' : 'another client holds its exclusive lock (check, compact, ...)';
  return (
    `${plan.repository?.location ?? 'the repository'} is locked: ${blocker}. borg2 keeps a vanished client's lock in the ` +
    `repository until it is ${formatDuration(STORE_LOCK_STALE_SECONDS)} old; tborg waits up to ${total} for it and takes over within seconds of its release`
  );
}

function giveUp(plan: Plan, env: NodeJS.ProcessEnv, result: AttemptResult, start: number, deps: AttemptDeps, attempts: number): void {
  const lock = result.findings.lockTimeout?.path;
  const server = plan.lockWait.model?.serverAlive;
  const lines = describeGiveUp({
    waitedSeconds: Math.round((deps.now() - start) / 1000),
    attempts,
    repository: plan.repository?.location ?? '',
    host: plan.repository?.host ?? null,
    lockPath: lock,
    cacheLock: isCacheLock(lock, env, homedir()),
    serverAlive: server ? `${server.interval}x${server.countMax}` : 'not set',
  });
  for (const line of lines) deps.terminal.message(line, 'ERROR');
}
