// What a borg command line asks borg to do: which command, which repository, and the few options
// tborg cares about. The argv is read the way borg reads it: argparse-replay.ts replays borg's own
// argparse parser over the grammar tables (borg1-commands.ts, borg2-commands.ts); this module
// gives the parsed line borg's meaning (Archiver.parse_args and the commands' own checks).

import { grammar } from './argparse-grammar.js';
import { effective, ExitRequest, parseInt10, parseKnownArgs, positionalByName, type ParseState, type Word } from './argparse-replay.js';
import { ArgumentError } from './argparse-match.js';
import { connectionRetryRefusal } from '../plan/connection-retry.js';
import { borg2Generation, type LocationOptions } from './location.js';
import { parseLocation } from './parse-location.js';
import { findRepository1, findRepository2, type RepositoryArgument } from './repository-argument.js';
import { stdinUse } from './stdin-use.js';

// The parsed line: what tborg's planner and runner read of it.
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
  remotePath: string | null;
  // Why an attempt may consume input that cannot be replayed (borg reads stdin), else null.
  consumesStdin: string | null;
  // Why a lost connection must not be retried for this line (connection-retry.ts), else null.
  noConnectionRetry: string | null;
  // Whether running this line opens (or connects to) a repository at all.
  opensRepository: boolean;
  // borg only prints help or its version (also `borg` alone, `borg key` alone, `borg help ...`).
  helpOrVersion: boolean;
  // borg's own parser will reject this line, and why (argparse's message, roughly). Best effort:
  // null does not promise that borg accepts the line (types and choices are mostly not checked).
  invalid: string | null;
}

export type CommandLineOptions = LocationOptions;

// Archiver.parse_args: --bypass-lock only for commands that can run without the lock.
const BYPASS_ALLOWED_1: ReadonlySet<string> = new Set(['check', 'config', 'diff', 'export-tar', 'extract', 'info', 'list', 'mount', 'umount']);
const BYPASS_ALLOWED_2: ReadonlySet<string> = new Set([...BYPASS_ALLOWED_1, 'rinfo', 'rlist', 'repo-info', 'repo-list']);

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
    remotePath: null,
    consumesStdin: null,
    noConnectionRetry: null,
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
    const extras = parseKnownArgs(grammar(major), words, state);
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
  result.remotePath = effective(occurrences, '--remote-path')?.value ?? null;

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
  if (given('--bypass-lock') && !(major === 1 ? BYPASS_ALLOWED_1 : BYPASS_ALLOWED_2).has(key)) {
    result.invalid ??= 'Not allowed to bypass locking mechanism for chosen command';
  }
  if (major === 2 && given('-p') && given('--list') && !result.logJson) {
    result.invalid ??= 'Options --progress and --list do not play nicely together.';
  }

  if (major === 1) findRepository1(result, state, leaf, env, options);
  else findRepository2(result, state, leaf, env, options);

  result.consumesStdin = stdinUse(state, leaf);
  result.noConnectionRetry = connectionRetryRefusal({
    command: key,
    major,
    options: new Map(occurrences.map((o) => [o.action.id, effective(occurrences, o.action.id)?.value ?? null])),
    positionals: new Map([...state.positionals].map(([p, words]) => [p.name, words.map((w) => w.text)])),
    consumesStdin: result.consumesStdin,
  });
  result.opensRepository = result.repository !== null && result.invalid === null && !result.helpOrVersion;
  return result;
}
