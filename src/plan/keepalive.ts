import { parseSshArgv } from '../ssh/rsh.js';
import type { AlivePair } from '../ssh/alive-pair.js';

// What tborg does about the client's ServerAlive* for one run. The client's keepalive matters because
// without it a dead connection keeps the client's ssh (and borg) hanging for hours, and the server
// side only ever learns about it through sshd's own ClientAlive* (docs/facts.md).

// --tborg-keepalive-mode: add tborg's keepalive when ssh has none, only warn, or leave ssh alone.
export type KeepaliveMode = 'inject' | 'warn' | 'off';

export type KeepaliveState = 'configured' | 'injected' | 'warned' | 'off' | 'not-applicable';

// OpenSSH's default ServerAliveCountMax (readconf.c fill_default_options: server_alive_count_max = 3).
const SSH_DEFAULT_COUNT_MAX = 3;

export interface KeepaliveDecision {
  state: KeepaliveState;
  // The -o options to add to the ssh command borg runs (ServerAliveInterval, ServerAliveCountMax);
  // empty unless state is 'injected'.
  inject: Partial<AlivePair>;
  // What ssh will use once the injection (if any) is in place.
  effective: AlivePair | null;
}

// Which ServerAlive* the user's own ssh words set with -o. ssh keeps the first value it obtains
// (readconf.c process_config_line: `if (*activep && *intptr == -1)`) and reads -o before any file, so
// an option tborg appends after the user's -o changes nothing: such a value is the user's, even a 0
// or a 3 that `ssh -G` cannot tell from the default. Keywords are case-insensitive and end at
// whitespace or '=' (readconf.c strdelim); ProtocolKeepAlives is Debian's alias of
// ServerAliveInterval (Debian's ssh_config(5)), and so was SetupTimeOut before Debian's 9.9p1:
// `setupTimeoutIsInterval` says whether the ssh in use still reads it so (setupTimeoutIsServerAlive).
export function findKeepaliveOptions(words: readonly string[], setupTimeoutIsInterval = false): KeepaliveOptionsGiven {
  const given: KeepaliveOptionsGiven = { serverAliveInterval: false, serverAliveCountMax: false };
  for (const option of parseSshArgv(words.slice(1)).options) {
    const keyword = (option.trim().split(/[\s=]/, 1)[0] ?? '').toLowerCase();
    if (keyword === 'serveraliveinterval' || keyword === 'protocolkeepalives' || (keyword === 'setuptimeout' && setupTimeoutIsInterval)) {
      given.serverAliveInterval = true;
    }
    if (keyword === 'serveralivecountmax') given.serverAliveCountMax = true;
  }
  return given;
}

// True when the words give ssh a SetupTimeOut option (whose meaning depends on the ssh).
export function mentionsSetupTimeout(words: readonly string[]): boolean {
  return words.some((w) => /setuptimeout/i.test(w));
}

export interface KeepaliveOptionsGiven {
  serverAliveInterval: boolean;
  serverAliveCountMax: boolean;
}

// Pure policy. `configured` is the ServerAlive* pair `ssh -G` reports for the user's own ssh
// command (null when the repository is not reached through ssh at all). A value the user configured
// is never overridden:
//  - ServerAliveInterval > 0 anywhere (config file, -o), or any value in the user's own -o
//    (`given`, see findKeepaliveOptions): nothing is injected.
//  - ServerAliveCountMax: `ssh -G` cannot tell a configured 3 from the default 3, so tborg only
//    injects its count when the effective one is 3 and the user's -o does not set it; any other count
//    is the user's. (A `ServerAliveCountMax 3` written in a config file is still taken for the default.)
//  - Debian's ssh turns BatchMode yes into a default ServerAliveInterval of 300 (a Debian patch, see
//    its ssh_config(5)). Nobody chose that value, and it lets a dead connection hang for 20 minutes:
//    `intervalIsDefault` says so, and it is treated like 0.
export function decideKeepalive(
  configured: AlivePair | null,
  mode: KeepaliveMode,
  wanted: AlivePair,
  intervalIsDefault = false,
  given: KeepaliveOptionsGiven = { serverAliveInterval: false, serverAliveCountMax: false },
): KeepaliveDecision {
  if (configured === null) return { state: 'not-applicable', inject: {}, effective: null };
  if ((configured.interval > 0 && !intervalIsDefault) || given.serverAliveInterval) {
    return { state: 'configured', inject: {}, effective: configured };
  }
  if (mode === 'off') return { state: 'off', inject: {}, effective: configured };
  if (mode === 'warn') return { state: 'warned', inject: {}, effective: configured };
  const inject: Partial<AlivePair> = { interval: wanted.interval };
  if (configured.countMax === SSH_DEFAULT_COUNT_MAX && !given.serverAliveCountMax) inject.countMax = wanted.countMax;
  return {
    state: 'injected',
    inject,
    effective: { interval: wanted.interval, countMax: inject.countMax ?? configured.countMax },
  };
}
