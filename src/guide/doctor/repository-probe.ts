import { isCacheLock } from '../../borg/borg-cache-dir.js';
import { BORG_LOCK_TIMEOUT, BORG_LOCK_TIMEOUT_MSGID, BORG_NO_REPOSITORY, BORG_SERVE_HINT } from '../../borg/words/borg-words.js';
import type { BufferedChildResult } from '../../process/buffered-child.js';
import { sshStderrLines } from '../../ssh/ssh-settings.js';
import { seconds, type Check } from './check.js';

// The repository and lock checks: what `borg list --json --last 1 --lock-wait 5 REPO` did. Pure.

// What interpretRepositoryProbe needs besides the child's result.
export interface RepositoryProbeContext {
  command: string; // e.g. "borg list", for messages
  env: NodeJS.ProcessEnv;
  home: string;
  timeoutSeconds: number;
  now: Date;
  // borg2 rest over ssh (b22+): the lock is a store lock in the repository (lock-wait.ts 'store').
  storeLock?: boolean;
}

// The probe gives two checks at once: the repository's and the lock's.
export interface RepositoryOutcome {
  repository: Check;
  lock: Check;
  // From borg's JSON, for the cache lock check.
  repositoryId: string | null;
}

interface ListJson {
  archives?: Array<{ name?: string; time?: string; start?: string }>;
  // borg 1.x and borg2 up to b21: {mode}; 2.0.0b25: {encryption, id_hash} (helpers/parseformat.py
  // basic_json_data: `"encryption": {"encryption": key.ENC_NAME, "id_hash": key.IDHASH_NAME}`).
  encryption?: { mode?: string; encryption?: string };
  repository?: { id?: string; last_modified?: string };
}

// "2 h ago", "3 d ago", "in the future".
export function describeAge(then: Date, now: Date): string {
  const s = (now.getTime() - then.getTime()) / 1000;
  if (!Number.isFinite(s)) return 'at an unknown time';
  if (s < -60) return 'in the future (clock skew?)';
  if (s < 90) return 'just now';
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// What `borg list --json --last 1 --lock-wait 5 REPO` (rlist/repo-list for borg 2) says about the
// repository and its lock. Messages are borg's own (docs/facts.md, measured on 1.2.4): the lock comes
// first (Repository.open takes it right after checking the directory exists), the key after it, so
// a passphrase problem means the lock was free.
export function interpretRepositoryProbe(result: BufferedChildResult, ctx: RepositoryProbeContext): RepositoryOutcome {
  const lines = sshStderrLines(result.stderr);
  const text = lines.join('\n');
  const last = lines
    .filter((l) => !/^Warning: Attempting to access|^Do you want to continue/.test(l))
    .slice(-2)
    .join('; ');
  const skipLock = (why: string): Check => ({ name: 'lock', status: 'skip', detail: why, data: { locked: null, kind: null, path: null } });
  const lockFree: Check = {
    name: 'lock',
    status: 'ok',
    detail: `not locked: ${ctx.command} got its lock (readers such as borg mount are not seen this way)`,
    data: { locked: false, kind: null, path: null },
  };
  const fail = (detail: string, lock: Check, data: Record<string, unknown> = {}): RepositoryOutcome => ({
    repository: { name: 'repository', status: 'fail', detail, data: { exitCode: result.exitCode, ...data } },
    lock,
    repositoryId: null,
  });
  if (result.spawnError) return fail(`cannot run borg: ${result.spawnError}`, skipLock('not checked'));
  // Stopped by doctor: the time limit, or an abort (the server probe failed, or the user's signal).
  if (result.timedOut || result.aborted) {
    return fail(
      `${ctx.command} did not finish within ${ctx.timeoutSeconds} s${last ? `: ${last}` : ''}`,
      skipLock('not checked: borg did not finish'),
    );
  }
  const lock = BORG_LOCK_TIMEOUT.line.exec(text);
  if (lock || result.exitCode === 73 || text.includes(BORG_LOCK_TIMEOUT_MSGID)) {
    const path = lock?.[1] ?? null;
    const cache = isCacheLock(path ?? undefined, ctx.env, ctx.home);
    const kind = cache ? 'cache' : 'repository';
    // borg2 2.0.0b24+ names the holders (storelocking.py format_locks: "exclusive lock on host H,
    // pid P, age A"); the probe's shared lock is blocked only by an exclusive one.
    const holders = /Repository is locked by: (.*?)\.?$/m.exec(text)?.[1];
    const why = cache
      ? 'another borg on this machine is using its cache of this repository'
      : ctx.storeLock
        ? `${holders ? `held by ${holders}` : 'another client holds an exclusive lock (check, compact, ...)'}; borg2 keeps a vanished client's lock in the repository until it is 30m0s old (tborg waits for that, see lock-wait)`
        : 'another borg is using it, or a stale borg serve is left from a dropped connection (tborg waits for it, see lock-wait)';
    return {
      repository: {
        name: 'repository',
        status: 'skip',
        detail: 'not opened: it is locked (see lock)',
        data: { exitCode: result.exitCode },
      },
      lock: {
        name: 'lock',
        status: 'warn',
        detail: `locked now (${kind} lock${path ? ` ${path}` : ''}): ${why}`,
        data: { locked: true, kind, path, ...(holders ? { holders } : {}) },
      },
      repositoryId: null,
    };
  }
  if (BORG_NO_REPOSITORY.line.test(text) || result.exitCode === 13) {
    return fail(`does not exist: ${last}`, skipLock('not checked: no repository'));
  }
  if (/is not a valid repository/.test(text) || result.exitCode === 15) {
    return fail(`not a borg repository: ${last}`, skipLock('not checked: no repository'));
  }
  if (/Repository path not allowed|path not allowed/i.test(text)) {
    return fail(
      `the server's borg serve refuses this path (--restrict-to-path/--restrict-to-repository): ${last}`,
      skipLock('not checked'),
    );
  }
  if (/Borg server is too old/.test(text)) {
    return fail(`the server's borg is too old for this borg: ${last}; point --remote-path at a newer borg`, skipLock('not checked'));
  }
  // borg 1.2: "passphrase supplied in ..."; 1.4.5 capitalises it ("Passphrase supplied in ...").
  if (/passphrase supplied in BORG_PASSPHRASE.* is incorrect/i.test(text) || result.exitCode === 52) {
    return fail(`wrong passphrase: ${last}`, lockFree);
  }
  if (/can not acquire a passphrase|Interactive password query failed|exceeded the maximum password retries/.test(text)) {
    return fail(
      'needs a passphrase and none is given (BORG_PASSPHRASE, BORG_PASSCOMMAND or BORG_PASSPHRASE_FD); borg would prompt, a cron job cannot answer',
      lockFree,
    );
  }
  if (/previously unknown unencrypted repository/.test(text) && /Aborting|aborted/.test(text)) {
    return fail(
      'borg asks before using an unencrypted repository it has not seen from this machine, and a cron job cannot answer: set BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes or run borg list once at a terminal',
      lockFree,
    );
  }
  if (/was previously located at/.test(text) && /Aborting|aborted/.test(text)) {
    return fail(
      'borg asks because the repository moved, and a cron job cannot answer: set BORG_RELOCATED_REPO_ACCESS_IS_OK=yes or run borg list once at a terminal',
      lockFree,
    );
  }
  if (BORG_SERVE_HINT.line.test(text) || [80, 81, 87].includes(result.exitCode ?? -1)) {
    return fail(`borg serve did not work on the server: ${last}`, skipLock('not checked: no connection'));
  }
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    return fail(`${ctx.command} failed (exit ${result.exitCode ?? 'none'})${last ? `: ${last}` : ''}`, skipLock('not checked'));
  }
  let json: ListJson | null = null;
  try {
    json = JSON.parse(result.stdout) as ListJson;
  } catch {
    json = null;
  }
  const newest = json?.archives?.at(-1);
  const when = newest?.time ?? newest?.start;
  const archive = newest
    ? `newest archive ${newest.name ?? '?'}${when ? ` from ${when.replace(/\.\d+$/, '')} (${describeAge(new Date(when), ctx.now)})` : ''}`
    : json
      ? 'no archives yet'
      : 'no JSON from borg';
  const mode = json?.encryption?.mode ?? json?.encryption?.encryption;
  const data = {
    exitCode: result.exitCode,
    id: json?.repository?.id ?? null,
    encryption: mode ?? null,
    newestArchive: newest ? { name: newest.name ?? null, time: when ?? null } : null,
    seconds: result.durationMs / 1000,
  };
  const detail = `opens (${mode ? `encryption ${mode}, ` : ''}${seconds(result.durationMs)}); ${archive}`;
  return {
    repository:
      result.exitCode === 1
        ? { name: 'repository', status: 'warn', detail: `${detail}; borg warned: ${last}`, data }
        : { name: 'repository', status: 'ok', detail, data },
    lock: lockFree,
    repositoryId: json?.repository?.id ?? null,
  };
}
