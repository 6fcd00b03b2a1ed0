import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TborgError } from '../core/errors.js';

// tborg's own package directory: anything that resolves inside it is tborg, not borg.
const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const INSTALL_HINT = 'install BorgBackup (Debian/Ubuntu: apt-get install borgbackup) or point TBORG_BORG at the real borg';

// A regular file this process may execute (a directory named borg on PATH is not borg).
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// True when `path` is this tborg (directly or through a symlink such as `borg -> tborg` early in
// PATH): running it would make tborg exec itself forever.
export function isTborg(path: string, selfPaths: readonly string[] = []): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  if (real === PACKAGE_DIR || real.startsWith(PACKAGE_DIR + '/')) return true;
  return selfPaths.some((self) => {
    try {
      return realpathSync(self) === real;
    } catch {
      return false;
    }
  });
}

// The real borg: --tborg-borg / TBORG_BORG if given, else the first executable `borg` on PATH that
// is not tborg itself.
export function findBorg(explicit: string | undefined, env: NodeJS.ProcessEnv, selfPaths: readonly string[] = []): string {
  if (explicit !== undefined) {
    const candidate = explicit.includes('/') ? resolve(explicit) : searchPath(explicit, env, selfPaths);
    if (candidate === undefined || !isExecutableFile(candidate)) {
      throw new TborgError(`the borg given by TBORG_BORG/--tborg-borg (${explicit}) is not an executable file; ${INSTALL_HINT}`);
    }
    if (isTborg(candidate, selfPaths)) {
      throw new TborgError(`TBORG_BORG/--tborg-borg (${explicit}) is tborg itself; point it at the real borg`);
    }
    return candidate;
  }
  const found = searchPath('borg', env, selfPaths);
  if (found === undefined) throw new TborgError(`no borg found on PATH; ${INSTALL_HINT}`);
  return found;
}

function searchPath(name: string, env: NodeJS.ProcessEnv, selfPaths: readonly string[]): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory, as for execvp(3).
    const candidate = join(dir === '' ? '.' : dir, name);
    const full = isAbsolute(candidate) ? candidate : resolve(candidate);
    if (isExecutableFile(full) && !isTborg(full, selfPaths)) return full;
  }
  return undefined;
}
