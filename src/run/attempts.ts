import pRetry from 'p-retry';
import { classifyAttempt, type FailureKind } from '../borg/words/attempt-failure.js';
import { attemptArgv, type Plan } from '../plan/plan.js';
import type { AttemptResult, ForwardedSignal } from './borg-process.js';
import { signalExitCode } from './borg-process.js';
import { afterLandedCheck, nextStep, startAttempt, startRun, type EndedAttempt, type Line, type RunState, type Step } from './next-step.js';
import type { RunOutput } from './run-request.js';
import { describeSilentWait, describeWait, type WaitView } from './wait-status.js';
import { wantsProbe, type ProbeResult } from './connect-wait.js';
import type { LandedAnswer } from '../plan/landed.js';

// Runs borg attempts with p-retry as the loop: each attempt that does not succeed is a failure
// (BorgAttemptError), nextStep (next-step.ts) decides what follows it, and p-retry retries, stops, or
// is aborted by a stopping signal between attempts. Everything with side effects comes in through
// `deps`, so the schedule is tested with a fake clock and scripted attempts.

export interface AttemptDeps {
  // holdLockMessage: hold back borg's lock-timeout message (AttemptResult.held) for tborg to decide.
  // lockWaitMs and onIdle: borg-process.ts AttemptOptions.
  attempt(
    argv: string[],
    env: NodeJS.ProcessEnv,
    options: { holdLockMessage: boolean; lockWaitMs: number; onIdle?: (idle: boolean) => void },
  ): Promise<AttemptResult>;
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  // Aborted by a stopping signal (BorgRunner.signal): ends the wait between attempts.
  signal: AbortSignal;
  stoppedBy(): ForwardedSignal | undefined;
  terminal: RunOutput;
  // Whether a spinner may keep spinning while borg runs (see spinnerSafeDuringAttempts in spinner-safety.ts).
  spinDuringAttempts: boolean;
  // The user's home directory: where borg keeps its cache, so a held cache lock is told from the
  // repository's (src/borg/borg-cache-dir.ts borgCacheDir).
  home: string;
  // tborg's TCP probe of ssh's host and port (reach-probe.ts), when the plan names one.
  probe?: () => Promise<ProbeResult>;
  // Whether the lost attempt's archive landed (landed-check.ts), for plans with a landedCheck.
  checkLanded?: (since: { sinceMs: number; deadline: number }) => Promise<LandedAnswer>;
}

export interface RunOutcome {
  exitCode: number;
  attempts: number;
  lastKind: FailureKind;
  // For the status record and the monitors (status-record.ts, ping.ts).
  lockRetries: number;
  connectionRetries: number;
  unreachableRetries: number;
  // Time spent in attempts that ended in a lock timeout, and the pauses after them.
  lockWaitMs: number;
  // borg's last stderr lines of the last attempt.
  lastLines: string[];
}

// A borg attempt that did not succeed (an exit code other than 0 or 1, src/borg/words/attempt-failure.ts
// classifyAttempt): the failure p-retry sees, with what the attempt ended with.
class BorgAttemptError extends Error {
  constructor(
    readonly ended: EndedAttempt,
    // borg's held-back lock message (AttemptResult.held).
    readonly held: Uint8Array,
  ) {
    super(`borg exited with code ${ended.exitCode}`);
    this.name = 'BorgAttemptError';
  }
}

export async function runAttempts(plan: Plan, env: NodeJS.ProcessEnv, deps: AttemptDeps): Promise<RunOutcome> {
  const { terminal } = deps;
  let state: RunState = startRun(plan, { env, home: deps.home }, deps.now());
  const connectRules = { waitSeconds: plan.retry.connectWaitSeconds };
  // Whether an attempt runs now, and since when (for the spinner's text and its honesty).
  let running = false;
  let attemptStart = state.start;
  // The last attempt's end and held-back lock message, and the step nextStep chose after it
  // (undefined: it succeeded).
  let last: { ended: EndedAttempt; held: Uint8Array } | undefined;
  let decided: Step | undefined;

  // The --lock-wait borg applies to the running attempt (tborg's, the user's, or borg's default 1).
  const attemptWaitMs = (): number => (state.attemptLockWait ?? (plan.lockWait.userGiven ? plan.lockWait.seconds : 1)) * 1000;
  const view = (): WaitView => ({
    target: plan.repository ? plan.repository.location : 'the repository',
    start: state.start,
    deadline: state.deadline,
    attempts: state.attempts,
    running,
    attemptStart,
    attemptWaitMs: attemptWaitMs(),
    overheadMs: state.overheadMs,
  });
  const status = (): string | null => describeWait(view(), deps.now());
  // An attempt whose wait is not known yet (the first, or one after a lost connection) that sits
  // still gets the spinner at once, not only after it timed out (borg-process.ts onIdle): while
  // borg moves again or prints, none. Only where a spinner may run during an attempt at all.
  const silentStatus = (): string | null => describeSilentWait(view(), deps.now());
  const onIdle = (idle: boolean): void => {
    if (idle) void terminal.waiting(silentStatus);
    else terminal.stopSpinner();
  };

  const show = (step: Step, held: Uint8Array): void => {
    // borg's held-back stderr is borg's answer after all: passed on, late but unchanged, and before
    // tborg's own lines, which come later (with --log-json their times must not run backwards).
    if (step.showHeld && held.length > 0) terminal.passthrough(held);
    for (const line of step.before) say(terminal, line);
    if (step.next !== 'retry') terminal.stopSpinner();
    for (const line of step.after) say(terminal, line);
  };
  const decide = (ended: EndedAttempt, held: Uint8Array): Step => {
    const next = nextStep(state, ended, deps.now());
    state = next.state;
    show(next.step, held);
    return next.step;
  };

  const attempt = async (): Promise<{ ended: EndedAttempt; held: Uint8Array }> => {
    state = startAttempt(state, deps.now());
    const previous = decided;
    decided = undefined;
    if (state.attempts > 1 && !deps.spinDuringAttempts) terminal.stopSpinner();
    running = true;
    attemptStart = deps.now();
    let result: AttemptResult;
    try {
      const watchIdle = deps.spinDuringAttempts && terminal.interactive && !(previous?.next === 'retry' && previous.wait === 'lock');
      result = await deps.attempt(attemptArgv(plan, state.attemptLockWait), env, {
        holdLockMessage: plan.retry.lockTimeouts,
        lockWaitMs: attemptWaitMs(),
        ...(watchIdle ? { onIdle } : {}),
      });
    } finally {
      running = false;
    }
    const { exitCode, findings, durationMs, held } = result;
    // A broken output pipe stops the run as SIGPIPE would: borg's answer to it stands, unretried.
    const stopped = deps.stoppedBy() !== undefined || result.outputClosed === true;
    // borg's end alone does not say whether the server could be reached: tborg looks itself.
    const probe = !stopped && deps.probe && wantsProbe(connectRules, state.connect, exitCode, findings) ? await deps.probe() : undefined;
    last = { ended: { exitCode, findings, durationMs, stopped, random: deps.random(), ...(probe ? { probe } : {}) }, held };
    if (classifyAttempt(exitCode, findings) === 'ok') return last;
    throw new BorgAttemptError(last.ended, held);
  };

  let exitCode: number;
  try {
    const { ended, held } = await pRetry(attempt, {
      // No count: the bound is nextStep's deadline (which a lost connection or an unreachable server
      // moves) on the injected clock, and its count of lost connections. p-retry's maxRetryTime
      // would read performance.now() (p-retry 7.1 index.js calculateRemainingTime), not deps.now().
      retries: Number.POSITIVE_INFINITY,
      // The pause is nextStep's: a small jitter after an attempt that waited out its lock wait in borg,
      // an equal-jitter back-off over quick failures in a row (backoff.ts), cut to the deadline. p-retry
      // cannot choose a delay per attempt: its own (index.js calculateDelay: minTimeout * factor **
      // retriesConsumed, times Math.random() + 1) counts every retry, draws its own randomness and
      // sleeps on a real setTimeout. So its delay is 0 and onFailedAttempt waits on deps.sleep, as
      // p-retry's README shows for a delay of one's own.
      minTimeout: 0,
      // A stopping signal ends the wait between attempts (deps.sleep listens to it too); p-retry then
      // rejects with the signal's reason before the next attempt starts.
      signal: deps.signal,
      onFailedAttempt: async ({ error }) => {
        if (!(error instanceof BorgAttemptError)) return;
        decided = decide(error.ended, error.held);
        if (decided.next === 'retry' && decided.checkLanded && deps.checkLanded) {
          // borg's clock is this machine's: its archive's start is after this attempt's (2 s of slack).
          const answer = await deps.checkLanded({ sinceMs: attemptStart - 2000, deadline: state.deadline });
          const next = afterLandedCheck(state, answer, error.ended, deps.now());
          state = next.state;
          decided = next.step;
          show(decided, new Uint8Array());
        }
        if (decided.next !== 'retry') return;
        if (decided.wait === 'lock') await terminal.waiting(status);
        if (decided.delayMs > 0) await deps.sleep(decided.delayMs, deps.signal);
      },
      shouldRetry: ({ error }) => error instanceof BorgAttemptError && decided?.next === 'retry',
    });
    decide(ended, held);
    exitCode = ended.exitCode;
  } catch (error) {
    terminal.stopSpinner();
    const stopped = deps.stoppedBy();
    if (error instanceof BorgAttemptError) {
      // nextStep said done or give up, and it was shown: its exit code (borg's, or 0 when the lost
      // attempt's archive landed: afterLandedCheck).
      exitCode = decided !== undefined && decided.next !== 'retry' ? decided.exitCode : error.ended.exitCode;
    } else if (stopped && last?.ended.stopped && decided === undefined) {
      // Stopped while borg ran, and borg succeeded all the same: p-retry rejects with the signal's
      // reason after an attempt that resolved (index.js: throwIfAborted after input), but borg's own
      // answer to the signal stands.
      decide(last.ended, last.held);
      exitCode = last.ended.exitCode;
    } else if (stopped) {
      // Stopped while waiting between attempts: no borg runs now, so end at once as the signal asks.
      exitCode = signalExitCode(stopped);
    } else {
      throw error;
    }
  }
  return {
    exitCode,
    attempts: state.attempts,
    lastKind: state.lastKind,
    lockRetries: state.lockRetries,
    connectionRetries: state.connectionFailures,
    unreachableRetries: state.connect.retries,
    lockWaitMs: state.lockWaitMs,
    lastLines: state.lastLines,
  };
}

function say(terminal: RunOutput, line: Line): void {
  if (line.level === 'warn') terminal.warn(line.text);
  else terminal.message(line.text, line.level);
}
