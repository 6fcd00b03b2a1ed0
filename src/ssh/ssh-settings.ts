import { spawnSync } from 'node:child_process';
import { TborgError } from '../cli/errors.js';
import { parseSshArgv } from './rsh.js';

// What OpenSSH will apply, asked of OpenSSH itself: `ssh -G` resolves Include, Match, wildcards,
// negation, time units, -o and -F exactly as a real connection does (docs/facts.md "ssh configuration
// rules") and prints the result without connecting. Keys come out lowercase, times in seconds.

export interface SshSettings {
  serverAliveInterval: number; // seconds; 0 = off (the default)
  serverAliveCountMax: number; // default 3
  hostname: string;
  port: number;
  user: string;
  tcpKeepAlive: boolean;
  connectTimeout: number | null; // seconds; null = "none", the system's TCP timeout
  batchMode: boolean;
  // Every line of `ssh -G`, by its lowercase key, in order (some keys, e.g. identityfile, repeat).
  raw: Record<string, string[]>;
}

// A broken ssh configuration (or an ssh that cannot run): tborg says what ssh said and runs nothing.
export class SshConfigError extends TborgError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, ...options });
    this.name = 'SshConfigError';
  }
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  // `Match exec` runs commands (ssh -G runs them too, as every connection would); one that hangs must
  // not hang tborg forever.
  timeoutMs?: number;
}

// ssh prints this when it is not given a command and stdin is no terminal, even with -G.
const NOISE = /^Pseudo-terminal will not be allocated because stdin is not a terminal\.?$/;

// Runs [target[0], '-G', ...target.slice(1)]: -G goes right after the program so it is read as an
// option even when the user's words end in an option that takes a value. Synchronous on purpose: it
// costs ~15 ms and tborg's whole plan has 40 ms. stdin is /dev/null, so ssh can never prompt; -G never
// connects. `target` may carry the remote command after the host (OpenSSH >= 10's `Match command`
// and `Match sessiontype` look at it); borg's is `borg serve ...`.
export function resolveSshSettings(target: readonly string[], options: ResolveOptions = {}): SshSettings {
  const program = target[0];
  const host = readDestination(target);
  if (program === undefined) throw new SshConfigError('ssh -G failed: no ssh command to run');
  const result = spawnSync(program, ['-G', ...target.slice(1)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
    maxBuffer: 4 * 1024 * 1024,
  });
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const what = timedOut
      ? `no answer after ${Math.round((options.timeoutMs ?? 10_000) / 1000)} s (a Match exec command that hangs?)`
      : result.error.message;
    throw new SshConfigError(`ssh -G failed for ${host}: ${what}`, { cause: result.error });
  }
  if (result.status !== 0) {
    const said = joinStderrLines(result.stderr) || (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`);
    throw new SshConfigError(`ssh -G failed for ${host}: ${said}`);
  }
  return parseSshG(result.stdout, host);
}

// Parses `ssh -G` output ("key value" lines, lowercase keys). Exported for tests and for callers that
// already hold the output.
export function parseSshG(output: string, host = '?'): SshSettings {
  const raw: Record<string, string[]> = {};
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const space = trimmed.indexOf(' ');
    const key = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : trimmed.slice(space + 1);
    (raw[key] ??= []).push(value);
  }
  const first = (key: string): string | undefined => raw[key]?.[0];
  const number = (key: string, fallback: number): number => {
    const v = first(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      throw new SshConfigError(`ssh -G failed for ${host}: unexpected ${key} '${v}'`);
    }
    return n;
  };
  const connect = first('connecttimeout');
  return {
    // Defaults as in readconf.c fill_default_options, for an ssh that leaves a key out.
    serverAliveInterval: number('serveraliveinterval', 0),
    serverAliveCountMax: number('serveralivecountmax', 3),
    hostname: first('hostname') ?? host,
    port: number('port', 22),
    user: first('user') ?? '',
    tcpKeepAlive: (first('tcpkeepalive') ?? 'yes') === 'yes',
    connectTimeout: connect === undefined || connect === 'none' ? null : number('connecttimeout', 0),
    batchMode: first('batchmode') === 'yes',
    raw,
  };
}

// The destination as ssh reads it from the target, for messages.
function readDestination(target: readonly string[]): string {
  return parseSshArgv(target.slice(1)).destination ?? '(no host)';
}

// ssh's complaint as one line: its non-empty stderr lines joined, without the pseudo-terminal notice
// and "debug" chatter from a -v in the user's words.
function joinStderrLines(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.test(l) && !l.startsWith('debug') && !l.startsWith('OpenSSH_'))
    .join('; ');
}

// The ServerAliveInterval Debian's OpenSSH uses when BatchMode is yes and nothing sets one (Debian's
// patch to readconf.c fill_default_options; ssh_config(5) on Debian).
export const DEBIAN_BATCHMODE_INTERVAL = 300;

// True when the ServerAliveInterval ssh -G reported for `target` is Debian's BatchMode default (300),
// not a value anyone configured. Debian's ssh makes BatchMode yes imply ServerAliveInterval 300 unless
// one is configured, so ask ssh again with BatchMode forced off: the only extra ssh -G, and only when
// BatchMode is on. The -o goes first, right after the program: ssh keeps the first value it obtains and
// reads -o in argv order before any file, so it beats a config file's BatchMode and also a
// `-o BatchMode=yes` in the user's own words (appended after them, it lost to that and the 300 passed
// for the user's choice). Exact for the host, where comparing with the default is not: a
// `ServerAliveInterval 300` the user wrote would look like the default.
export function intervalIsBatchModeDefault(target: readonly string[], settings: SshSettings, options: ResolveOptions = {}): boolean {
  if (!settings.batchMode || settings.serverAliveInterval === 0) return false;
  const probe = [target[0]!, '-o', 'BatchMode=no', ...target.slice(1)];
  return resolveSshSettings(probe, options).serverAliveInterval === 0;
}

const setupTimeoutCache = new Map<string, boolean>();

// Whether this ssh reads Debian's old keyword SetupTimeOut as ServerAliveInterval. Debian's OpenSSH
// did so up to 9.8 (Debian 12's 9.2p1); from 9.9p1 (Debian 13's 10.0p2) it is ConnectTimeout
// (Debian's changelog, 1:9.9p1-1); upstream refuses the keyword. Asked of the ssh itself with an empty
// config, once per program, and only by callers that met the keyword.
export function setupTimeoutIsServerAlive(program = 'ssh', options: ResolveOptions = {}): boolean {
  const cached = setupTimeoutCache.get(program);
  if (cached !== undefined) return cached;
  let value = false;
  try {
    value = resolveSshSettings([program, '-F', '/dev/null', '-o', 'SetupTimeOut=7', 'tborg-alias-probe.invalid'], options).serverAliveInterval === 7;
  } catch (error) {
    // An ssh that refuses the keyword (upstream) has no such alias.
    if (!(error instanceof SshConfigError)) throw error;
  }
  setupTimeoutCache.set(program, value);
  return value;
}

const defaultIntervalCache = new Map<string, number>();

// ServerAliveInterval when nothing sets it. Upstream OpenSSH: 0 (off). Debian's OpenSSH (Debian 12's
// 9.2p1 included): 300 when BatchMode is yes, a Debian patch documented in its ssh_config(5). Asked
// of the installed ssh with an empty config, so it is right on either; cached per ssh program.
export function defaultServerAliveInterval(batchMode: boolean, program = 'ssh', options: ResolveOptions = {}): number {
  if (!batchMode) return 0;
  const cached = defaultIntervalCache.get(program);
  if (cached !== undefined) return cached;
  const value = resolveSshSettings([program, '-F', '/dev/null', '-o', 'BatchMode=yes', 'tborg-default-probe.invalid'], options).serverAliveInterval;
  defaultIntervalCache.set(program, value);
  return value;
}
