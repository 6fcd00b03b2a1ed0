import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isSuccess } from './ping.js';
import { findBaseDirectory, makeDirectory, NoStateDirectoryError } from '../process/state-files.js';

// One small JSON file per repository: its last backup, and the last run of each maintenance
// command, each with when it last succeeded (README "Monitoring"). `tborg status` and the metrics
// file read them; so can any monitoring agent. Written after borg has ended, atomically (temp file
// + rename), under a short-lived lock file so that cron jobs ending together keep each other's runs.

// Bumped when a field changes meaning, so readers (tborg status, scripts) can tell. 2: the last
// backup and each maintenance command apart (1 had one run of any command that writes).
const RECORD_VERSION = 2;

// One command's last run and its last success.
export interface RunSummary {
  command: string;
  start: string;
  end: string;
  exitCode: number;
  lockWaitSeconds: number;
  attempts: number;
  lockRetries: number;
  connectionRetries: number;
  // Attempts retried because the server could not be reached at start (--tborg-connect-wait).
  unreachableRetries: number;
  borgVersion: string | null;
  // The end of the last run of this kind that ended in success (ping.ts isSuccess); null if never.
  lastSuccess: string | null;
}

// The file's content (README "Monitoring" shows one).
export interface StatusRecord {
  version: number;
  repository: string;
  // The last backup (create, import-tar: CommandSpec.monitor); null before the first.
  backup: RunSummary | null;
  // The last run of each maintenance command (prune, compact, check, ...), by its name.
  maintenance: Record<string, RunSummary>;
}

// What one run contributes: which repository, whether it was a backup or maintenance, and the run.
export interface RunRecord extends Omit<RunSummary, 'lastSuccess'> {
  repository: string;
  kind: 'backup' | 'maintenance';
}

// $XDG_STATE_HOME/tborg, else ~/.local/state/tborg (the XDG base directory spec's default);
// NoStateDirectoryError without an absolute home (state-files.ts findBaseDirectory).
function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base = findBaseDirectory(env, 'state');
  if (base === null) throw new NoStateDirectoryError();
  return join(base, 'tborg');
}

// A file name any file system takes, readable, and unique per location (the hash): `ssh://u@h:2/srv/r`
// -> `ssh-u-h-2-srv-r-1b2c3d4e5f.json`.
export function recordFileName(repository: string): string {
  const readable =
    repository
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'repository';
  const hash = createHash('sha256').update(repository).digest('hex').slice(0, 10);
  return `${readable}-${hash}.json`;
}

// Where this run's record goes: --tborg-status-file PATH (a file, or an existing directory or one
// ending in "/" to hold one file per repository), else the state directory.
export async function recordPath(statusFile: string | undefined, env: NodeJS.ProcessEnv, repository: string): Promise<string> {
  if (statusFile === undefined) return join(defaultStateDir(env), recordFileName(repository));
  if (statusFile.endsWith('/') || (await isDirectory(statusFile))) return join(statusFile, recordFileName(repository));
  return statusFile;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

// The record after this run, from the one before it (same repository or none).
export function nextRecord(previous: StatusRecord | undefined, run: RunRecord): StatusRecord {
  const same = previous?.repository === run.repository ? previous : undefined;
  const { repository, kind, ...summary } = run;
  const before = kind === 'backup' ? same?.backup : same?.maintenance[run.command];
  const earlier = before?.lastSuccess ?? null;
  const next: RunSummary = { ...summary, lastSuccess: isSuccess(run.exitCode) ? latest(earlier, run.end) : earlier };
  return {
    version: RECORD_VERSION,
    repository,
    backup: kind === 'backup' ? next : (same?.backup ?? null),
    maintenance: kind === 'maintenance' ? { ...same?.maintenance, [run.command]: next } : { ...same?.maintenance },
  };
}

function latest(a: string | null, b: string): string {
  return a !== null && Date.parse(a) > Date.parse(b) ? a : b;
}

// A lock older than this was left by a tborg that died while writing (writes take milliseconds).
const STALE_LOCK_MS = 30_000;
const LOCK_TRIES_MS = 3_000;

// Read-modify-write under `<file>.lock` (O_EXCL). After LOCK_TRIES_MS the record is written
// anyway: a late record is better than none, and tborg must end when borg ended.
export async function writeRecord(path: string, run: RunRecord): Promise<StatusRecord> {
  await makeDirectory(dirname(path));
  return withLockFile(`${path}.lock`, async () => {
    const record = nextRecord(await readRecord(path), run);
    // Unique per write, not per process: writers in one process (or past the lock's wait) must
    // never share a temporary file, or one's rename finds it gone.
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, path);
    return record;
  });
}

// Runs `work` holding `lock` (O_EXCL), or without it after LOCK_TRIES_MS (see writeRecord).
// The metrics file uses it too: its last writer then has read every record written before it.
export async function withLockFile<T>(lock: string, work: () => Promise<T>): Promise<T> {
  const locked = await takeLock(lock);
  try {
    return await work();
  } finally {
    if (locked) await unlink(lock).catch(() => undefined);
  }
}

async function takeLock(lock: string): Promise<boolean> {
  const until = Date.now() + LOCK_TRIES_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = await stat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) await unlink(lock).catch(() => undefined);
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, pause));
  }
}

// A record, or undefined when the file is missing or not one of ours. A version 1 record is not
// read: its last success could be a prune's (it counted every command that writes).
export async function readRecord(path: string): Promise<StatusRecord | undefined> {
  const value = await readJson(path);
  if (typeof value?.repository !== 'string' || typeof value.version !== 'number' || value.version < RECORD_VERSION) return undefined;
  if (typeof value.maintenance !== 'object' || value.maintenance === null) return undefined;
  return { version: value.version, repository: value.repository, backup: value.backup ?? null, maintenance: value.maintenance };
}

async function readJson(path: string): Promise<Partial<StatusRecord> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Partial<StatusRecord>;
  } catch {
    return undefined;
  }
}

// Deletes the version 1 record at `path` (an older tborg's, named by the location as written),
// once the repository has a record of the current version. Anything else there stays.
export async function removeOldRecord(path: string): Promise<void> {
  if ((await readJson(path))?.version === 1) await unlink(path).catch(() => undefined);
}

// The record files: the state directory's, or --tborg-status-file's (a directory's, or one file).
async function recordFiles(statusFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string[]> {
  const target = statusFile ?? defaultStateDir(env);
  const dir = statusFile === undefined || statusFile.endsWith('/') || (await isDirectory(target));
  if (!dir) return [target];
  return (await readdir(target).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => join(target, n));
}

// Every record, by repository.
export async function readAllRecords(statusFile: string | undefined, env: NodeJS.ProcessEnv): Promise<StatusRecord[]> {
  const records = await Promise.all((await recordFiles(statusFile, env)).map(readRecord));
  return records.filter((r): r is StatusRecord => r !== undefined).sort((a, b) => a.repository.localeCompare(b.repository));
}

// `tborg status --forget REPOSITORY`: deletes the records of that repository (as `tborg status`
// names it). Resolves to how many files were deleted.
export async function forgetRecords(statusFile: string | undefined, env: NodeJS.ProcessEnv, repository: string): Promise<number> {
  let count = 0;
  for (const path of await recordFiles(statusFile, env)) {
    if ((await readRecord(path))?.repository !== repository) continue;
    await unlink(path);
    count++;
  }
  return count;
}

// A kind of run that never succeeded is forgotten this long after its last run: a mistyped host or
// path in a one-off command must not fail `tborg status` every day (README "Monitoring").
export const NEVER_SUCCEEDED_KEPT_MS = 7 * 24 * 3600 * 1000;

// One repository's runs that count at `now`: the backup first, then maintenance by name.
export interface CountedRun {
  repository: string;
  kind: string;
  run: RunSummary;
}

export function listCountedRuns(records: readonly StatusRecord[], now: number): CountedRun[] {
  const counted: CountedRun[] = [];
  const counts = (run: RunSummary): boolean => run.lastSuccess !== null || now - Date.parse(run.end) <= NEVER_SUCCEEDED_KEPT_MS;
  for (const record of records) {
    if (record.backup && counts(record.backup)) counted.push({ repository: record.repository, kind: 'backup', run: record.backup });
    for (const name of Object.keys(record.maintenance).sort()) {
      const run = record.maintenance[name]!;
      if (counts(run)) counted.push({ repository: record.repository, kind: name, run });
    }
  }
  return counted;
}
