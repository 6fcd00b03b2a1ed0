import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runBufferedChildSync } from '../process/buffered-child.js';
import { markChildEnv } from '../process/child-marker.js';
import { findBaseDirectory, makeDirectorySync } from '../process/state-files.js';

export interface BorgVersion {
  // As printed, e.g. "1.2.4" or "2.0.0b5".
  version: string;
  major: number;
}

// `borg --version` costs ~0.2-0.3 s of Python start-up. The answer is cached per binary, keyed by
// its identity (path, device, inode, size, mtime): a package upgrade rewrites the file and so
// invalidates the entry. No cache without an absolute home (state-files.ts findBaseDirectory): never
// a file relative to the working directory.
function cacheFile(env: NodeJS.ProcessEnv): string | null {
  const base = findBaseDirectory(env, 'cache');
  return base === null ? null : join(base, 'tborg', 'borg-versions.json');
}

function identity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${path}|${s.dev}|${s.ino}|${s.size}|${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function parseBorgVersion(output: string): BorgVersion | undefined {
  // "borg 1.2.4", "borg2 2.0.0b5", "borg 1.4.0.dev12+g...": the word after the program's name on
  // the line that starts with it (`borg --version` prints `%(prog)s <version>`, argparse's format).
  const match = /^\S*borg\S*\s+((\d+)\.\d+(?:\.\d+)?\S*)/m.exec(output.trim());
  if (!match) return undefined;
  return { version: match[1]!, major: Number(match[2]) };
}

// Which line of tborg's tables a borg of `version` ("1.2.4", "2.0.0b25") follows: 2 for borg 2 and
// later, else 1, also when the version is unknown (borg 1 is what most machines run). The one place
// the line is derived from a version.
export function borgLine(version: string | null | undefined): 1 | 2 {
  return version != null && Number.parseInt(version, 10) >= 2 ? 2 : 1;
}

// How long `borg --version` may take: Python's start-up is ~0.3 s, far more on a cold, loaded machine.
const BORG_VERSION_TIMEOUT_MS = 30_000;

// Reads borg's version (cached, see above); undefined when borg does not say one (the plan then
// assumes borg 1.x and says "version unknown").
export function readBorgVersion(borgPath: string, env: NodeJS.ProcessEnv): BorgVersion | undefined {
  const key = identity(borgPath);
  const file = cacheFile(env);
  let cache: Record<string, BorgVersion> = {};
  try {
    if (file !== null) cache = JSON.parse(readFileSync(file, 'utf8')) as Record<string, BorgVersion>;
  } catch {
    cache = {};
  }
  if (key !== undefined && cache[key]) return cache[key];
  // Marked like every borg tborg starts: a wrapper script named borg that runs tborg must answer
  // (through the real borg) rather than start tborg again (recursion-guard.ts).
  const result = runBufferedChildSync(borgPath, ['--version'], { env: markChildEnv(env, borgPath), timeoutMs: BORG_VERSION_TIMEOUT_MS });
  // Whatever went wrong (no answer, an exit code), only a version line counts.
  const parsed = parseBorgVersion(`${result.stdout}\n${result.stderr}`);
  if (parsed && key !== undefined && file !== null) {
    // Keep only this binary's entries plus a few others; write atomically so concurrent
    // tborg runs (five cron jobs at :00) never read a half-written file.
    const entries = Object.entries(cache)
      .filter(([k]) => !k.startsWith(`${borgPath}|`))
      .slice(-15);
    const next = Object.fromEntries([...entries, [key, parsed]]);
    try {
      // One level at a time: node's recursive mkdir never ends where a parent cannot be made (/proc).
      makeDirectorySync(dirname(file));
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(next));
      renameSync(tmp, file);
    } catch {
      // A read-only home is no reason to fail a backup: the version is just not cached.
    }
  }
  return parsed;
}
