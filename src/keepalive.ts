import type { AlivePair, KeepaliveMode } from './tborg-options.js';

// What tborg does about the client's ServerAlive* for one run. The client's keepalive matters because
// without it a dead connection keeps the client's ssh (and borg) hanging for hours, and the server
// side only ever learns about it through sshd's own ClientAlive* (facts.md).

export type KeepaliveState = 'configured' | 'injected' | 'warned' | 'off' | 'not-applicable';

export interface SshKeepalive {
  serverAliveInterval: number;
  serverAliveCountMax: number;
}

// OpenSSH's default ServerAliveCountMax (readconf.c fill_default_options: server_alive_count_max = 3).
export const SSH_DEFAULT_COUNT_MAX = 3;

export interface KeepaliveDecision {
  state: KeepaliveState;
  // The -o options to add to the ssh command borg runs; empty unless state is 'injected'.
  inject: Partial<SshKeepalive>;
  // What ssh will use once the injection (if any) is in place.
  effective: SshKeepalive | null;
}

// Pure policy. `configured` is what `ssh -G` reports for the user's own ssh command (null when the
// repository is not reached through ssh at all). A value the user configured is never overridden:
//  - ServerAliveInterval > 0 anywhere (config file, -o): nothing is injected.
//  - ServerAliveCountMax: `ssh -G` cannot tell a configured 3 from the default 3, so tborg only
//    injects its count when the effective one is the default; any other count is the user's.
//  - Debian's ssh turns BatchMode yes into a default ServerAliveInterval of 300 (a Debian patch, see
//    its ssh_config(5)). Nobody chose that value, and it lets a dead connection hang for 20 minutes:
//    `intervalIsDefault` says so, and it is treated like 0.
export function decideKeepalive(
  configured: SshKeepalive | null,
  mode: KeepaliveMode,
  wanted: AlivePair,
  intervalIsDefault = false,
): KeepaliveDecision {
  if (configured === null) return { state: 'not-applicable', inject: {}, effective: null };
  if (configured.serverAliveInterval > 0 && !intervalIsDefault) return { state: 'configured', inject: {}, effective: configured };
  if (mode === 'off') return { state: 'off', inject: {}, effective: configured };
  if (mode === 'warn') return { state: 'warned', inject: {}, effective: configured };
  const inject: Partial<SshKeepalive> = { serverAliveInterval: wanted.interval };
  if (configured.serverAliveCountMax === SSH_DEFAULT_COUNT_MAX) inject.serverAliveCountMax = wanted.countMax;
  return {
    state: 'injected',
    inject,
    effective: {
      serverAliveInterval: wanted.interval,
      serverAliveCountMax: inject.serverAliveCountMax ?? configured.serverAliveCountMax,
    },
  };
}
