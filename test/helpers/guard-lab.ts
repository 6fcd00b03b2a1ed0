import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BorgLine } from '../lab/borgs.js';
import type { Lab } from '../lab/lab.js';

// The server half's guard in a lab (README "The server half"): installed the way the README shows
// for a server without Node, and the key lines with and without it.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

// The lines whose `borg serve` holds the repository lock: borg 1.x and borg2 2.0.0b5 (locking.py).
// borg2 2.0.0b10+ keeps store locks in the repository, written by the client (storelocking.py).
export function serveHoldsLock(line: BorgLine): boolean {
  return line.major === 1 || line.repoPrefix !== 'repo-';
}

function tborgOut(args: string[], input?: string): string {
  const r = spawnSync(process.execPath, [TBORG, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// `tborg authorized-keys --print-guard | ssh HOST 'mkdir -p ... && cat > ...new && chmod 755 ... && mv ...'`,
// through the lab's plain key (no forced command yet). Returns the guard's path on the server.
export async function installGuardOverSsh(lab: Lab): Promise<string> {
  const dir = join(lab.dir, 'server-home', '.local', 'bin');
  const path = join(dir, 'tborg-serve-guard');
  const script = tborgOut(['authorized-keys', '--print-guard']);
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const r = await lab.run(
    lab.sshArgv(`mkdir -p ${q(dir)} && cat > ${q(`${path}.new`)} && chmod 755 ${q(`${path}.new`)} && mv ${q(`${path}.new`)} ${q(path)}`),
    {
      input: script,
      timeoutMs: 30_000,
    },
  );
  assert.equal(r.code, 0, r.stderr.toString());
  return path;
}

// The key line `tborg authorized-keys` prints for the lab's key and line: with the guard at
// `guardPath`, or today's line without it. The guard's records go to a directory of the lab's own
// (XDG_RUNTIME_DIR), not to the server account's ~/.cache.
export function keyLine(lab: Lab, guardPath: string | null, extra: string[] = []): string {
  const run = join(lab.dir, 'server-run');
  mkdirSync(run, { recursive: true, mode: 0o700 });
  const line = lab.line;
  const args = ['authorized-keys', '--remote-path', line?.remotePath ?? 'borg', '--set-env', `XDG_RUNTIME_DIR=${run}`, ...extra];
  if (line?.major === 2) args.push('--no-borg2');
  if (guardPath !== null) args.push('--guard-path', guardPath);
  return tborgOut([...args, '-'], `${lab.clientPublicKey}\n`);
}

export function guardedKeyLine(lab: Lab, guardPath: string): string {
  return keyLine(lab, guardPath);
}
