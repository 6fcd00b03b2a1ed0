import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { TborgError } from '../cli/errors.js';
import { parseSshArgv } from './rsh.js';
import { setupTimeoutIsServerAlive } from './ssh-settings.js';

// `ssh -G` says WHAT ssh will use; this module says WHERE it comes from (for warnings) and where a
// new setting must go (for `tborg ssh-config --write`). It re-walks the config files in ssh's order
// (readconf.c read_config_file_depth / process_config_line_depth) with ssh's matching rules
// (match.c). It never decides a value on its own: callers compare with `ssh -G`.
//
// The npm `ssh-config` package tokenizes the files (keyword case, `=` separators, quotes, end-of-line
// comments); its compute() is not used (docs/facts.md lists where it differs from ssh). It is loaded
// lazily, with require, on the first call: only warnings and `tborg ssh-config` need it, and these
// functions stay synchronous.

export interface ConfigPlace {
  file: string;
  line: number;
  // 'Global': a line before the first Host/Match of a file, which applies to every host.
  kind: 'Host' | 'Match' | 'Global';
  // The Host pattern that matched (as ssh logs it: "Applying options for PATTERN"), or the Match
  // condition; '' for Global.
  pattern: string;
}

// Where a setting's value comes from: the setting's own line (file, line), the block it is in
// (kind, pattern, blockLine) and its value as written. `certain` is false when that block is a Match
// whose condition tborg does not evaluate (exec, final, canonical, localnetwork, ...) or a Host
// block reached through such a Match: the value applies only if that condition holds.
export interface SettingSource extends ConfigPlace {
  value: string;
  blockLine: number | null;
  certain: boolean;
}

export interface SourceOptions {
  // The home directory for `~` and relative Include paths (default: the password database's).
  home?: string;
  // The system file (/etc/ssh/ssh_config): relative Include paths live in /etc/ssh, `~` is refused.
  system?: boolean;
  // The remote user given on the command line (`-l`, `user@host`), for `Match user`.
  user?: string | null;
  // The local user name, for `Match localuser` (default: the password database's).
  localUser?: string;
  // false: do not read included files (the visitor still sees each Include line). For pure edits.
  followIncludes?: boolean;
}

// One directive line of a config file, tokenized.
export interface ConfigLine {
  file: string;
  line: number;
  keyword: string; // lowercase, as readconf.c lowercases it before parse_token
  args: string[];
}

// A config file tborg cannot read or tokenize (ssh may still accept it: then tborg cannot edit it).
export class ConfigParseError extends TborgError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${message}`, { exitCode: 2 });
    this.name = 'ConfigParseError';
  }
}

// The user's config file ssh reads for these rsh words: the last -F (ssh.c `config = optarg`), else
// ~/.ssh/config in the home directory from the password database (ssh.c process_config_files uses
// pw->pw_dir; $HOME plays no part, docs/facts.md). null for `-F none` (any case: strcasecmp).
// A relative -F is relative to the current directory, as for ssh's fopen. `env` is not consulted
// (that is the point: ssh ignores $HOME); it is in the signature for callers that pass what they have.
export function userConfigFile(words: readonly string[], _env: NodeJS.ProcessEnv = process.env): string | null {
  const { configFile } = parseSshArgv(words.slice(1));
  if (configFile !== undefined) return configFile.toLowerCase() === 'none' ? null : resolve(configFile);
  return join(passwdHome(), '.ssh', 'config');
}

// The system-wide file ssh reads after the user's own (only when there is no -F).
export const SYSTEM_CONFIG_FILE = '/etc/ssh/ssh_config';

function passwdHome(): string {
  return userInfo().homedir;
}

// The first Host block whose patterns select `alias`, in ssh's reading order (Include followed; an
// Include inside a block only when that block applies). null when there is none, or when the file
// cannot be read or parsed (this is for messages: best effort, never an error).
export function findHostBlock(configFile: string, alias: string, options: SourceOptions = {}): ConfigPlace | null {
  let found: ConfigPlace | null = null;
  try {
    walkConfig(configFile, alias, options, {
      onBlock(place, active) {
        if (place.kind === 'Host' && active === true) {
          found = place;
          return true;
        }
        return false;
      },
    });
  } catch (error) {
    if (error instanceof ConfigParseError) return null;
    throw error;
  }
  return found;
}

// Where the value ssh uses for `keyword` comes from in this file (and what it includes): the first
// line setting it in a block that applies to `alias`, or may apply (then certain: false). ssh keeps
// the first value it obtains (readconf.c: `if (*activep && *intptr == -1)`). A `-o` on the command line
// beats every file; callers compare with `ssh -G` to see that. null: not set in this file.
export function findSettingSource(
  configFile: string,
  alias: string,
  keyword: 'ServerAliveInterval' | 'ServerAliveCountMax',
  options: SourceOptions = {},
): SettingSource | null {
  const wanted = canonicalKeyword(keyword.toLowerCase());
  let found: SettingSource | null = null;
  try {
    walkConfig(configFile, alias, options, {
      onLine(line, active, block) {
        if (canonicalKeyword(line.keyword) !== wanted || active === false) return false;
        found = {
          file: line.file,
          line: line.line,
          kind: block?.kind ?? 'Global',
          pattern: block?.pattern ?? '',
          blockLine: block?.line ?? null,
          value: line.args[0] ?? '',
          certain: active === true,
        };
        return true;
      },
    });
  } catch (error) {
    if (error instanceof ConfigParseError) return null;
    throw error;
  }
  return found;
}

// Debian's OpenSSH also reads ProtocolKeepAlives as ServerAliveInterval (ssh_config(5) on Debian:
// "Debian-specific compatibility aliases"); upstream ssh refuses it, so treating it as an alias is
// right wherever ssh accepted the file. SetupTimeOut was one too until Debian's 9.9p1, which made it
// ConnectTimeout: the ssh on PATH is asked (setupTimeoutIsServerAlive), only when the keyword occurs.
const KEYWORD_ALIASES: Record<string, string> = {
  protocolkeepalives: 'serveraliveinterval',
};

// A lowercase keyword, with Debian's aliases resolved.
export function canonicalKeyword(keyword: string): string {
  if (keyword === 'setuptimeout') return setupTimeoutIsServerAlive() ? 'serveraliveinterval' : 'connecttimeout';
  return KEYWORD_ALIASES[keyword] ?? keyword;
}

// `file:line (Host pattern)` for messages.
export function describePlace(place: ConfigPlace): string {
  const where = `${place.file}:${place.line}`;
  if (place.kind === 'Global') return `${where} (before any Host block: every host)`;
  return `${where} (${place.kind} ${place.pattern})`;
}

// ---------------------------------------------------------------------------------------------
// Tokenizing

interface PackageLine {
  type: number;
  param?: string;
  value?: string | Array<{ val: string }>;
  before: string;
  after: string;
  config?: PackageLine[];
}

type SshConfigPackage = { parse(text: string): PackageLine[]; LineType: { DIRECTIVE: number } };
let sshConfigPackage: SshConfigPackage | undefined;

function loadPackage(): SshConfigPackage {
  sshConfigPackage ??= createRequire(import.meta.url)('ssh-config') as SshConfigPackage;
  return sshConfigPackage;
}

// The directive lines of a config text, with their 1-based line numbers. The package keeps every
// newline in the `before`/`after` of its nodes, so counting them in document order gives the line.
export function parseConfigText(text: string, file: string): ConfigLine[] {
  const pkg = loadPackage();
  let tree: PackageLine[];
  try {
    tree = pkg.parse(text);
  } catch (error) {
    throw new ConfigParseError(file, `${file}: cannot parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  const lines: ConfigLine[] = [];
  let newlines = 0;
  const count = (s: string): number => {
    let n = 0;
    for (const ch of s) if (ch === '\n') n++;
    return n;
  };
  const visit = (node: PackageLine): void => {
    newlines += count(node.before);
    if (node.type === pkg.LineType.DIRECTIVE && node.param) {
      const args = node.value === undefined ? [] : Array.isArray(node.value) ? node.value.map((v) => v.val) : [node.value];
      lines.push({ file, line: newlines + 1, keyword: node.param.toLowerCase(), args });
    }
    newlines += count(node.after);
    for (const child of node.config ?? []) visit(child);
  };
  for (const node of tree) visit(node);
  return lines;
}

// The lines of a file, or null when it cannot be read (ssh skips a missing Include silently).
// Not cached: `tborg ssh-config --write` reads a file, changes it and reads it again.
function readConfigLines(file: string): ConfigLine[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return parseConfigText(text, file);
}

// ---------------------------------------------------------------------------------------------
// Walking the files as ssh does

// true: applies; false: does not; 'maybe': depends on something tborg does not evaluate.
export type Activity = boolean | 'maybe';

export interface WalkVisitor {
  // A Host or Match line. Return true to stop.
  onBlock?(place: ConfigPlace, active: Activity): boolean;
  // Any other directive, with whether it applies and the block it is in (null: before any block).
  onLine?(line: ConfigLine, active: Activity, block: ConfigPlace | null): boolean;
  // An Include line (before its files are walked), with the files it names (none when includes
  // are not followed) and the block it is in.
  onInclude?(line: ConfigLine, active: Activity, files: string[], block: ConfigPlace | null): boolean;
}

// readconf.c READCONF_MAX_DEPTH
const MAX_INCLUDE_DEPTH = 16;

interface WalkState {
  alias: string;
  home: string;
  userConf: boolean;
  localUser: string;
  // HostName and User as obtained so far (first value wins); undefined: not set yet.
  hostname: string | undefined;
  hostnameCertain: boolean;
  user: string | undefined;
  userCertain: boolean;
  visitor: WalkVisitor;
  stopped: boolean;
  followIncludes: boolean;
}

// Walks `file` (and its Includes) for `alias` in ssh's order, calling the visitor. The top-level file
// must be readable and parseable (else ConfigParseError); Included files that are not are skipped.
export function walkConfig(file: string, alias: string, options: SourceOptions, visitor: WalkVisitor): void {
  const lines = readConfigLines(file);
  if (lines === null) throw new ConfigParseError(file, `${file}: cannot read`);
  walkLines(lines, newWalkState(alias, options, visitor), true, false, null, 0);
}

// Walks already-tokenized lines (the edit module walks a text that is not a file yet).
export function walkConfigLines(lines: readonly ConfigLine[], alias: string, options: SourceOptions, visitor: WalkVisitor): void {
  walkLines(lines, newWalkState(alias, options, visitor), true, false, null, 0);
}

function newWalkState(alias: string, options: SourceOptions, visitor: WalkVisitor): WalkState {
  return {
    alias,
    home: options.home ?? passwdHome(),
    userConf: !options.system,
    localUser: options.localUser ?? safeUserName(),
    hostname: undefined,
    hostnameCertain: true,
    user: options.user ?? undefined,
    userCertain: true,
    visitor,
    stopped: false,
    followIncludes: options.followIncludes ?? true,
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

function combineActivity(a: Activity, b: Activity): Activity {
  if (a === false || b === false) return false;
  if (a === 'maybe' || b === 'maybe') return 'maybe';
  return true;
}

// One file's lines. `cap` is the activity of the Include that brought us here ('maybe' inside an
// unevaluated Match); `neverMatch` is readconf.c's SSHCONF_NEVERMATCH, set when that Include sat in a
// block that does not apply: then no Host/Match in the file can activate.
function walkLines(
  lines: readonly ConfigLine[],
  state: WalkState,
  cap: Activity,
  neverMatch: boolean,
  blockIn: ConfigPlace | null,
  depth: number,
): void {
  let active: Activity = cap;
  let block = blockIn;
  for (const line of lines) {
    if (state.stopped) return;
    if (line.keyword === 'host') {
      const matched = neverMatch ? null : matchHostLine(line.args, state.alias);
      active = matched === null ? false : combineActivity(cap, true);
      block = { file: line.file, line: line.line, kind: 'Host', pattern: matched ?? line.args.join(' ') };
      if (state.visitor.onBlock?.(block, active)) state.stopped = true;
    } else if (line.keyword === 'match') {
      active = neverMatch ? false : combineActivity(cap, evaluateMatch(line.args, state));
      block = { file: line.file, line: line.line, kind: 'Match', pattern: line.args.join(' ') };
      if (state.visitor.onBlock?.(block, active)) state.stopped = true;
    } else if (line.keyword === 'include') {
      const files = state.followIncludes ? line.args.flatMap((arg) => expandInclude(arg, state)) : [];
      if (state.visitor.onInclude?.(line, active, files, block)) {
        state.stopped = true;
        return;
      }
      if (depth + 1 > MAX_INCLUDE_DEPTH) continue;
      for (const included of files) {
        let sub: ConfigLine[] | null;
        try {
          sub = readConfigLines(included);
        } catch (error) {
          if (error instanceof ConfigParseError) continue;
          throw error;
        }
        if (sub === null) continue;
        // readconf.c: the included file starts in the includer's state, SSHCONF_NEVERMATCH when that
        // state is inactive, and `*activep = oactive` restores it afterwards.
        walkLines(sub, state, active === false ? false : active, neverMatch || active === false, block, depth + 1);
        if (state.stopped) return;
      }
    } else {
      if (state.visitor.onLine?.(line, active, block)) {
        state.stopped = true;
        return;
      }
      if (active !== false) obtain(line, active, state);
    }
  }
}

// HostName and User feed later `Match host` / `Match user` (readconf.c match_cfg_line reads
// options->hostname with %h expanded, and options->user).
function obtain(line: ConfigLine, active: Activity, state: WalkState): void {
  const value = line.args[0];
  if (value === undefined) return;
  if (line.keyword === 'hostname' && state.hostname === undefined) {
    state.hostname = value.replace(/%(.)/g, (all, c: string) => (c === 'h' ? state.alias : c === '%' ? '%' : all));
    state.hostnameCertain = active === true && !state.hostname.includes('%');
  } else if (line.keyword === 'user' && state.user === undefined) {
    state.user = value;
    state.userCertain = active === true && !value.includes('%');
  }
}

// readconf.c, case oHost: each whitespace-separated pattern is matched with match_pattern (no comma
// lists, case-sensitive) against the alias as typed; a matching negated pattern vetoes the block.
// Returns the first positive pattern that matched (what ssh logs), or null.
export function matchHostLine(patterns: readonly string[], alias: string): string | null {
  let first: string | null = null;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!matchPattern(alias, pattern)) continue;
    if (negated) return null;
    first ??= pattern;
  }
  return first;
}

// match.c match_pattern: `*` any run, `?` exactly one character, everything else literal.
export function matchPattern(s: string, pattern: string): boolean {
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 'su').test(s);
}

// match.c match_pattern_list: comma-separated, `!` negates (a negated hit vetoes), `dolower`
// lowercases the pattern (match_hostname lowercases the string as well).
export function matchPatternList(s: string, list: string, dolower: boolean): boolean {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let pattern = negated ? raw.slice(1) : raw;
    if (dolower) pattern = pattern.toLowerCase();
    if (matchPattern(s, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

// readconf.c match_cfg_line, for what can be known without running anything: all, host, originalhost,
// user, localuser. exec is never run here; final and canonical depend on later passes; newer criteria
// (localnetwork, version, tagged, command, sessiontype) are not evaluated: all of those give 'maybe'.
function evaluateMatch(args: readonly string[], state: WalkState): Activity {
  let result: Activity = true;
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token.startsWith('#')) break;
    const negate = token.startsWith('!');
    let attrib = negate ? token.slice(1) : token;
    let arg: string | undefined;
    const eq = attrib.indexOf('=');
    if (eq > 0 && /^(host|originalhost|user|localuser|localnetwork|version|tagged|command|exec)$/i.test(attrib.slice(0, eq))) {
      arg = attrib.slice(eq + 1);
      attrib = attrib.slice(0, eq);
    }
    const name = attrib.toLowerCase();
    if (name === 'all') return result === false ? false : negate ? false : result;
    if (name === 'canonical' || name === 'final') {
      result = combineActivity(result, 'maybe');
      continue;
    }
    if (arg === undefined) arg = args[++i];
    if (arg === undefined) return 'maybe';
    let r: Activity;
    switch (name) {
      case 'host': {
        const host = state.hostname ?? state.alias;
        r = state.hostnameCertain ? matchPatternList(host.toLowerCase(), arg, true) : 'maybe';
        break;
      }
      case 'originalhost':
        r = matchPatternList(state.alias.toLowerCase(), arg, true);
        break;
      case 'user':
        r = state.userCertain ? matchPatternList(state.user ?? state.localUser, arg, false) : 'maybe';
        break;
      case 'localuser':
        r = matchPatternList(state.localUser, arg, false);
        break;
      default:
        r = 'maybe';
    }
    if (r !== 'maybe' && negate) r = !r;
    result = combineActivity(result, r);
  }
  return result;
}

// An Include argument to the files it names: `~` is the passwd home (user files only); a relative
// path lives in ~/.ssh for user files and /etc/ssh for the system file (readconf.c case oInclude);
// then glob(3), sorted. OpenSSH >= 9.4 also expands %tokens and ${ENV} here: not done (9.2 does not).
function expandInclude(arg: string, state: WalkState): string[] {
  let path = arg;
  if (path.startsWith('~')) {
    if (!state.userConf) return [];
    if (path === '~' || path.startsWith('~/')) path = state.home + path.slice(1);
    else return []; // ~otheruser: not followed
  } else if (!isAbsolute(path)) {
    path = state.userConf ? join(state.home, '.ssh', path) : join('/etc/ssh', path);
  }
  return expandGlob(path);
}

// glob(3) for absolute paths with *, ? and [...] (no brace or ** expansion, as glob(3) without flags);
// a wildcard never matches a leading dot. Results sorted bytewise, as glob(3) in the C locale.
export function expandGlob(path: string): string[] {
  const parts = path.split('/').filter((p, i) => p !== '' || i === 0);
  let current = ['/'];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    const wild = /[*?[]/.test(part);
    for (const dir of current) {
      if (!wild) {
        next.push(join(dir, part));
        continue;
      }
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      const re = globSegment(part);
      for (const e of entries.sort()) {
        if (e.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(e)) next.push(join(dir, e));
      }
    }
    current = next;
  }
  return current.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

function globSegment(segment: string): RegExp {
  let source = '^';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 's');
}

// Every host name a file (and its Includes) mentions literally: Host patterns, Match host and
// originalhost lists; a wildcard pattern gives one concrete name it matches. For checking that an
// edit changes nobody else's settings.
export function collectHostNames(file: string, options: SourceOptions = {}): string[] {
  const names = new Set<string>();
  const add = (pattern: string): void => {
    const p = pattern.startsWith('!') ? pattern.slice(1) : pattern;
    if (p === '' || /[\s'"`$\\;&|<>]/.test(p)) return;
    names.add(p.replace(/\*/g, 'x').replace(/\?/g, 'y'));
    if (/[*?]/.test(p)) names.add(p.replace(/\*/g, '').replace(/\?/g, 'q'));
  };
  const seen = new Set<string>();
  const collect = (path: string, depth: number): void => {
    if (seen.has(path) || depth > MAX_INCLUDE_DEPTH) return;
    seen.add(path);
    let lines: ConfigLine[] | null;
    try {
      lines = readConfigLines(path);
    } catch {
      return;
    }
    if (lines === null) return;
    const state = { home: options.home ?? passwdHome(), userConf: !options.system } as WalkState;
    for (const line of lines) {
      if (line.keyword === 'host') line.args.forEach(add);
      else if (line.keyword === 'match') {
        for (let i = 0; i + 1 < line.args.length; i++) {
          const a = line.args[i]!.replace(/^!/, '').toLowerCase();
          if (a === 'host' || a === 'originalhost') line.args[i + 1]!.split(',').forEach(add);
        }
      } else if (line.keyword === 'include') {
        for (const arg of line.args) for (const f of expandInclude(arg, state)) collect(f, depth + 1);
      }
    }
  };
  collect(file, 0);
  return [...names].filter((n) => n.length > 0 && !n.startsWith('-'));
}

// A time value as ssh reads it (misc.c convtime): groups of digits, each with an optional unit
// s, m, h, d or w (either case; none = seconds), added up: `1m30s` = 90. null when ssh would refuse it.
export function parseTimeValue(text: string): number | null {
  if (!/^(\d+[smhdwSMHDW]?)+$/.test(text)) return null;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const [, digits, u] of text.matchAll(/(\d+)([smhdwSMHDW]?)/g)) {
    total += Number(digits) * (u ? unit[u.toLowerCase()]! : 1);
  }
  return Number.isSafeInteger(total) && total <= 2147483647 ? total : null;
}
