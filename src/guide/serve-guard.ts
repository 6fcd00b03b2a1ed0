import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { buildServeGuardScript } from './serve-guard-script.js';

// Installing the server half's guard (README "The server half") on the machine tborg runs on: the
// account that will own the key's forced command. Writing is atomic (a temporary file in the same
// directory, renamed over the old one: sshd may start the guard at any moment) and idempotent (the
// same text is not written again).

// Where `tborg authorized-keys --guard` puts the guard unless --guard-path says otherwise: the
// account's own bin directory (XDG's ~/.local/bin), no root needed.
export function defaultGuardPath(home: string): string {
  return join(home, '.local', 'bin', 'tborg-serve-guard');
}

export type GuardInstall = 'written' | 'unchanged';

// Writes the guard to `path` (absolute), mode 0755. 'unchanged' when the file already holds this
// exact text and is executable.
export function installServeGuard(path: string): GuardInstall {
  if (!path.startsWith('/')) throw new UsageError(`--guard-path ${JSON.stringify(path)} is not an absolute path (it must start with /)`);
  const text = buildServeGuardScript();
  let current: string | null = null;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = null;
  }
  if (current === text) {
    chmodSync(path, 0o755);
    return 'unchanged';
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, 'wx', 0o755);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The umask may have taken bits off the mode given to open.
    chmodSync(temporary, 0o755);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot write the guard to ${path}: ${code}`);
  }
  return 'written';
}
