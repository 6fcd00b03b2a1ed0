import { parseDuration } from '../core/duration.js';
import type { AlivePair } from '../ssh/alive-pair.js';
import { UsageError } from '../core/errors.js';
import type { PingStyle } from '../monitor/ping.js';
import type { KeepaliveMode } from '../plan/keepalive.js';

// tborg's own options. Each is spelled --tborg-<name> on the command line (anywhere before a `--`)
// and has an environment twin TBORG_<NAME> for cron jobs and profiles; the command line wins.
// They are removed before borg sees its arguments, so borg's own option space is never touched.

export interface TborgOptions {
  help: boolean;
  version: boolean;
  borg: string | undefined;
  keepaliveMode: KeepaliveMode;
  keepalive: AlivePair | undefined;
  // undefined: assume the guide's values; null: the server has no ClientAlive at all ("none").
  serverAlive: AlivePair | null | undefined;
  // README "The server half": send a run token the server's guard acts on (default off).
  serverGuard: boolean;
  maxWait: number | undefined;
  connectionRetries: number;
  quiet: boolean;
  // Monitoring (README "Monitoring"). connectWait: seconds; undefined = 15 min, or 0 with a terminal on stdin.
  connectWait: number | undefined;
  pingUrl: string | undefined;
  pingStyle: PingStyle | undefined;
  pingAll: boolean;
  // undefined: the default state directory; null: `none`, no status record.
  statusFile: string | null | undefined;
  metricsFile: string | undefined;
}

interface OptionSpec {
  name: string;
  flag: boolean;
  metavar?: string;
  description: string;
  apply(options: TborgOptions, value: string, where: string): void;
}

// Parses "IxC" as used by --tborg-keepalive and --tborg-server-alive: two positive integers.
export function parseAlivePair(value: string, where: string): AlivePair {
  const match = /^\s*(\d+)\s*[xX*]\s*(\d+)\s*$/.exec(value);
  const interval = match ? Number(match[1]) : NaN;
  const countMax = match ? Number(match[2]) : NaN;
  if (!match || !(interval >= 1) || !(countMax >= 1) || interval > 86400 || countMax > 1000) {
    throw new UsageError(`${where}: expected INTERVALxCOUNT with two positive whole numbers (for example 10x30), got '${value}'`);
  }
  return { interval, countMax };
}

function parseWholeNumber(value: string, where: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    throw new UsageError(`${where}: expected a whole number >= ${min}, got '${value}'`);
  }
  return Number(value);
}

function parseBoolean(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'yes', 'true', 'on', ''].includes(v)) return true;
  if (['0', 'no', 'false', 'off'].includes(v)) return false;
  throw new UsageError(`${where}: expected yes or no, got '${value}'`);
}

const OPTION_SPECS: readonly OptionSpec[] = [
  {
    name: 'help',
    flag: true,
    description: "print tborg's usage (borg's own --help is passed to borg)",
    apply: (o, v, w) => void (o.help = parseBoolean(v, w)),
  },
  {
    name: 'version',
    flag: true,
    description: "print tborg's version (borg's own --version is passed to borg)",
    apply: (o, v, w) => void (o.version = parseBoolean(v, w)),
  },
  {
    name: 'borg',
    flag: false,
    metavar: 'PATH',
    description: 'the real borg to run (default: the first borg on PATH that is not tborg)',
    apply: (o, v, w) => {
      if (v === '') throw new UsageError(`${w}: expected the path of a borg executable`);
      o.borg = v;
    },
  },
  {
    name: 'keepalive-mode',
    flag: false,
    metavar: 'inject|warn|off',
    description: 'what to do when ssh has no ServerAliveInterval for the host (default inject)',
    apply: (o, v, w) => {
      if (v !== 'inject' && v !== 'warn' && v !== 'off') {
        throw new UsageError(`${w}: expected inject, warn or off, got '${v}'`);
      }
      o.keepaliveMode = v;
    },
  },
  {
    name: 'keepalive',
    flag: false,
    metavar: 'IxC',
    description: 'ServerAliveInterval x ServerAliveCountMax to inject (default 10x30)',
    apply: (o, v, w) => void (o.keepalive = parseAlivePair(v, w)),
  },
  {
    name: 'server-alive',
    flag: false,
    metavar: 'IxC|none',
    description: "the server sshd's ClientAliveInterval x ClientAliveCountMax (default: assume 10x30)",
    apply: (o, v, w) => void (o.serverAlive = v.trim().toLowerCase() === 'none' ? null : parseAlivePair(v, w)),
  },
  {
    name: 'server-guard',
    flag: false,
    metavar: 'on|off',
    description:
      'the server runs tborg\'s guard (README "The server half"): send a run token, wait only for the client\'s keepalive (default off)',
    apply: (o, v, w) => {
      const value = v.trim().toLowerCase();
      if (value !== 'on' && value !== 'off') throw new UsageError(`${w}: expected on or off, got '${v}'`);
      o.serverGuard = value === 'on';
    },
  },
  {
    name: 'max-wait',
    flag: false,
    metavar: 'SECONDS',
    description: 'how long to keep retrying a held lock (default: computed from the keepalives)',
    apply: (o, v, w) => void (o.maxWait = parseWholeNumber(v, w, 0)),
  },
  {
    name: 'connection-retries',
    flag: false,
    metavar: 'N',
    description: 'how often to retry a lost connection when that is safe (default 3)',
    apply: (o, v, w) => void (o.connectionRetries = parseWholeNumber(v, w, 0)),
  },
  {
    name: 'quiet',
    flag: true,
    description: 'no spinner; plain timestamped lines only, and only when tborg waits',
    apply: (o, v, w) => void (o.quiet = parseBoolean(v, w)),
  },
  {
    name: 'connect-wait',
    flag: false,
    metavar: 'DURATION',
    description: 'how long to retry a server that cannot be reached at start (90, 90s, 15m; 0 = off; default 15m, 0 on a terminal)',
    apply: (o, v, w) => void (o.connectWait = parseDuration(v, w)),
  },
  {
    name: 'ping',
    flag: false,
    metavar: 'URL',
    description: 'ping a Healthchecks-style monitor for backups (start, result) and maintenance (failure, log)',
    apply: (o, v) => void (o.pingUrl = parsePingUrl(v)),
  },
  {
    name: 'ping-style',
    flag: false,
    metavar: 'healthchecks|uptime-kuma',
    description: 'how to ping (default: uptime-kuma for a URL with /api/push/, else healthchecks)',
    apply: (o, v, w) => {
      if (v !== 'healthchecks' && v !== 'uptime-kuma') throw new UsageError(`${w}: expected healthchecks or uptime-kuma, got '${v}'`);
      o.pingStyle = v;
    },
  },
  {
    name: 'ping-all',
    flag: true,
    description: 'ping for reads, dry runs and administration too, each as a job of its own',
    apply: (o, v, w) => void (o.pingAll = parseBoolean(v, w)),
  },
  {
    name: 'status-file',
    flag: false,
    metavar: 'PATH|DIR|none',
    description: "where this run's status record goes (default: $XDG_STATE_HOME/tborg/, one file per repository)",
    apply: (o, v, w) => {
      if (v.trim() === '') throw new UsageError(`${w}: expected a file, a directory or none`);
      o.statusFile = v.trim().toLowerCase() === 'none' ? null : v;
    },
  },
  {
    name: 'metrics-file',
    flag: false,
    metavar: 'PATH',
    description: "write node_exporter textfile metrics for every repository's last run to PATH",
    apply: (o, v, w) => {
      if (v.trim() === '') throw new UsageError(`${w}: expected the path of a .prom file`);
      o.metricsFile = v;
    },
  },
];

// Only http(s) URLs: anything else would fail at the end of the backup, when nobody reads the error.
// Taken as given: a URL that cannot be pinged is one warning when a ping is due (ping.ts
// checkPingUrl), never a reason not to run the backup.
function parsePingUrl(value: string): string {
  return value;
}

const PREFIX = '--tborg-';

// The environment twin's name; --tborg-ping's is TBORG_PING_URL (the name Healthchecks users expect).
function envName(name: string): string {
  if (name === 'ping') return 'TBORG_PING_URL';
  return `TBORG_${name.toUpperCase().replaceAll('-', '_')}`;
}

export function defaultOptions(): TborgOptions {
  return {
    help: false,
    version: false,
    borg: undefined,
    keepaliveMode: 'inject',
    keepalive: undefined,
    serverAlive: undefined,
    serverGuard: false,
    maxWait: undefined,
    connectionRetries: 3,
    quiet: false,
    connectWait: undefined,
    pingUrl: undefined,
    pingStyle: undefined,
    pingAll: false,
    statusFile: undefined,
    metricsFile: undefined,
  };
}

export interface SplitArguments {
  options: TborgOptions;
  // borg's arguments with every --tborg-* option removed, otherwise byte for byte as given.
  borgArgs: string[];
}

// Separates tborg's options from borg's. Environment twins are read first, so the command line wins.
// Everything after a `--` belongs to borg, even when it looks like a tborg option.
export function splitArguments(argv: readonly string[], env: NodeJS.ProcessEnv): SplitArguments {
  const options = defaultOptions();
  for (const spec of OPTION_SPECS) {
    // --tborg-help and --tborg-version are questions asked on the command line, not settings.
    if (spec.name === 'help' || spec.name === 'version') continue;
    const value = env[envName(spec.name)];
    if (value !== undefined && value !== '') spec.apply(options, value, envName(spec.name));
  }
  const borgArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      borgArgs.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith(PREFIX)) {
      borgArgs.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(PREFIX.length, eq === -1 ? undefined : eq);
    const spec = OPTION_SPECS.find((s) => s.name === name);
    if (!spec) {
      throw new UsageError(`unknown option ${arg.slice(0, eq === -1 ? undefined : eq)} (see tborg --tborg-help)`);
    }
    const where = `${PREFIX}${name}`;
    if (spec.flag) {
      spec.apply(options, eq === -1 ? '' : arg.slice(eq + 1), where);
    } else if (eq !== -1) {
      spec.apply(options, arg.slice(eq + 1), where);
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`${where} needs a value (${spec.metavar ?? 'VALUE'})`);
      spec.apply(options, value, where);
      i++;
    }
  }
  return { options, borgArgs };
}

// The option part of `tborg --tborg-help`, generated from the table so it cannot drift.
export function describeOptions(): string {
  const rows = OPTION_SPECS.map((s) => {
    const left = `  ${PREFIX}${s.name}${s.flag ? '' : ` ${s.metavar ?? 'VALUE'}`}`;
    const twin = s.name === 'help' || s.name === 'version' ? '' : `\n${''.padEnd(6)}env: ${envName(s.name)}`;
    return `${left}\n${''.padEnd(6)}${s.description}${twin}`;
  });
  return rows.join('\n');
}
