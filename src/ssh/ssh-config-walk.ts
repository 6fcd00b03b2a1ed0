import { isAbsolute, join } from 'node:path';
import { passwdHome, passwdName } from '../process/passwd-home.js';
import { ConfigParseError, readConfigLines, type ConfigLine } from './ssh-config-tokens.js';
import { expandGlob, matchPattern, matchPatternList } from './ssh-patterns.js';

// Walks ssh config files as ssh reads them (readconf.c read_config_file_depth /
// process_config_line_depth): Host and Match blocks with ssh's matching rules (match.c), Include
// followed in place, HostName and User obtained for later Match lines. It says which lines apply to
// a host; it never decides a value on its own.

// A Host or Match line (or the lines before the first one), as messages name it: file:line.
export interface ConfigPlace {
  file: string;
  line: number;
  // 'Global': a line before the first Host/Match of a file, which applies to every host.
  kind: 'Host' | 'Match' | 'Global';
  // The Host pattern that matched (as ssh logs it: "Applying options for PATTERN"), or the Match
  // condition; '' for Global.
  pattern: string;
}

// What a walk needs to know besides the file and the host, all with the password database's defaults.
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

// true: applies; false: does not; 'maybe': depends on something tborg does not evaluate.
export type Activity = boolean | 'maybe';

// What a walk reports, line by line; each callback may stop it.
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
export const MAX_INCLUDE_DEPTH = 16;

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
    home: options.home ?? sshHome(),
    userConf: !options.system,
    localUser: options.localUser ?? passwdName(),
    hostname: undefined,
    hostnameCertain: true,
    user: options.user ?? undefined,
    userCertain: true,
    visitor,
    stopped: false,
    followIncludes: options.followIncludes ?? true,
  };
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
function matchHostLine(patterns: readonly string[], alias: string): string | null {
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
export function expandInclude(arg: string, state: Pick<WalkState, 'home' | 'userConf'>): string[] {
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

// The home directory ssh uses: the password database's (src/process/passwd-home.ts). A user without
// an entry has no ssh at all ("No user exists for uid"); `/` keeps the walk going for the message.
export function sshHome(): string {
  return passwdHome() ?? '/';
}
