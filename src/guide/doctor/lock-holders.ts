import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Check } from './check.js';

// Who holds a lock, from borg's lock files: after `borg list` got its lock, the cache lock of this
// machine and (for a local repository) the readers in the roster, which the probe cannot see.

// How long a lock holder seen in the lock files must stay to count as holding the lock: a reader's
// moment on the cache lock (see PROBE_LOCK_WAIT_SECONDS in probe-argv.ts) is over long before; a
// backup holds it for its whole run.
const LASTING_HOLDER_MS = 1500;

// A lock directory of borg (locking.py): `lock.exclusive/` holds one file named
// "<host id>.<pid>-<thread id hex>" (ExclusiveLock.unique_name) while someone holds it; `lock.roster`
// is JSON {"shared": [[host, pid, thread], ...], "exclusive": [...]} (LockRoster).
export interface LockHolder {
  host: string;
  pid: number;
  kind: 'exclusive' | 'shared';
}

// A holder from a lock.exclusive/ file name, or null when it is not borg's.
export function parseExclusiveName(name: string): LockHolder | null {
  const m = /^(.*)\.(\d+)-[0-9a-f]+$/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]), kind: 'exclusive' } : null;
}

// The holders in a lock.roster text ([] when it is not borg's JSON).
export function parseRoster(text: string): LockHolder[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const holders: LockHolder[] = [];
  if (typeof data !== 'object' || data === null) return holders;
  for (const kind of ['exclusive', 'shared'] as const) {
    const list = (data as Record<string, unknown>)[kind];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number') {
        holders.push({ host: entry[0], pid: entry[1], kind });
      }
    }
  }
  return holders;
}

// `exclusive lock of pid 42 on box, running`: a holder in a lock check's detail.
function describeHolder(h: LockHolder, alive: boolean | null): string {
  const state = alive === null ? '' : alive ? ', running' : ', gone: stale, borg removes it itself';
  return `${h.kind} lock of pid ${h.pid} on ${h.host.split('@')[0]}${state}`;
}

// After a free repository lock: the local cache lock of this repository (another borg on this
// machine; `borg list` does not take it, `borg create` does), or, for a local repository, other
// readers in its roster. `holders` are what the files said, `ownHost` tells which pids to test.
export function checkHolders(
  kind: 'cache' | 'repository',
  path: string,
  holders: readonly LockHolder[],
  isAlive: (h: LockHolder) => boolean | null,
): Check | null {
  if (holders.length === 0) return null;
  const described = holders.map((h) => describeHolder(h, isAlive(h)));
  const what =
    kind === 'cache'
      ? 'another borg on this machine uses its cache of this repository'
      : 'a reader (borg mount, list, extract?) holds it; a backup would wait';
  return {
    name: 'lock',
    status: 'warn',
    detail: `locked now (${kind} lock ${path}: ${described.join('; ')}): ${what}`,
    data: { locked: true, kind, path, holders },
  };
}

// The holders of the lock in `dir` that are still there `settleMs` later: a glimpse of another
// borg's momentary lock (see LASTING_HOLDER_MS) is not a lock anyone waits for. Reads the files at
// most twice; waits only when the first read found somebody.
export async function lastingLockHolders(
  dir: string,
  settleMs = LASTING_HOLDER_MS,
  read: (dir: string) => LockHolder[] = readLockHolders,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<LockHolder[]> {
  const first = read(dir);
  if (first.length === 0) return first;
  await sleep(settleMs);
  const second = read(dir);
  return second.filter((h) => first.some((f) => f.host === h.host && f.pid === h.pid && f.kind === h.kind));
}

// Who holds the lock in `dir` (a repository or a cache directory), from borg's lock files; [] when
// there are none or they cannot be read.
export function readLockHolders(dir: string): LockHolder[] {
  const holders: LockHolder[] = [];
  try {
    for (const name of readdirSync(join(dir, 'lock.exclusive'))) {
      const h = parseExclusiveName(name);
      if (h) holders.push(h);
    }
  } catch {
    // no exclusive lock
  }
  try {
    for (const h of parseRoster(readFileSync(join(dir, 'lock.roster'), 'utf8'))) {
      if (!holders.some((x) => x.host === h.host && x.pid === h.pid)) holders.push(h);
    }
  } catch {
    // no roster
  }
  return holders;
}

// Whether a lock holder's process runs, when it is on this machine: borg's host id is
// BORG_HOST_ID, else "<fqdn>@<MAC as a number>" (platform/base.py hostid). null: another host.
export function holderAlive(holder: LockHolder, env: NodeJS.ProcessEnv): boolean | null {
  const ours = env.BORG_HOST_ID ? holder.host === env.BORG_HOST_ID : holder.host.split('@')[0]!.split('.')[0] === hostname().split('.')[0];
  if (!ours) return null;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
