import { TborgError } from '../core/errors.js';
import { BORG_LOCK_TIMEOUT, BORG_LOCK_TIMEOUT_MSGID } from '../borg/words/borg-words.js';
import { SSH_CHATTER } from '../borg/words/ssh-words.js';
import { matchesSome } from '../borg/words/wording.js';
import { describeChildFailure, runBufferedChildSync } from '../process/buffered-child.js';
import { parseSshArgv } from './rsh.js';
import type { KeywordDialect } from './ssh-config-tokens.js';

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
  // The caller's environment (PATH finds `ssh` and the commands of `Match exec`, which see it too);
  // process.env only when the caller has no other.
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

// How long one `ssh -G` may take. `Match exec` runs commands (ssh -G runs them too, as every
// connection would); one that hangs must not hang tborg forever.
export const SSH_G_TIMEOUT_MS = 10_000;
// ssh -G prints a few kilobytes; anything near this is not ssh -G.
const SSH_G_MAX_BUFFER = 4 * 1024 * 1024;

// Resolves the settings ssh will use for `target` (resolveSshSettings below, or a test's own facts).
export type SshSettingsResolver = (target: readonly string[], options?: ResolveOptions) => SshSettings;

// Runs [target[0], '-G', ...target.slice(1)]: -G goes right after the program so it is read as an
// option even when the user's words end in an option that takes a value. Synchronous on purpose
// (buffered-child.ts runBufferedChildSync): it costs ~15 ms and tborg's whole plan has 40 ms. stdin is
// /dev/null, so ssh can never prompt; -G never connects. `target` may carry the remote command after
// the host (OpenSSH >= 10's `Match command` and `Match sessiontype` look at it); borg's is `borg serve ...`.
export function resolveSshSettings(target: readonly string[], options: ResolveOptions = {}): SshSettings {
  const program = target[0];
  const host = readDestination(target);
  if (program === undefined) throw new SshConfigError('ssh -G failed: no ssh command to run');
  const timeoutMs = options.timeoutMs ?? SSH_G_TIMEOUT_MS;
  const result = runBufferedChildSync(program, ['-G', ...target.slice(1)], {
    env: options.env ?? process.env,
    timeoutMs,
    maxBuffer: SSH_G_MAX_BUFFER,
  });
  // A timeout is said with its likely cause (what ssh printed before it is not the answer).
  const said = result.timedOut ? 'a Match exec command that hangs?' : sshStderrLine(result.stderr);
  const failure = describeChildFailure(result, said, timeoutMs);
  if (failure !== null) throw new SshConfigError(`ssh -G failed for ${host}: ${failure}`);
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
export function intervalIsBatchModeDefault(
  target: readonly string[],
  settings: SshSettings,
  options: ResolveOptions = {},
  resolve: SshSettingsResolver = resolveSshSettings,
): boolean {
  if (!settings.batchMode || settings.serverAliveInterval === 0) return false;
  const probe = [target[0]!, '-o', 'BatchMode=no', ...target.slice(1)];
  return resolve(probe, options).serverAliveInterval === 0;
}

// Per resolver, per program and PATH (which ssh that program is).
const setupTimeoutCache = new WeakMap<SshSettingsResolver, Map<string, boolean>>();

// Whether this ssh reads Debian's old keyword SetupTimeOut as ServerAliveInterval. Debian's OpenSSH
// did so up to 9.8 (Debian 12's 9.2p1); from 9.9p1 (Debian 13's 10.0p2) it is ConnectTimeout
// (Debian's changelog, 1:9.9p1-1); upstream refuses the keyword. Asked of the ssh itself with an empty
// config, once per program, and only by callers that met the keyword.
export function setupTimeoutIsServerAlive(
  program = 'ssh',
  options: ResolveOptions = {},
  resolve: SshSettingsResolver = resolveSshSettings,
): boolean {
  let cache = setupTimeoutCache.get(resolve);
  if (!cache) setupTimeoutCache.set(resolve, (cache = new Map()));
  const key = `${program}\0${(options.env ?? process.env).PATH ?? ''}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let value = false;
  try {
    value = resolve([program, '-F', '/dev/null', '-o', 'SetupTimeOut=7', 'tborg-alias-probe.invalid'], options).serverAliveInterval === 7;
  } catch (error) {
    // An ssh that refuses the keyword (upstream) has no such alias.
    if (!(error instanceof SshConfigError)) throw error;
  }
  cache.set(key, value);
  return value;
}

// The keyword dialect of `program` as the caller's environment finds it (ssh-config-tokens.ts
// canonicalKeyword), asked lazily and once.
export function sshDialect(
  program = 'ssh',
  options: ResolveOptions = {},
  resolve: SshSettingsResolver = resolveSshSettings,
): KeywordDialect {
  return { setupTimeoutIsInterval: () => setupTimeoutIsServerAlive(program, options, resolve) };
}

const defaultIntervalCache = new Map<string, number>();

// ServerAliveInterval when nothing sets it. Upstream OpenSSH: 0 (off). Debian's OpenSSH (Debian 12's
// 9.2p1 included): 300 when BatchMode is yes, a Debian patch documented in its ssh_config(5). Asked
// of the installed ssh with an empty config, so it is right on either; cached per ssh program.
export function defaultServerAliveInterval(batchMode: boolean, program = 'ssh', options: ResolveOptions = {}): number {
  if (!batchMode) return 0;
  const cached = defaultIntervalCache.get(program);
  if (cached !== undefined) return cached;
  const value = resolveSshSettings(
    [program, '-F', '/dev/null', '-o', 'BatchMode=yes', 'tborg-default-probe.invalid'],
    options,
  ).serverAliveInterval;
  defaultIntervalCache.set(program, value);
  return value;
}

// ssh's stderr as tborg shows it: one cleaner for every place that reports what ssh (or borg through
// ssh) said. Lines are trimmed (ssh ends its messages in \r\n), blank lines dropped, ssh's chatter
// dropped (src/borg/words/ssh-words.ts SSH_CHATTER), and a borg --log-json line becomes its message
// (borg's LockTimeout keeps its msgid).

// The lines worth showing, in order.
export function sshStderrLines(stderr: string): string[] {
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '' || matchesSome(line, SSH_CHATTER)) continue;
    lines.push(jsonLogMessage(line) ?? line);
  }
  return lines;
}

// The same as one line for a message: "a; b; c" ('' when nothing is worth showing).
export function sshStderrLine(stderr: string): string {
  return sshStderrLines(stderr).join('; ');
}

// A borg `--log-json` line ({"type": "log_message", "message": ...}) as its message.
function jsonLogMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { message?: unknown; msgid?: unknown };
    if (typeof parsed.message !== 'string') return undefined;
    return parsed.msgid === BORG_LOCK_TIMEOUT_MSGID && !parsed.message.includes(BORG_LOCK_TIMEOUT.words)
      ? `${parsed.message} (${BORG_LOCK_TIMEOUT_MSGID})`
      : parsed.message;
  } catch {
    return undefined;
  }
}
