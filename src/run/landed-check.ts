import { BORG_LOCK_TIMEOUT } from '../borg/words/borg-words.js';
import { createPlaceholderResolver } from '../borg/placeholders.js';
import { hostname } from 'node:os';
import { archiveAuthor, readLanded, type LandedAnswer, type LandedCheck } from '../plan/landed.js';
import { runBufferedChild } from '../process/buffered-child.js';
import { passwdName } from '../process/passwd-home.js';

// Runs the landed check (plan/landed.ts) after a lost create or rename: borg's own archive list,
// taken under the repository lock like any reader's, so it waits until the lost attempt's borg
// serve let go and reads the repository as that attempt left it. It waits in --lock-wait steps of
// at most LIST_LOCK_WAIT_SECONDS (borg 1.x polls a held lock every min(60, wait / 10) s:
// locking.py TimeoutTimer), up to the run's deadline.
const LIST_LOCK_WAIT_SECONDS = 10;
// Beyond its lock wait, one list may take this long (ssh, borg's start-up, a big manifest).
const LIST_SLACK_MS = 120_000;

export interface LandedCheckRun {
  borgPath: string;
  borgVersion: string | null;
  env: NodeJS.ProcessEnv;
  check: LandedCheck;
  // The lost attempt's start (less a little for clock granularity): a landed archive started later.
  sinceMs: number;
  deadline: number;
  signal: AbortSignal;
}

export async function checkLanded(run: LandedCheckRun): Promise<LandedAnswer> {
  const resolve = createPlaceholderResolver(run.borgVersion);
  // Who borg stamps the archive with: the attempts' environment and this machine's names.
  const author = archiveAuthor(run.env, hostname(), passwdName());
  for (;;) {
    const wait = Math.max(1, Math.min(LIST_LOCK_WAIT_SECONDS, Math.floor((run.deadline - Date.now()) / 1000)));
    const result = await runBufferedChild(run.borgPath, ['--lock-wait', String(wait), ...run.check.listArgv], {
      env: run.env,
      timeoutMs: wait * 1000 + LIST_SLACK_MS,
      signal: run.signal,
    });
    if (result.exitCode === 0) return readLanded(result.stdout, run.check, resolve, run.sinceMs, author);
    if (result.aborted) return { error: 'stopped by a signal' };
    // borg 1.x and 2's LockTimeout (exit 2 with its message, 73 with modern exit codes).
    const locked = result.exitCode === 73 || BORG_LOCK_TIMEOUT.line.test(result.stderr);
    if (locked && Date.now() + 1000 < run.deadline) continue;
    if (locked) return { locked: BORG_LOCK_TIMEOUT.line.exec(result.stderr)?.[1] };
    const said = result.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
    return { error: result.spawnError ?? said ?? `borg exited with ${result.exitCode ?? result.signal}` };
  }
}
