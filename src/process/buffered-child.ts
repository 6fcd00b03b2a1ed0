import { spawnSync } from 'node:child_process';

// The one way tborg runs a short child whose output it reads whole: `ssh -G`, `borg --version`,
// doctor's probes, ssh-config's check of an edited file. One policy for all of them:
// - stdin is /dev/null, so the child can never prompt (ssh's password or host-key question);
// - the caller's environment only (never process.env behind its back);
// - stdout and stderr buffered as UTF-8, at most `maxBuffer` bytes each;
// - a time limit; on timeout or abort the child's whole process group gets SIGTERM (borg releases its
//   lock on SIGTERM, and the ssh borg started is in that group), SIGKILL KILL_GRACE_MS later, and
//   whatever of the group is left after the child ended is killed too (nothing outlives tborg);
// - a child that cannot start is a result (`spawnError`), not an exception.
//
// The asynchronous runner is execa's (loaded here, on first use). The synchronous one is for the two
// facts a run needs before borg starts (`ssh -G`, `borg --version`): loading execa costs ~90 ms on
// this project's CI machine (`node -e "import('execa')"`, median of 3, quiet), more than tborg's whole
// plan, on every backup; node's spawnSync costs nothing to load. It cannot signal a group or escalate,
// so it kills the child itself with SIGKILL at the limit (a `Match exec` grandchild is ssh's to reap).

export interface BufferedChildOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  maxBuffer?: number;
}

export interface BufferedChildResult {
  // null when the child was killed by a signal or did not start.
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  // Stopped by tborg: the time limit passed (timedOut) or the caller aborted (aborted).
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  // The child could not be started (ENOENT, EACCES, ...): the system's words.
  spawnError?: string;
}

const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;
// How long a child has between SIGTERM and SIGKILL: borg needs well under a second to release a lock.
export const KILL_GRACE_MS = 2000;

// Runs `file args` under the policy above and resolves with what it did; never rejects.
export async function runBufferedChild(file: string, args: readonly string[], options: BufferedChildOptions): Promise<BufferedChildResult> {
  const { execa } = await import('execa');
  const started = Date.now();
  const child = execa(file, [...args], {
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    // A process group of its own, so a timeout reaches what the child started (borg's ssh).
    detached: true,
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  const pid = child.pid;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  let stoppedBy: 'timeout' | 'abort' | undefined;
  let hardKill: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'abort'): void => {
    if (stoppedBy) return;
    stoppedBy = why;
    killGroup('SIGTERM');
    hardKill = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = (): void => stop('abort');
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const result = await child;
  clearTimeout(timer);
  clearTimeout(hardKill);
  options.signal?.removeEventListener('abort', onAbort);
  if (stoppedBy) killGroup('SIGKILL');
  return {
    exitCode: result.exitCode ?? null,
    signal: (result.signal as NodeJS.Signals | undefined) ?? null,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    timedOut: stoppedBy === 'timeout',
    aborted: stoppedBy === 'abort',
    durationMs: Date.now() - started,
    ...(pid === undefined ? { spawnError: result.cause instanceof Error ? result.cause.message : result.shortMessage } : {}),
  };
}

// The same policy, synchronously, for the facts a run needs before borg starts (see above).
export function runBufferedChildSync(
  file: string,
  args: readonly string[],
  options: Omit<BufferedChildOptions, 'signal'>,
): BufferedChildResult {
  const started = Date.now();
  const result = spawnSync(file, [...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: options.env,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
  });
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  const timedOut = code === 'ETIMEDOUT';
  // spawnSync reports a child that never started with an error and no pid.
  const spawnError = result.error && !timedOut && !result.pid ? result.error.message : undefined;
  return {
    exitCode: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    timedOut,
    aborted: false,
    durationMs: Date.now() - started,
    ...(spawnError !== undefined ? { spawnError } : {}),
  };
}

// What went wrong with a child, in a few words for a one-line message, or null when it exited 0.
// `said` is what the child itself said (e.g. sshStderrLine(result.stderr)); it wins when non-empty.
export function describeChildFailure(result: BufferedChildResult, said: string, timeoutMs: number): string | null {
  if (result.spawnError !== undefined) return result.spawnError;
  if (result.timedOut) return `no answer after ${Math.round(timeoutMs / 1000)} s${said ? ` (${said})` : ''}`;
  if (result.aborted) return 'stopped';
  if (result.exitCode === 0) return null;
  if (said) return said;
  return result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
}
