import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  chmodSync,
  existsSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TborgError } from '../core/errors.js';
import { runBufferedChild, type BufferedChildResult } from '../process/buffered-child.js';
import type { AlivePair } from './alive-pair.js';
import type { EditPlan } from './ssh-config-edit.js';
import { collectHostNames } from './ssh-config-host-names.js';
import { userConfigFile } from './ssh-config-source.js';
import { parseSshG, sshStderrLine, type SshSettings } from './ssh-settings.js';

// The checked write of `tborg ssh-config --write`: the edited text goes to a candidate file beside
// the config, `ssh -G -F candidate` must accept it, give HOST the new keepalive and change nothing else
// for any host; then a backup copy FILE.tborg-backup-<UTC time> is made and the candidate atomically
// replaces the file (through symlinks: the file that is really read is the one written).

// The config file as read before the edit; the write checks that it is still what it was.
export interface ConfigFile {
  // As the user named it (or ~/.ssh/config), and the file that is really written (through symlinks).
  path: string;
  realPath: string;
  explicit: boolean;
  text: string;
  exists: boolean;
  stats: Stats | undefined;
}

// Reads the file given with --config (`given`), else ~/.ssh/config of the user in the password database.
export function readConfigFile(given: string | undefined): ConfigFile {
  const explicit = given !== undefined;
  const path = given !== undefined ? resolve(given) : userConfigFile(['ssh'])!;
  let realPath = path;
  try {
    realPath = realpathSync(path);
  } catch {
    // Missing (or a dangling symlink: then ssh cannot read it either; we create the path given).
  }
  try {
    const stats = statSync(realPath);
    if (!stats.isFile()) throw new TborgError(`${path} is not a regular file`);
    return { path, realPath, explicit, text: readFileSync(realPath, 'utf8'), exists: true, stats };
  } catch (error) {
    if (error instanceof TborgError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, realPath, explicit, text: '', exists: false, stats: undefined };
    throw new TborgError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

// What the write did: the backup's path (none for a new file) and how many other host names ssh -G compared.
export interface WriteResult {
  backup: string | undefined;
  checked: number;
}

// Writes plan.text over the file once ssh -G has checked it (see the header); throws TborgError, file untouched.
export async function writeChecked(
  file: ConfigFile,
  host: string,
  keepalive: AlivePair,
  plan: EditPlan,
  env: NodeJS.ProcessEnv,
): Promise<WriteResult> {
  const dir = dirname(file.realPath);
  if (!existsSync(dir)) {
    if (file.explicit) throw new TborgError(`cannot create ${file.path}: ${dir} does not exist`);
    // ~/.ssh as ssh-keygen creates it: only the user may enter it.
    mkdirSync(dir, { mode: 0o700 });
  }
  const mode = file.stats ? file.stats.mode & 0o7777 : 0o600;
  const candidate = join(dir, `.${basename(file.realPath)}.tborg-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    writeFileDurably(candidate, plan.text, mode, file.stats);
    const checked = await checkCandidate(file, candidate, host, keepalive, env);
    // Someone (an editor, another tborg) changed the file meanwhile: do not overwrite their change.
    const nowText = file.exists ? readFileSync(file.realPath, 'utf8') : existsSync(file.realPath) ? '\0changed' : '';
    if (nowText !== file.text) {
      throw new TborgError(`${file.path} changed while tborg was checking the edit; nothing written, run again`);
    }
    const backup = file.exists ? makeBackup(file.realPath, mode) : undefined;
    renameSync(candidate, file.realPath);
    renamed = true;
    syncDirectory(dir);
    return { backup, checked };
  } finally {
    if (!renamed) {
      try {
        unlinkSync(candidate);
      } catch {
        // already gone
      }
    }
  }
}

function writeFileDurably(path: string, text: string, mode: number, like: Stats | undefined): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
    fchmodSync(fd, mode);
    if (like && process.getuid?.() === 0 && (like.uid !== 0 || like.gid !== 0)) {
      // root editing another user's file: the file stays theirs (ssh refuses a config owned by
      // someone else).
      try {
        fchownSync(fd, like.uid, like.gid);
      } catch {
        // best effort
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// FILE.tborg-backup-20260126T030405Z: sorts by time, never overwrites an earlier backup or the
// user's own config.bak, and says who made it.
function makeBackup(path: string, mode: number): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  for (let n = 0; ; n++) {
    const backup = `${path}.tborg-backup-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      copyFileSync(path, backup, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue;
      throw new TborgError(`cannot write the backup ${backup}: ${(error as Error).message}; nothing written`, { cause: error });
    }
    chmodSync(backup, mode);
    return backup;
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a directory be fsynced; the rename itself is atomic.
  }
}

// The candidate must (1) be accepted by ssh, (2) give HOST the new values and change nothing else for
// HOST, (3) give every other host the file names (and a few made-up ones) exactly the `ssh -G` output
// it had. Returns how many other names were compared.
async function checkCandidate(
  file: ConfigFile,
  candidate: string,
  host: string,
  keepalive: AlivePair,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const original = file.exists ? file.realPath : '/dev/null';
  const mine = await runSshG(['-F', candidate, host], env);
  if (mine.exitCode !== 0) {
    throw new TborgError(
      `ssh refuses the edited file: ${sshStderrLine(mine.stderr) || mine.spawnError || 'no reason given'}; ${file.path} untouched`,
    );
  }
  const after = parseSshG(mine.stdout, host);
  if (after.serverAliveInterval !== keepalive.interval || after.serverAliveCountMax !== keepalive.countMax) {
    throw new TborgError(
      `the edit would not take effect (ssh -G shows ServerAliveInterval ${after.serverAliveInterval}, ` +
        `ServerAliveCountMax ${after.serverAliveCountMax} for ${host}); ${file.path} untouched`,
    );
  }
  const before = await runSshG(['-F', original, host], env);
  if (before.exitCode === 0 && !onlyKeepaliveDiffers(parseSshG(before.stdout, host), after)) {
    throw new TborgError(`the edit would change more than the keepalive for ${host}; ${file.path} untouched`);
  }
  const names = new Set<string>([
    ...(file.exists ? collectHostNames(file.realPath) : []),
    ...collectHostNames(candidate),
    // Names the file does not mention: they get the file's defaults, which must stay as they were.
    'tborg-check-unlisted.example',
    `${host}-tborg-check`,
    `tborg-check.${host}`,
    host.toUpperCase(),
    'localhost',
  ]);
  names.delete(host);
  const list = [...names].slice(0, 400);
  const changed: string[] = [];
  await forEachLimited(list, 4, async (name) => {
    const [a, b] = await Promise.all([runSshG(['-F', original, name], env), runSshG(['-F', candidate, name], env)]);
    if (a.exitCode !== b.exitCode || a.stdout !== b.stdout) changed.push(name);
  });
  if (changed.length > 0) {
    throw new TborgError(`the edit would also change ssh settings for ${changed.sort().join(', ')}; ${file.path} untouched`);
  }
  return list.length;
}

function onlyKeepaliveDiffers(a: SshSettings, b: SshSettings): boolean {
  const keys = new Set([...Object.keys(a.raw), ...Object.keys(b.raw)]);
  keys.delete('serveraliveinterval');
  keys.delete('serveralivecountmax');
  return [...keys].every((k) => JSON.stringify(a.raw[k]) === JSON.stringify(b.raw[k]));
}

// `ssh -G` through the one runner of buffered children: stdin closed, it never prompts and never connects.
function runSshG(args: string[], env: NodeJS.ProcessEnv): Promise<BufferedChildResult> {
  return runBufferedChild('ssh', ['-G', ...args], { env, timeoutMs: CHECK_SSH_G_TIMEOUT_MS });
}

// ssh -G reads files only; 20 s is for a `Match exec` in the user's config. Not the run's
// SSH_G_TIMEOUT_MS (ssh-settings.ts, 10 s): this check has always allowed 20.
const CHECK_SSH_G_TIMEOUT_MS = 20_000;

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
