import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { TborgError } from '../core/errors.js';
import { passwdHome } from './passwd-home.js';

// Where tborg keeps the files it writes for itself (status records, the metrics file's lock, the
// borg version cache) and how their directories are made. Every one of these files is optional:
// a directory that cannot be made costs a warning (or nothing), never the run.

// The XDG base directory spec's rule: $XDG_<KIND>_HOME when it is an absolute path, else under the
// home directory. The home directory is $HOME when absolute, else the password database's (what
// borg does for an unset HOME: helpers/fs.py get_base_dir, os.path.expanduser('~user')). null when
// neither is absolute: a relative HOME (or HOME='') would put state under the working directory.
export function findBaseDirectory(
  env: NodeJS.ProcessEnv,
  kind: 'state' | 'cache',
  passwdHome: () => string = readPasswdHome,
): string | null {
  const xdg = env[kind === 'state' ? 'XDG_STATE_HOME' : 'XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return xdg;
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : passwdHome();
  if (!isAbsolute(home)) return null;
  return kind === 'state' ? join(home, '.local', 'state') : join(home, '.cache');
}

function readPasswdHome(): string {
  return passwdHome() ?? '';
}

// The error for "no absolute home": said once, in the warning of whoever needed the directory.
export class NoStateDirectoryError extends TborgError {
  constructor() {
    super('no state directory: neither XDG_STATE_HOME nor HOME is an absolute path (set one, or --tborg-status-file)');
    this.name = 'NoStateDirectoryError';
  }
}

// How many missing parents are made at most: state directories are a few levels below a home that exists.
const MAX_NEW_LEVELS = 16;

// mkdir -p, one level at a time. node's own recursive mkdir loops forever at full CPU where a
// parent can never be made, e.g. under /proc (libuv's uv__fs_mkdir loop retries ENOENT); this stops
// at the first error that is not "exists".
export async function makeDirectory(path: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      await mkdir(dir, { mode });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      if (code !== 'ENOENT' || dirname(dir) === dir || missing.length >= MAX_NEW_LEVELS) throw error;
      missing.push(dir);
    }
  }
  for (const dir of missing.reverse()) {
    await mkdir(dir, { mode }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

// The same, synchronous (the version cache is written during planning).
export function makeDirectorySync(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      mkdirSync(dir, { mode });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      if (code !== 'ENOENT' || dirname(dir) === dir || missing.length >= MAX_NEW_LEVELS) throw error;
      missing.push(dir);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

// How long recording may take after borg ended, all files together: writes take milliseconds; a
// file system that hangs (a dead NFS home) must not hold the job. On expiry the run ends with a warning.
export const RECORD_BUDGET_MS = 5_000;

// `work`, or a rejection after `ms` (the work itself may go on; nothing waits for it).
export function limitDuration<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000}s; given up`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
