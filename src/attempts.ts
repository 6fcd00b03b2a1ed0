import { homedir } from 'node:os';
import pRetry, { AbortError } from 'p-retry';
import { isQuickFailure, nextDelayMs } from './backoff.js';
import { classifyAttempt, isCacheLock, type FailureKind } from './borg-errors.js';
import type { ConnectWait } from './connect-wait.js';
import { describeGiveUp } from './give-up-message.js';
import { attemptLockWait, formatDuration } from './lock-wait.js';
import { attemptArgv, type Plan } from './plan.js';
import type { AttemptResult, ForwardedSignal } from './run-borg.js';
import { signalExitCode } from './run-borg.js';
import type { Terminal } from './terminal.js';

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

export async function runAttempts(plan: Plan, env: NodeJS.ProcessEnv, deps: AttemptDeps): Promise<RunOutcome> {
  const { terminal } = deps;
  const start = deps.now();
  let deadline = start + plan.retry.deadlineSeconds * 1000;
  let connectionFailures = 0;
  let quickFailures = 0;
  let lastKind: FailureKind = 'other';
  let attempts = 0;
  let lastLockWait: number | null = null;
  let lockRetries = 0;
  let lockWaitMs = 0;
  let lastLines: string[] = [];
  const serverBoundMs = (plan.lockWait.model?.seconds ?? 0) * 1000;
  const target = plan.repository ? plan.repository.location : 'the repository';
  const total = (): string => formatDuration(Math.max(0, Math.round((deadline - start) / 1000)));
  const waited = (): string => formatDuration(Math.max(0, Math.round((deps.now() - start) / 1000)));
  const status = (): string => `waiting for the lock on ${target}, ${waited()} of ${total()}, attempt ${attempts + 1}`;

  // borg's held-back stderr is borg's answer after all: pass it on, late but unchanged.
  const release = (result: AttemptResult): AttemptResult => {
    if (result.held.length > 0) terminal.passthrough(result.held);
    return result;
  };

  const once = async (): Promise<AttemptResult> => {
    const stopped = deps.stoppedBy();
    if (stopped) throw new AbortError(stopped);
    const remainingSeconds = Math.max(1, Math.ceil((deadline - deps.now()) / 1000));
    const lockWait =
      attempts === 0 || plan.lockWait.attemptSeconds === null
        ? plan.lockWait.attemptSeconds
        : attemptLockWait(remainingSeconds, plan.borg.major);
    lastLockWait = lockWait;
    if (attempts > 0 && !deps.spinDuringAttempts) terminal.stopSpinner();
    attempts++;
    const result = await deps.attempt(attemptArgv(plan, lockWait), env, { holdLockMessage: plan.retry.lockTimeouts });
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
    if (kind === 'lock-timeout' && plan.retry.lockTimeouts && now < deadline) {
      // Dropped: tborg retries, and its own "waiting for the lock" line says what is going on.
      quickFailures = isQuickFailure(result.durationMs, lockWait === null ? null : lockWait * 1000) ? quickFailures + 1 : 0;
      lockRetries++;
      lockWaitMs += result.durationMs;
      throw new RetryableAttempt(result, kind);
    }
    if (kind === 'connection-lost' && plan.retry.connectionRetries > 0) {
      if (plan.retry.noConnectionRetry) {
        release(result);
        terminal.message(`not retrying the lost connection: ${plan.retry.noConnectionRetry}`);
        return result;
      }
      if (connectionFailures < plan.retry.connectionRetries) {
        connectionFailures++;
        quickFailures++;
        // The old `borg serve` may still hold the lock until the server's sshd notices: the wait
        // starts over and covers the server bound.
        deadline = Math.max(deadline, now + serverBoundMs);
        terminal.message(
          `the connection to ${plan.repository?.host ?? 'the server'} was lost; retrying (${connectionFailures} of ${plan.retry.connectionRetries}), ` +
            `allowing up to ${formatDuration(Math.round(serverBoundMs / 1000))} for the server to release the old lock`,
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
        const delay = error.delayMs ?? nextDelayMs({
          attemptDurationMs: error.result.durationMs,
          attemptLockWaitMs: lastLockWait === null ? null : lastLockWait * 1000,
          quickFailuresInARow: quickFailures,
          remainingMs: Math.max(0, deadline - deps.now()),
          random: deps.random(),
        });
        if (error.kind === 'lock-timeout') {
          const lock = error.result.findings.lockTimeout?.path;
          if (attempts === 1 && isCacheLock(lock, env, homedir())) {
            terminal.message(`the local cache lock ${lock} is held by another borg on this machine; waiting`);
          }
          await terminal.waiting(status);
          lockWaitMs += delay;
        }
        if (delay > 0) await deps.sleep(delay, deps.signal);
      },
    });
    terminal.stopSpinner();
    if ((lastKind as FailureKind) === 'lock-timeout' && plan.retry.lockTimeouts && !deps.stoppedBy()) {
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
  for (const line of lines) deps.terminal.message(line);
}
