import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// One small JSON file per repository, rewritten after every run that opens it: what ran, how it
// ended, how long tborg waited, and when a run that writes last succeeded. `tborg status` and the
// metrics file read them; so can any monitoring agent. Written after borg has ended, atomically
// (temp file + rename), under a short-lived lock file so that cron jobs ending together keep each
// other's last success.

// Bumped when a field changes meaning, so readers (tborg status, scripts) can tell.
export const RECORD_VERSION = 1;

// The file's content (README "Monitoring" shows one).
export interface StatusRecord {
  version: number;
  repository: string;
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
  // The end of the last run of a command that writes (ping.ts WRITE_COMMANDS) ending in 0 or 1.
  lastSuccess: string | null;
}

// What one run contributes; the version and the last success come from nextRecord.
export type RunRecord = Omit<StatusRecord, 'version' | 'lastSuccess'>;

// $XDG_STATE_HOME/tborg, else ~/.local/state/tborg (the XDG base directory spec's default).
export function defaultStateDir(env: NodeJS.ProcessEnv, home = homedir()): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(base, 'tborg');
}

// A file name any file system takes, readable, and unique per location (the hash): `ssh://u@h:2/srv/r`
// -> `ssh-u-h-2-srv-r-1b2c3d4e5f.json`.
export function recordFileName(repository: string): string {
  const readable = repository.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80) || 'repository';
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
export function nextRecord(previous: StatusRecord | undefined, run: RunRecord, writes: boolean): StatusRecord {
  const succeeded = writes && (run.exitCode === 0 || run.exitCode === 1);
  const earlier = previous?.repository === run.repository ? previous.lastSuccess : null;
  const lastSuccess = succeeded ? latest(earlier, run.end) : earlier;
  return { version: RECORD_VERSION, ...run, lastSuccess };
}

function latest(a: string | null, b: string): string {
  return a !== null && Date.parse(a) > Date.parse(b) ? a : b;
}

// A lock older than this was left by a tborg that died while writing (writes take milliseconds).
const STALE_LOCK_MS = 30_000;
const LOCK_TRIES_MS = 3_000;

// Read-modify-write under `<file>.lock` (O_EXCL). After LOCK_TRIES_MS the record is written
// anyway: a late record is better than none, and tborg must end when borg ended.
export async function writeRecord(path: string, run: RunRecord, writes: boolean): Promise<StatusRecord> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return withLockFile(`${path}.lock`, async () => {
    const record = nextRecord(await readRecord(path), run, writes);
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
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
    const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_LOCK_MS) await unlink(lock).catch(() => undefined);
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, pause));
  }
}

// A record, or undefined when the file is missing or not one of ours.
export async function readRecord(path: string): Promise<StatusRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<StatusRecord>;
    if (typeof value.repository !== 'string' || typeof value.exitCode !== 'number' || typeof value.end !== 'string') return undefined;
    return value as StatusRecord;
  } catch {
    return undefined;
  }
}

// Every record: the state directory's files, or --tborg-status-file's (a directory's, or one file).
export async function readAllRecords(statusFile: string | undefined, env: NodeJS.ProcessEnv): Promise<StatusRecord[]> {
  const target = statusFile ?? defaultStateDir(env);
  const dir = statusFile === undefined || statusFile.endsWith('/') || (await isDirectory(target));
  const paths = dir
    ? (await readdir(target).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort().map((n) => join(target, n))
    : [target];
  const records = await Promise.all(paths.map(readRecord));
  return records.filter((r): r is StatusRecord => r !== undefined).sort((a, b) => a.repository.localeCompare(b.repository));
}
