// What a borg command line asks borg to do: which command, which repository, and the few options
// tborg cares about. The argv is read the way borg reads it: argparse-replay.ts replays borg's own
// argparse parser over the grammar tables (borg1-commands.ts, borg2-commands.ts); this module
// gives the parsed line borg's meaning (Archiver.parse_args, location_validator, the commands' own
// checks and their use of stdin).

import { ArgumentError, grammar, type Parser } from './argparse-grammar.js';
import {
  effective,
  ExitRequest,
  parseInt10,
  parseKnownArgs,
  positionalByName,
  positionalValues,
  type Occurrence,
  type ParseState,
  type Word,
} from './argparse-replay.js';
import type { CommandWords } from './command-spec.js';
import { connectionRetryRefusal } from './connection-retry.js';
import { borg2Generation, parseLocation, type Location, type LocationOptions } from './location.js';

// A repository the line names, and the word of argv that names it.
export interface RepositoryArgument {
  location: Location;
  // Index in argv of the word that holds the location (the positional, the -r value, or the
  // `--repo=...` word); for borg 1.x `::archive` the word holding the archive. null: BORG_REPO alone.
  argIndex: number | null;
  source: 'argument' | '--repo' | 'BORG_REPO' | '--other-repo' | 'BORG_OTHER_REPO';
}

// The parsed line: what the planner and the runner read of it.
export interface BorgCommandLine {
  // e.g. ['create'], ['key', 'export'], ['benchmark', 'crud'], [] for `borg --version`.
  command: string[];
  repository: RepositoryArgument | null;
  // borg 2 `transfer --other-repo` / BORG_OTHER_REPO and `rcreate/repo-create --other-repo`:
  // a second repository the command opens.
  otherRepository: RepositoryArgument | null;
  // The --rsh borg will use. separate: ["--rsh", "ssh -x"], joined: ["--rsh=ssh -x"]; index is the
  // index of the "--rsh..." word (which may be an abbreviation such as --rs, as argparse allows).
  // An empty value makes borg fall back to BORG_RSH (remote.py: `args.rsh or BORG_RSH or 'ssh'`).
  // borg 1.1.9+ and borg 2 up to 2.0.0b22 have --rsh.
  rsh: { value: string; index: number; form: 'separate' | 'joined' } | null;
  // The user's --lock-wait (seconds), as borg resolves it: the most specific level wins
  // (`borg --lock-wait 5 create --lock-wait 9` -> 9), and within one level the last one.
  lockWait: number | null;
  logJson: boolean;
  // -n/--dry-run given (create, prune, delete, recreate, ...): borg changes nothing.
  dryRun: boolean;
  remotePath: string | null;
  // Where the effective --remote-path is, as for rsh (index of the option word; separate: its value
  // is the next word), so a run can prefix its value in place (src/plan/run-token.ts).
  remotePathAt: { index: number; form: 'separate' | 'joined' } | null;
  // Why an attempt may consume input that cannot be replayed (borg reads stdin), else null.
  consumesStdin: string | null;
  // Why a lost connection must not be retried for this line (connection-retry.ts), else null.
  noConnectionRetry: string | null;
  // The command of the user's this line makes borg run (CommandSpec.userCommand), else null.
  userCommand: string | null;
  // The positional values by their name in the grammar tables ('NAME', 'NEWNAME', ...).
  positionals: ReadonlyMap<string, readonly string[]>;
  // Whether running this line opens (or connects to) a repository at all.
  opensRepository: boolean;
  // borg only prints help or its version (also `borg` alone, `borg key` alone, `borg help ...`).
  helpOrVersion: boolean;
  // borg's own parser will reject this line, and why (argparse's message, roughly). Best effort:
  // null does not promise that borg accepts the line (types and choices are mostly not checked).
  invalid: string | null;
}

// What reading a line needs besides argv and env: the borg version, placeholder values, the cwd.
export type CommandLineOptions = LocationOptions;

// Parses a borg command line (argv without the program name). Never throws.
export function parseBorgCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  major: 1 | 2,
  options: CommandLineOptions = {},
): BorgCommandLine {
  const result: BorgCommandLine = {
    command: [],
    repository: null,
    otherRepository: null,
    rsh: null,
    lockWait: null,
    logJson: false,
    dryRun: false,
    remotePath: null,
    remotePathAt: null,
    consumesStdin: null,
    noConnectionRetry: null,
    userCommand: null,
    positionals: new Map(),
    opensRepository: false,
    helpOrVersion: false,
    invalid: null,
  };
  // borg 2 builds the defaults of -r/--repo and --other-repo from BORG_REPO and BORG_OTHER_REPO
  // while building its parser (_common.py define_common_options: default=Location(other=False)),
  // before reading argv: an invalid value stops every command, --version included (measured on
  // 2.0.0b5: BORG_REPO= borg2 --version -> ValueError traceback, rc 1).
  if (major === 2) {
    for (const name of ['BORG_REPO', 'BORG_OTHER_REPO'] as const) {
      const value = env[name];
      if (value === undefined) continue;
      if (value === '' && borg2Generation(options.version) >= 10) continue; // b10+: empty means unset
      if (!parseLocation(value, { BORG_REPO: value }, 2, options)) {
        result.invalid = `${name}: Invalid location format: "${value}"`;
        return result;
      }
    }
  }
  const beta = major === 2 && options.version !== undefined ? borg2Generation(options.version) : null;
  const state: ParseState = { occurrences: [], positionals: new Map(), path: [], leaf: null, beta };
  // Archiver.parse_args: `borg` alone is `borg -h`.
  const words: Word[] = argv.length === 0 ? [{ text: '-h', index: -1 }] : argv.map((text, index) => ({ text, index }));
  try {
    const extras = parseKnownArgs(grammar(major, beta), words, state);
    if (extras.length > 0) result.invalid = `unrecognized arguments: ${extras.map((w) => w.text).join(' ')}`;
  } catch (error) {
    if (error instanceof ExitRequest) {
      result.helpOrVersion = true;
    } else if (error instanceof ArgumentError) {
      result.invalid = error.message;
    } else {
      throw error;
    }
  }
  result.command = state.path;
  const leaf = state.leaf;
  const occurrences = state.occurrences;

  const rsh = effective(occurrences, '--rsh');
  if (rsh && rsh.value !== null) {
    result.rsh = { value: rsh.value, index: rsh.index, form: rsh.valueIndex === null ? 'joined' : 'separate' };
  }
  const lockWait = effective(occurrences, '--lock-wait');
  if (lockWait && lockWait.value !== null) result.lockWait = parseInt10(lockWait.value);
  result.logJson = occurrences.some((o) => o.action.id === '--log-json');
  result.dryRun = occurrences.some((o) => o.action.strings.includes('--dry-run'));
  const remotePath = effective(occurrences, '--remote-path');
  result.remotePath = remotePath?.value ?? null;
  if (remotePath && remotePath.value !== null) {
    result.remotePathAt = { index: remotePath.index, form: remotePath.valueIndex === null ? 'joined' : 'separate' };
  }

  // No command, or only `key`/`debug`/`benchmark`: borg prints help (do_maincommand_help,
  // do_subcommand_help). So does `borg help ...`.
  if (!result.helpOrVersion && result.invalid === null && (leaf === null || leaf.level < 2 || state.path[0] === 'help')) {
    result.helpOrVersion = true;
  }
  // A line that only prints help or the version names no repository, whatever else it holds.
  if (leaf === null || leaf.level < 2 || result.helpOrVersion) return result;

  // Archiver.parse_args: checks argparse cannot express.
  if (state.path.join(' ') === 'create') {
    const has = (id: string): boolean => occurrences.some((o) => o.action.id === id);
    const paths = positionalByName(state, leaf, 'PATH') ?? [];
    // "R /root" lines of --pattern/--patterns-from also add paths (ArgparsePatternAction).
    const maybeMore = has('--pattern') || has('--patterns-from');
    if (paths.length > 0 && has('--paths-from-stdin')) result.invalid ??= 'Must not pass PATH with --paths-from-stdin.';
    if (paths.length === 0 && !maybeMore) {
      if (has('--content-from-command') || has('--paths-from-command')) result.invalid ??= 'No command given.';
      else if (!has('--paths-from-stdin')) result.invalid ??= 'Need at least one PATH argument.';
    }
  }

  const key = state.path.join(' ');
  const given = (id: string): boolean => occurrences.some((o) => o.action.id === id);
  // Archiver.parse_args: --bypass-lock only for commands that can run without the lock (CommandSpec.bypassLock).
  if (given('--bypass-lock') && !leaf.spec?.bypassLock) {
    result.invalid ??= 'Not allowed to bypass locking mechanism for chosen command';
  }
  if (major === 2 && given('-p') && given('--list') && !result.logJson) {
    result.invalid ??= 'Options --progress and --list do not play nicely together.';
  }

  if (major === 1) findRepository1(result, state, leaf, env, options);
  else findRepository2(result, state, leaf, env, options);

  const commandWords: CommandWords = {
    command: key,
    major,
    options: new Map(occurrences.map((o) => [o.action.id, effective(occurrences, o.action.id)?.value ?? null])),
    positionals: new Map([...state.positionals].map(([p, words]) => [p.name, words.map((w) => w.text)])),
    consumesStdin: null,
  };
  result.consumesStdin = leaf.spec?.stdin?.(commandWords) ?? null;
  commandWords.consumesStdin = result.consumesStdin;
  result.noConnectionRetry = connectionRetryRefusal(commandWords, leaf.spec?.retry);
  result.userCommand = leaf.spec?.userCommand?.(commandWords) ?? null;
  result.positionals = commandWords.positionals;
  result.opensRepository = result.repository !== null && result.invalid === null && !result.helpOrVersion;
  return result;
}

// borg 1.x: the first positional is the location (location_validator), '' when omitted.
function findRepository1(result: BorgCommandLine, state: ParseState, leaf: Parser, env: NodeJS.ProcessEnv, options: LocationOptions): void {
  const kind = leaf.spec?.location;
  if (kind === undefined) return;
  const values = positionalValues(state, leaf, 0);
  if (values === undefined) return; // never reached: the line is already invalid
  const word = values[0];
  const text = word?.text ?? '';
  const location = parseLocation(text, env, 1, options);
  if (!location) {
    result.invalid ??= `argument ${leaf.positionals[0]!.name}: Invalid location format: "${text}"`;
    return;
  }
  // Location.parse tries the text itself first; only "", "::" and "::archive" (which can never
  // parse on their own: the scp path must not start with ":") take the repository from BORG_REPO.
  const fromEnv = text === '' || text.startsWith('::');
  result.repository = { location, argIndex: word?.index ?? null, source: fromEnv ? 'BORG_REPO' : 'argument' };
  if (kind === 'archive' && location.archive === null) result.invalid ??= `"${text}": No archive specified`;
  if (kind === 'repository' && location.archive !== null) result.invalid ??= `"${text}": No archive can be specified`;
  if (leaf.spec?.localOnly && location.proto !== 'file') result.invalid ??= `"${text}": Repository must be local`;
}

// borg 2: -r/--repo (a common option, so also before the command) or BORG_REPO.
function findRepository2(result: BorgCommandLine, state: ParseState, leaf: Parser, env: NodeJS.ProcessEnv, options: LocationOptions): void {
  if (leaf.spec?.noRepository) return;
  result.repository = repositoryFromOption(result, effective(state.occurrences, '-r'), env.BORG_REPO, env, options);
  if (result.repository === null) return;
  if (leaf.options.has('--other-repo')) {
    // location_validator(other=True): an empty or missing value means BORG_OTHER_REPO.
    const other = repositoryFromOption(result, effective(state.occurrences, '--other-repo'), env.BORG_OTHER_REPO, env, options);
    result.otherRepository = other && {
      ...other,
      source: other.source === 'BORG_REPO' ? 'BORG_OTHER_REPO' : '--other-repo',
    };
  }
}

// A location given by an option (Location(text) with an empty text falling back to the
// environment variable), or null when there is none.
function repositoryFromOption(
  result: BorgCommandLine,
  occurrence: Occurrence | null,
  fallback: string | undefined,
  env: NodeJS.ProcessEnv,
  options: LocationOptions,
): RepositoryArgument | null {
  const text = occurrence?.value ?? '';
  const location = parseLocation(text, { ...env, BORG_REPO: fallback }, 2, options);
  if (!location) {
    if (text !== '' || (fallback ?? '') !== '') {
      const name = occurrence?.action.strings.join('/') ?? '-r/--repo';
      result.invalid ??= `argument ${name}: Invalid location format: "${text || fallback}"`;
    }
    return null;
  }
  if (text === '') return { location, argIndex: null, source: 'BORG_REPO' };
  return { location, argIndex: occurrence!.valueIndex ?? occurrence!.index, source: '--repo' };
}
