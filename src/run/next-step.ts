import { isQuickFailure, nextDelayMs } from './backoff.js';
import { isCacheLock } from '../borg/borg-cache-dir.js';
import { classifyAttempt, type FailureKind } from '../borg/words/attempt-failure.js';
import type { StderrFindings } from '../borg/words/stderr-scanner.js';
import type { LogLevel } from '../core/log-level.js';
import { CONNECT_START, decideConnect, type ConnectState, type ProbeResult } from './connect-wait.js';
import { describeGiveUp } from './give-up-message.js';
import { attemptLockWait, formatDuration } from '../plan/lock-wait.js';
import type { Plan } from '../plan/plan.js';
import type { LandedAnswer } from '../plan/landed.js';
import { oldLockWords, storeLockWaitMessage } from './store-lock-message.js';

// What happens after a borg attempt: done, retry after a pause, or give up. Pure: the run's state,
// the attempt's end and the clock come in, the decision and the next state go out, so the whole
// retry policy is one table (test/unit/next-step.test.ts); attempts.ts runs it with p-retry.

// Why tborg is waiting: a held lock, a lost connection (the old `borg serve` may hold the lock), or a
// server that could not be reached at start (connect-wait.ts).
type WaitKind = 'lock' | 'connection' | 'unreachable';

export interface RunState {
  // The plan's retry rules (retry, lockWait), and what tborg's lines name (repository, command).
  readonly plan: Pick<Plan, 'borg' | 'repository' | 'lockWait' | 'retry' | 'command' | 'warnings'>;
  // Where borg's cache lives, to tell its local lock from the repository's (src/borg/borg-cache-dir.ts isCacheLock).
  readonly cache: { env: NodeJS.ProcessEnv; home: string };
  readonly start: number;
  // When tborg stops retrying lock timeouts; a lost connection or an unreachable server moves it.
  readonly deadline: number;
  // Attempts started so far, and the --lock-wait tborg gave the last one (null: the user's own).
  readonly attempts: number;
  readonly attemptLockWait: number | null;
  // What an attempt costs beyond its --lock-wait (ssh connect, borg start-up): measured on attempts
  // that waited out their lock wait, so the last attempt can be cut to end by the deadline.
  readonly overheadMs: number;
  readonly quickFailures: number;
  readonly connectionFailures: number;
  // For the status record and the monitors (status-record.ts, ping.ts): lock-timeout attempts, and
  // the time spent in them and the pauses after them.
  readonly lockRetries: number;
  readonly lockWaitMs: number;
  // The plan's "only once a run had to wait" warnings were shown; the store-lock rule was said.
  readonly waitWarned: boolean;
  readonly storeLockSaid: boolean;
  readonly connect: ConnectState;
  readonly lastKind: FailureKind;
  readonly lastLines: string[];
}

// How an attempt ended, as nextStep needs it.
export interface EndedAttempt {
  exitCode: number;
  findings: StderrFindings;
  durationMs: number;
  // A stopping signal arrived while it ran: borg's own answer to it stands.
  stopped: boolean;
  // A draw in [0, 1) for the pause's jitter (Math.random in a run).
  random: number;
  // tborg's TCP probe of ssh's host and port after this attempt (connect-wait.ts wantsProbe), if made.
  probe?: ProbeResult | undefined;
}

// One line of tborg's: terminal.message at `level`, or terminal.warn for the plan's warnings.
export interface Line {
  text: string;
  level: LogLevel | 'warn';
}

// What to print: `before`, then borg's held-back lock message (AttemptResult.held) when `showHeld`
// (borg's answer stands) or nothing of it (tborg retries and says so itself), then `after`.
interface Said {
  before: Line[];
  showHeld: boolean;
  after: Line[];
}

export type Step = Said &
  (
    | { next: 'done'; exitCode: number }
    // checkLanded: before the next attempt, find out whether the lost attempt's archive landed
    // (landed.ts; attempts.ts runs the check, afterLandedCheck decides).
    | { next: 'retry'; delayMs: number; wait: WaitKind; checkLanded?: true }
    // tborg stopped waiting (the deadline, the connect wait): borg's exit code, and why.
    | { next: 'give-up'; exitCode: number }
  );

// A run's state before its first attempt.
export function startRun(plan: RunState['plan'], cache: RunState['cache'], now: number): RunState {
  return {
    plan,
    cache,
    start: now,
    deadline: now + plan.retry.deadlineSeconds * 1000,
    attempts: 0,
    attemptLockWait: null,
    overheadMs: 0,
    quickFailures: 0,
    connectionFailures: 0,
    lockRetries: 0,
    lockWaitMs: 0,
    waitWarned: false,
    storeLockSaid: false,
    connect: CONNECT_START,
    lastKind: 'other',
    lastLines: [],
  };
}

// The state as the next attempt starts, with the --lock-wait it gets: the plan's for the first; later
// ones are cut to what is left, start-up included, so tborg gives up by the deadline plus about one
// poll (--tborg-max-wait 15: ~15 s, not 20).
export function startAttempt(state: RunState, now: number): RunState {
  const { lockWait, borg } = state.plan;
  const remainingSeconds = Math.max(1, Math.floor((state.deadline - now - state.overheadMs) / 1000));
  const attemptLockWaitSeconds =
    state.attempts === 0 || lockWait.attemptSeconds === null
      ? lockWait.attemptSeconds
      : attemptLockWait(remainingSeconds, borg.major, lockWait.model?.kind);
  return { ...state, attempts: state.attempts + 1, attemptLockWait: attemptLockWaitSeconds };
}

// The decision after the attempt startAttempt began, and the run's next state.
export function nextStep(state: RunState, ended: EndedAttempt, now: number): { step: Step; state: RunState } {
  const { plan } = state;
  const kind = classifyAttempt(ended.exitCode, ended.findings);
  let s: RunState = { ...state, lastKind: kind, lastLines: ended.findings.lastLines };
  const done = (said: Partial<Said> = {}): { step: Step; state: RunState } => ({
    step: { next: 'done', exitCode: ended.exitCode, ...saying(said) },
    state: s,
  });
  if (ended.stopped) return done();

  const host = plan.repository?.host ?? null;
  const rules = { waitSeconds: plan.retry.connectWaitSeconds, start: s.start, host: host ?? 'the server' };
  const reach = decideConnect(rules, s.connect, {
    exitCode: ended.exitCode,
    findings: ended.findings,
    now,
    random: ended.random,
    probe: ended.probe,
  });
  s = { ...s, connect: reach.state };
  if (reach.decision.retry) {
    // The lock wait starts when the server can be reached. borg's held message is dropped like a
    // retried lock timeout's: tborg's line says what ssh said.
    s = { ...s, deadline: Math.max(s.deadline, now + plan.retry.deadlineSeconds * 1000) };
    return {
      step: {
        next: 'retry',
        delayMs: reach.decision.delayMs,
        wait: 'unreachable',
        ...saying({ before: [info(reach.decision.line)], showHeld: false }),
      },
      state: s,
    };
  }
  if (reach.decision.line)
    return { step: { next: 'give-up', exitCode: ended.exitCode, ...saying({ after: [info(reach.decision.line)] }) }, state: s };

  if (kind === 'lock-timeout' && plan.retry.lockTimeouts) return afterLockTimeout(s, ended, now);
  if (kind === 'connection-lost' && host) {
    const warnings = waitWarnings(s);
    s = { ...s, waitWarned: true };
    if (plan.retry.noConnectionRetry)
      return done({
        before: warnings,
        after: [{ text: `not retrying the lost connection: ${plan.retry.noConnectionRetry}`, level: 'WARNING' }],
      });
    if (s.connectionFailures >= plan.retry.connectionRetries) return done({ before: warnings });
    const serverBoundSeconds = plan.lockWait.model?.seconds ?? 0;
    const bound = capOf(plan);
    let deadline: number;
    let allowing: string;
    if (bound) {
      // A bound of the user's bounds the whole wait (README "How long tborg waits for a lock"): the
      // wait after a lost connection gets what is left of it, never more. The user's own --lock-wait
      // is not tborg's to cut, so another attempt is started only when all of it fits.
      const leftMs = plan.retry.deadlineSeconds * 1000 - s.lockWaitMs;
      const needMs = plan.lockWait.userGiven ? plan.lockWait.seconds * 1000 : 1000;
      if (leftMs < needMs) {
        const why =
          plan.lockWait.userGiven && leftMs >= 1000
            ? `another attempt could wait its whole --lock-wait ${plan.lockWait.seconds} for the lock, past the ${formatDuration(plan.retry.deadlineSeconds)} wait (${bound})`
            : `the ${formatDuration(plan.retry.deadlineSeconds)} wait (${bound}) is spent`;
        return done({ before: warnings, after: [{ text: `not retrying the lost connection: ${why}`, level: 'WARNING' }] });
      }
      deadline = now + leftMs;
      allowing = `waiting at most ${formatDuration(Math.round(leftMs / 1000))} more (${bound})`;
    } else {
      // The old `borg serve` may still hold the lock until the server's sshd notices: the wait starts
      // over and covers the server bound.
      deadline = Math.max(s.deadline, now + serverBoundSeconds * 1000);
      allowing = oldLockWords(plan.lockWait.model?.kind === 'store', serverBoundSeconds);
    }
    s = { ...s, connectionFailures: s.connectionFailures + 1, quickFailures: s.quickFailures + 1, deadline };
    const line = `the connection to ${host} was lost; retrying (${s.connectionFailures} of ${plan.retry.connectionRetries}), ${allowing}`;
    const check = plan.retry.landedCheck ? { checkLanded: true as const } : {};
    return {
      step: {
        next: 'retry',
        delayMs: pauseAfter(s, ended, now),
        wait: 'connection',
        ...check,
        ...saying({ before: [...warnings, { text: line, level: 'WARNING' }] }),
      },
      state: s,
    };
  }
  return done();
}

// After the landed check a lost create or rename asked for (checkLanded): the archive is there, so the
// run ends as the clean run would have (exit 0: the first attempt's warnings, if any, went with its
// lost answer); it is not, so the retry goes ahead at once (the check already waited for the old
// lock); or the check failed, so borg's error stands, and why.
export function afterLandedCheck(state: RunState, answer: LandedAnswer, ended: EndedAttempt, now: number): { step: Step; state: RunState } {
  const check = state.plan.retry.landedCheck;
  if ('locked' in answer) {
    // The old lock outlived the wait: tborg gives up as on a lock timeout, with the same explanation.
    const after = giveUpLines(state, answer.locked, isCacheLock(answer.locked, state.cache.env, state.cache.home), now);
    return { step: { next: 'give-up', exitCode: ended.exitCode, ...saying({ showHeld: false, after }) }, state };
  }
  if ('error' in answer) {
    const text = `not retrying the lost connection: could not find out whether the archive ${check?.archive ?? ''} landed (${answer.error})`;
    return { step: { next: 'done', exitCode: ended.exitCode, ...saying({ showHeld: false, after: [{ text, level: 'WARNING' }] }) }, state };
  }
  if (answer.landed === null) return { step: { next: 'retry', delayMs: 0, wait: 'connection', ...saying({ showHeld: false }) }, state };
  const did = check?.kind === 'rename' ? `the archive had been renamed to ${answer.landed}` : `the archive ${answer.landed} had landed`;
  const text = `${did} before the connection was lost (the repository's archive list shows it): not running borg again; exit 0, as the clean run`;
  return { step: { next: 'done', exitCode: 0, ...saying({ showHeld: false, after: [info(text)] }) }, state: { ...state, lastKind: 'ok' } };
}

// A lock timeout while tborg waits for the lock: another attempt if one fits before the deadline,
// else give up with borg's exit code and tborg's explanation.
function afterLockTimeout(state: RunState, ended: EndedAttempt, now: number): { step: Step; state: RunState } {
  const { plan, cache } = state;
  const warnings = waitWarnings(state);
  const lockWaitMs = state.attemptLockWait === null ? null : state.attemptLockWait * 1000;
  let s: RunState = {
    ...state,
    waitWarned: true,
    overheadMs: lockWaitMs !== null && ended.durationMs >= lockWaitMs ? ended.durationMs - lockWaitMs : state.overheadMs,
    lockRetries: state.lockRetries + 1,
    lockWaitMs: state.lockWaitMs + ended.durationMs,
    quickFailures: isQuickFailure(ended.durationMs, lockWaitMs) ? state.quickFailures + 1 : 0,
  };
  const lock = ended.findings.lockTimeout?.path;
  const cacheLock = isCacheLock(lock, cache.env, cache.home);
  const store = plan.lockWait.model?.kind === 'store' && !s.storeLockSaid;
  const storeLine = (): Line => info(storeLockWaitMessage(plan, formatDuration(Math.round(Math.max(0, s.deadline - s.start) / 1000))));
  const delayMs = pauseAfter(s, ended, now);
  // Another attempt only when at least a 1 s lock wait fits before the deadline, start-up and pause
  // included: an attempt that cannot end in time is not started (nor announced).
  if (s.deadline - now - delayMs - s.overheadMs >= 1000) {
    const before = [...warnings];
    // Said at the first attempt's lock timeout: whose lock it is, or why a store lock's wait is long.
    if (s.attempts === 1 && cacheLock) before.push(info(`the local cache lock ${lock} is held by another borg on this machine; waiting`));
    else if (s.attempts === 1 && store) before.push(storeLine());
    s = { ...s, lockWaitMs: s.lockWaitMs + delayMs, storeLockSaid: s.storeLockSaid || (s.attempts === 1 && !cacheLock && store) };
    return { step: { next: 'retry', delayMs, wait: 'lock', ...saying({ before, showHeld: false }) }, state: s };
  }
  const after = [...(!cacheLock && store ? [storeLine()] : []), ...giveUpLines(s, lock, cacheLock, now)];
  s = { ...s, storeLockSaid: s.storeLockSaid || (!cacheLock && store) };
  return { step: { next: 'give-up', exitCode: ended.exitCode, ...saying({ before: warnings, after }) }, state: s };
}

// tborg's explanation when it stops waiting for a held lock (give-up-message.ts).
function giveUpLines(state: RunState, lockPath: string | undefined, cacheLock: boolean, now: number): Line[] {
  const { plan } = state;
  const server = plan.lockWait.model?.serverAlive;
  return describeGiveUp({
    waitedSeconds: Math.round((now - state.start) / 1000),
    attempts: state.attempts,
    repository: plan.repository?.location ?? '',
    host: plan.repository?.host ?? null,
    lockPath,
    cacheLock,
    serverAlive: server ? `${server.interval}x${server.countMax}` : 'not set',
  }).map((text): Line => ({ text, level: 'ERROR' }));
}

// The pause before the next attempt (backoff.ts), never past the deadline.
function pauseAfter(state: RunState, ended: EndedAttempt, now: number): number {
  return nextDelayMs({
    attemptDurationMs: ended.durationMs,
    attemptLockWaitMs: state.attemptLockWait === null ? null : state.attemptLockWait * 1000,
    quickFailuresInARow: state.quickFailures,
    remainingMs: Math.max(0, state.deadline - now),
    random: ended.random,
  });
}

// The user's bound on the whole wait (--tborg-max-wait, --lock-wait, BORG_LOCK_WAIT), or null when
// tborg's model sets the wait.
function capOf(plan: RunState['plan']): string | null {
  const source = plan.retry.boundSource;
  return source === null || source === 'model' ? null : source;
}

// The plan's warnings that matter only once a run had to wait (a short --lock-wait of the user's), once.
function waitWarnings(state: RunState): Line[] {
  if (state.waitWarned) return [];
  return state.plan.warnings.filter((w) => w.onWait).map((w) => ({ text: w.text, level: 'warn' }));
}

function info(text: string): Line {
  return { text, level: 'INFO' };
}

function saying(said: Partial<Said>): Said {
  return { before: said.before ?? [], showHeld: said.showHeld ?? true, after: said.after ?? [] };
}
