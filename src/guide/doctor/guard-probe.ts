import { randomBytes } from 'node:crypto';
import type { BufferedChildResult } from '../../process/buffered-child.js';
import { sshTarget } from '../../ssh/rsh.js';
import { GUARD_BANNER, GUARD_PROBE_OPTION, RUN_TOKEN_VARIABLE } from '../../plan/serve-guard-protocol.js';
import type { Check } from './check.js';

// Whether the server runs tborg's guard (README "The server half"), asked the one way that has an
// answer only from the guard: `TBORG_RUN=<token> borg serve --tborg-guard-probe`. The guard prints
// "tborg-serve-guard N" and exits 0 (serve-guard-script.ts); without it, borg serve (forced or not)
// refuses the unknown option (argparse: exit 2), and nothing of the probe reaches a repository.

export function buildGuardProbeArgv(
  rshWords: readonly string[],
  sshOptions: readonly string[],
  loc: { user: string | null; host: string; port: number | null },
  remotePath: string,
): string[] {
  const token = randomBytes(16).toString('hex');
  return [...sshTarget([...rshWords, ...sshOptions], loc), `${RUN_TOKEN_VARIABLE}=${token}`, remotePath, 'serve', GUARD_PROBE_OPTION];
}

const BANNER_RE = new RegExp(`^${GUARD_BANNER} (\\d+)$`, 'm');

// The guard's version, or null when the answer is not the guard's.
export function readGuardVersion(result: BufferedChildResult): number | null {
  if (result.exitCode !== 0) return null;
  const match = BANNER_RE.exec(result.stdout);
  return match ? Number(match[1]) : null;
}

// The server check with what the probe found. Pure.
export function addGuardFinding(server: Check, version: number | null, guardOn: boolean, host: string): Check {
  const data = { ...server.data, guard: version, serverGuard: guardOn };
  if (version !== null && guardOn) {
    return {
      ...server,
      detail: `${server.detail}; runs tborg's guard ${version}: a lost connection's stale borg serve is ended by the next attempt`,
      data,
    };
  }
  if (version !== null) {
    return {
      ...server,
      detail: `${server.detail}; runs tborg's guard ${version}, unused: add --tborg-server-guard on (or TBORG_SERVER_GUARD=on) and a lost connection costs the keepalive's give-up, not the server's sshd`,
      data,
    };
  }
  if (guardOn) {
    return {
      ...server,
      status: 'warn',
      detail: `${server.detail}; --tborg-server-guard is on, but ${host} runs no guard: a stale borg serve keeps the lock until the server's sshd notices, longer than tborg waits; install it (README "The server half": tborg authorized-keys --guard) or turn it off`,
      data,
    };
  }
  return {
    ...server,
    detail: `${server.detail}; no tborg guard on ${host} (to free a stale lock seconds after a lost connection without root: README "The server half", tborg authorized-keys --guard, then --tborg-server-guard on)`,
    data,
  };
}
