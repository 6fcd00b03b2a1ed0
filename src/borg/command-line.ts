// What a borg command line asks borg to do: which command, which repository, and the few options
// tborg cares about. The argv is read the way borg reads it: borg builds an argparse parser
// (archiver.py build_parser) and Python's argparse decides which word is an option, which is an
// option's value and which is a positional argument. This module replays that decision with the
// grammar in borg-commands.ts, following CPython 3.11's argparse (Debian 12's python3, the one borg
// runs on here): ArgumentParser._parse_known_args, _parse_optional, _get_option_tuples,
// _match_arguments_partial, _get_values. Line references below are to that file.

import {
  BORG1_COMMANDS,
  BORG1_COMMON_OPTIONS,
  BORG1_TOP_ONLY_OPTIONS,
  BORG2_COMMANDS,
  BORG2_COMMANDS_WITHOUT_REPOSITORY,
  BORG2_COMMON_OPTIONS,
  BORG2_TOP_ONLY_OPTIONS,
  type CommandSpec,
} from './borg-commands.js';
import { connectionRetryRefusal } from '../plan/connection-retry.js';
import { borg2Generation, parseLocation, type Location, type LocationOptions } from './location.js';

export interface RepositoryArgument {
  location: Location;
  // Index in argv of the word that holds the location (the positional, the -r value, or the
  // `--repo=...` word); for borg 1.x `::archive` the word holding the archive. null: BORG_REPO alone.
  argIndex: number | null;
  source: 'argument' | '--repo' | 'BORG_REPO' | '--other-repo' | 'BORG_OTHER_REPO';
}

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

// ---------------------------------------------------------------------------------------------
// The grammar, compiled once per borg major version from the table.

type Arity = 0 | 1 | '?';
type Nargs = 1 | '?' | '*' | '+' | '...' | 'PARSER';

interface Action {
  // The first option string: the identity of the action, e.g. '-e' for "-e --exclude PATTERN".
  readonly id: string;
  readonly strings: readonly string[];
  readonly arity: Arity;
  readonly exit: 'help' | 'version' | null;
}

interface Positional {
  readonly name: string;
  readonly nargs: Nargs;
}

interface Parser {
  readonly path: readonly string[];
  // CommonOptions precedence (archiver.py): 0 main command, 1 mid command (key, debug, benchmark),
  // 2 subcommand. A higher level wins.
  readonly level: 0 | 1 | 2;
  readonly options: ReadonlyMap<string, Action>;
  readonly positionals: readonly Positional[];
  // The `<command>` choices, or null for a command that takes no further command.
  readonly choices: readonly string[] | null;
  readonly spec: CommandSpec | undefined;
  // The parser of a subcommand, compiled on first use: a tborg start needs one or two of them.
  subcommand(name: string): Parser | undefined;
}

function compileAction(text: string): Action {
  const words = text.split(' ');
  const strings = words.filter((w) => w.startsWith('-'));
  const metavar = words.find((w) => !w.startsWith('-'));
  const arity: Arity = metavar === undefined ? 0 : metavar.startsWith('[') ? '?' : 1;
  const exit = strings.includes('--help') ? 'help' : strings.includes('--version') ? 'version' : null;
  return { id: strings[0]!, strings, arity, exit };
}

function compilePositional(text: string): Positional {
  if (text.endsWith('...')) return { name: text.slice(0, -3), nargs: '...' };
  const last = text[text.length - 1];
  if (last === '?' || last === '*' || last === '+') return { name: text.slice(0, -1), nargs: last };
  return { name: text, nargs: 1 };
}

function addOptions(map: Map<string, Action>, texts: readonly string[]): Map<string, Action> {
  for (const text of texts) {
    const action = compileAction(text);
    for (const s of action.strings) map.set(s, action);
  }
  return map;
}

const COMMAND_POSITIONAL: Positional = { name: '<command>', nargs: 'PARSER' };

function compileGrammar(
  commands: Readonly<Record<string, CommandSpec>>,
  common: readonly string[],
  topOnly: readonly string[],
): Parser {
  const commonMap = addOptions(new Map(), common);
  const build = (path: string[], spec: CommandSpec | undefined): Parser => {
    const level: 0 | 1 | 2 = path.length === 0 ? 0 : spec?.subcommands ? 1 : 2;
    const options = level === 0 ? addOptions(new Map(), [...topOnly, ...common]) : new Map(commonMap);
    addOptions(options, spec?.options ?? []);
    let choices: string[] | null = null;
    if (level < 2) {
      const prefix = path.length === 0 ? '' : `${path.join(' ')} `;
      choices = Object.keys(commands)
        .filter((key) => key.startsWith(prefix) && !key.slice(prefix.length).includes(' '))
        .map((key) => key.slice(prefix.length));
    }
    const compiled = new Map<string, Parser>();
    return {
      path,
      level,
      options,
      positionals: choices ? [COMMAND_POSITIONAL] : (spec?.positionals ?? []).map(compilePositional),
      choices,
      spec,
      subcommand(name: string): Parser | undefined {
        if (!choices?.includes(name)) return undefined;
        let parser = compiled.get(name);
        if (!parser) {
          const childPath = [...path, name];
          parser = build(childPath, commands[childPath.join(' ')]);
          compiled.set(name, parser);
        }
        return parser;
      },
    };
  };
  return build([], undefined);
}

const grammars = new Map<1 | 2, Parser>();
function grammar(major: 1 | 2): Parser {
  let g = grammars.get(major);
  if (!g) {
    g =
      major === 1
        ? compileGrammar(BORG1_COMMANDS, BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS)
        : compileGrammar(BORG2_COMMANDS, BORG2_COMMON_OPTIONS, BORG2_TOP_ONLY_OPTIONS);
    grammars.set(major, g);
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// The argparse replay.

interface Word {
  readonly text: string;
  readonly index: number;
}

interface OptionTuple {
  action: Action | null;
  optionString: string;
  explicit: string | null;
}

interface Occurrence {
  action: Action;
  level: number;
  value: string | null;
  // Index of the option word; of the value word when given separately.
  index: number;
  valueIndex: number | null;
}

interface ParseState {
  occurrences: Occurrence[];
  // Positional values of the innermost command, by position.
  positionals: Map<Positional, Word[]>;
  path: string[];
  leaf: Parser | null;
  // The borg 2 beta whose commands apply (borg2Generation); null: borg 1.x, or a borg2 of unknown
  // version, which may run any command of the table.
  beta: number | null;
}

// Whether the borg 2 beta has the command (CommandSpec.betas); any command when the beta is unknown.
function inBetas(spec: CommandSpec | undefined, beta: number | null): boolean {
  if (beta === null || !spec?.betas) return true;
  const { since, until } = spec.betas;
  return (since === undefined || beta >= since) && (until === undefined || beta <= until);
}

class ArgumentError extends Error {}
class ExitRequest extends Error {
  constructor(readonly kind: 'help' | 'version') {
    super(kind);
  }
}

// recreate/transfer --recompress [MODE] (archiver.py: choices=('never', 'if-different', 'always')).
const RECOMPRESS_CHOICES: ReadonlySet<string> = new Set(['never', 'if-different', 'always']);

// argparse's _negative_number_matcher: such words are positionals (borg has no options like -1).
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

// _parse_optional (argparse.py): None for a positional, else (action or None, option string, explicit arg).
function parseOptional(parser: Parser, arg: string): OptionTuple | null {
  if (arg === '' || arg[0] !== '-') return null;
  const exact = parser.options.get(arg);
  if (exact) return { action: exact, optionString: arg, explicit: null };
  if (arg.length === 1) return null;
  const eq = arg.indexOf('=');
  if (eq !== -1) {
    const head = arg.slice(0, eq);
    const action = parser.options.get(head);
    if (action) return { action, optionString: head, explicit: arg.slice(eq + 1) };
  }
  const tuples = optionTuples(parser, arg);
  if (tuples.length > 1) {
    throw new ArgumentError(`ambiguous option: ${arg} could match ${tuples.map((t) => t.optionString).join(', ')}`);
  }
  if (tuples.length === 1) return tuples[0]!;
  if (NEGATIVE_NUMBER.test(arg)) return null;
  if (arg.includes(' ')) return null;
  return { action: null, optionString: arg, explicit: null };
}

// _get_option_tuples: "--pre" abbreviates every long option it prefixes (allow_abbrev, which borg
// leaves on); "-xVALUE" is a short option with its value attached. Python 3.11 lists one tuple per
// option string, so two spellings of one action (--keep-last/--keep-secondly) count as ambiguous.
function optionTuples(parser: Parser, arg: string): OptionTuple[] {
  const result: OptionTuple[] = [];
  if (arg[1] === '-') {
    const eq = arg.indexOf('=');
    const prefix = eq === -1 ? arg : arg.slice(0, eq);
    const explicit = eq === -1 ? null : arg.slice(eq + 1);
    for (const [s, action] of parser.options) {
      if (s.startsWith(prefix)) result.push({ action, optionString: s, explicit });
    }
  } else {
    const short = arg.slice(0, 2);
    const shortExplicit = arg.slice(2);
    for (const [s, action] of parser.options) {
      if (s === short) result.push({ action, optionString: s, explicit: shortExplicit });
      else if (s.startsWith(arg)) result.push({ action, optionString: s, explicit: null });
    }
  }
  return result;
}

// _get_nargs_pattern, for positionals ('-' stands for a "--" word, 'O' for an option).
function nargsPattern(nargs: Nargs): string {
  switch (nargs) {
    case 1:
      return '(-*A-*)';
    case '?':
      return '(-*A?-*)';
    case '*':
      return '(-*[A-]*)';
    case '+':
      return '(-*A[A-]*)';
    case '...':
      return '([-AO]*)';
    case 'PARSER':
      return '(-*A[-AO]*)';
  }
}

const patternCache = new Map<string, RegExp>();
function compiledPattern(source: string): RegExp {
  let re = patternCache.get(source);
  if (!re) {
    re = new RegExp(`^${source}`);
    patternCache.set(source, re);
  }
  return re;
}

// _match_arguments_partial: as many positionals as possible, each taking as much as its pattern can.
function matchPartial(positionals: readonly Positional[], pattern: string): number[] {
  for (let i = positionals.length; i > 0; i--) {
    const source = positionals.slice(0, i).map((p) => nargsPattern(p.nargs)).join('');
    const m = compiledPattern(source).exec(pattern);
    if (!m) continue;
    const counts = m.slice(1).map((g) => (g ?? '').length);
    // Newer argparse (Python 3.13's _match_arguments_partial, Debian 13's borg 1.4 and borg2) leaves
    // trailing positionals that matched nothing for later when an option follows, so `extract
    // REPO::A -e x PATH` fills PATH. Older Pythons (3.11, Debian 12) reject that PATH as
    // "unrecognized"; tborg follows the newer rule: on an older Python borg rejects the line itself.
    if (m[0].length < pattern.length && pattern[m[0].length] === 'O') {
      while (counts.length > 0 && counts[counts.length - 1] === 0) counts.pop();
    }
    return counts;
  }
  return [];
}

// _match_argument for an option: how many following words it takes.
function matchOptionArgument(action: Action, pattern: string, name: string): number {
  if (action.arity === 0) return 0;
  const next = pattern[0] === 'A';
  if (action.arity === '?') return next ? 1 : 0;
  if (!next) throw new ArgumentError(`argument ${name}: expected one argument`);
  return 1;
}

function actionName(action: Action): string {
  return action.strings.join('/');
}

// Python's int() for --lock-wait: optional sign, digits with single underscores, surrounding blanks.
function parseInt10(text: string): number | null {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) return null;
  return Number(text.trim().replaceAll('_', ''));
}

// One parser level: ArgumentParser._parse_known_args. Returns the words it did not recognize.
function parseKnownArgs(parser: Parser, words: readonly Word[], state: ParseState): Word[] {
  const tuples = new Map<number, OptionTuple>();
  let pattern = '';
  for (let i = 0; i < words.length; i++) {
    const text = words[i]!.text;
    if (text === '--') {
      // Everything after "--" is positional.
      pattern += '-' + 'A'.repeat(words.length - i - 1);
      break;
    }
    const tuple = parseOptional(parser, text);
    if (tuple === null) {
      pattern += 'A';
    } else {
      tuples.set(i, tuple);
      pattern += 'O';
    }
  }

  const extras: Word[] = [];
  let positionals = parser.positionals;
  const seen = new Set<Positional>();
  const seenOptions = new Set<string>();

  const takeOption = (action: Action, args: readonly Word[], optionWord: Word, explicit: boolean): void => {
    if (action.exit) throw new ExitRequest(action.exit);
    seenOptions.add(action.id);
    // _get_values strips the first "--" from an option's arguments as well.
    const values = args.filter((w, i) => !(w.text === '--' && args.findIndex((x) => x.text === '--') === i));
    const value = values[0]?.text ?? null;
    if (action.id === '--lock-wait' && value !== null && parseInt10(value) === null) {
      throw new ArgumentError(`argument --lock-wait: invalid int value: '${value}'`);
    }
    // The one optional-value option: `recreate --recompress REPO::ARCH` swallows the location and
    // fails on its choices, so borg never looks at BORG_REPO.
    if (action.id === '--recompress' && value !== null && !RECOMPRESS_CHOICES.has(value)) {
      throw new ArgumentError(`argument --recompress: invalid choice: '${value}' (choose from 'never', 'if-different', 'always')`);
    }
    state.occurrences.push({
      action,
      level: parser.level,
      value,
      index: optionWord.index,
      valueIndex: explicit ? null : (values[0]?.index ?? null),
    });
  };

  const takePositional = (positional: Positional, args: Word[]): void => {
    seen.add(positional);
    if (positional.nargs === 'PARSER') {
      const name = args[0]!.text;
      const sub = parser.subcommand(name);
      if (!sub || !inBetas(sub.spec, state.beta)) {
        const choices = (parser.choices ?? [])
          .filter((c) => inBetas(parser.subcommand(c)?.spec, state.beta))
          .map((c) => `'${c}'`)
          .join(', ');
        throw new ArgumentError(`argument <command>: invalid choice: '${name}' (choose from ${choices})`);
      }
      state.path.push(name);
      state.leaf = sub;
      // _SubParsersAction.__call__: the subparser's leftovers become the caller's "unrecognized".
      extras.push(...parseKnownArgs(sub, args.slice(1), state));
      return;
    }
    let values = args;
    if (positional.nargs !== '...') {
      const dash = args.findIndex((w) => w.text === '--');
      if (dash !== -1) values = [...args.slice(0, dash), ...args.slice(dash + 1)];
    }
    state.positionals.set(positional, values);
  };

  const consumePositionals = (start: number): number => {
    const counts = matchPartial(positionals, pattern.slice(start));
    let index = start;
    counts.forEach((count, i) => {
      takePositional(positionals[i]!, words.slice(index, index + count));
      index += count;
    });
    positionals = positionals.slice(counts.length);
    return index;
  };

  const consumeOptional = (start: number): number => {
    let { action, optionString, explicit } = tuples.get(start)!;
    const optionWord = words[start]!;
    const taken: Array<{ action: Action; args: Word[]; explicit: boolean }> = [];
    let stop: number;
    for (;;) {
      if (action === null) {
        extras.push(optionWord);
        return start + 1;
      }
      if (explicit !== null) {
        const count = matchOptionArgument(action, 'A', actionName(action));
        if (count === 0 && optionString[1] !== '-' && explicit !== '') {
          // "-xsC": -x takes no value, so "s" is the next short option (bundled flags).
          taken.push({ action, args: [], explicit: false });
          optionString = optionString[0]! + explicit[0]!;
          const next = parser.options.get(optionString);
          if (!next) throw new ArgumentError(`argument ${actionName(action)}: ignored explicit argument '${explicit}'`);
          action = next;
          explicit = explicit.slice(1) === '' ? null : explicit.slice(1);
        } else if (count === 1) {
          stop = start + 1;
          taken.push({ action, args: [{ text: explicit, index: optionWord.index }], explicit: true });
          break;
        } else {
          throw new ArgumentError(`argument ${actionName(action)}: ignored explicit argument '${explicit}'`);
        }
      } else {
        const from = start + 1;
        const count = matchOptionArgument(action, pattern.slice(from), actionName(action));
        stop = from + count;
        taken.push({ action, args: words.slice(from, stop), explicit: false });
        break;
      }
    }
    for (const t of taken) takeOption(t.action, t.args, optionWord, t.explicit);
    return stop;
  };

  // The main loop of _parse_known_args: positionals and options alternately, up to the last option.
  const optionIndices = [...tuples.keys()];
  const maxOptionIndex = optionIndices.length > 0 ? Math.max(...optionIndices) : -1;
  let start = 0;
  while (start <= maxOptionIndex) {
    const nextOption = Math.min(...optionIndices.filter((i) => i >= start));
    if (start !== nextOption) {
      const end = consumePositionals(start);
      if (end > start) {
        start = end;
        continue;
      }
      start = end;
    }
    if (!tuples.has(start)) {
      extras.push(...words.slice(start, nextOption));
      start = nextOption;
    }
    start = consumeOptional(start);
  }
  const stop = consumePositionals(start);
  extras.push(...words.slice(stop));

  // Positionals are required unless nargs is '?' (borg gives its '*' ones a default via
  // set_defaults only after argparse decided they are required, but they match empty anyway).
  const missing = [
    ...(parser.spec?.required ?? []).filter((id) => !seenOptions.has(id)).map((id) => actionName(parser.options.get(id)!)),
    ...parser.positionals.filter((p) => !seen.has(p) && p.nargs !== '?' && p.nargs !== 'PARSER').map((p) => p.name),
  ];
  if (missing.length > 0) throw new ArgumentError(`the following arguments are required: ${missing.join(', ')}`);
  return extras;
}

// ---------------------------------------------------------------------------------------------
// borg's meaning of the parsed line.

// The occurrence borg acts on: CommonOptions.resolve lets the most specific level win; within a
// level argparse keeps the last value.
function effective(occurrences: readonly Occurrence[], id: string): Occurrence | null {
  let best: Occurrence | null = null;
  for (const o of occurrences) {
    if (o.action.id !== id) continue;
    if (best === null || o.level >= best.level) best = o;
  }
  return best;
}

function positionalValues(state: ParseState, leaf: Parser, index: number): Word[] | undefined {
  const p = leaf.positionals[index];
  return p === undefined ? undefined : state.positionals.get(p);
}

function positionalByName(state: ParseState, leaf: Parser, name: string): Word[] | undefined {
  const p = leaf.positionals.find((x) => x.name === name);
  return p === undefined ? undefined : state.positionals.get(p);
}

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
  const key = state.path.join(' ');
  if (BORG2_COMMANDS_WITHOUT_REPOSITORY.has(key)) return;
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

// Input borg reads from stdin, which a second attempt cannot read again:
//   create PATH "-"            archiver create: `if path == '-'` reads the data from stdin
//   create --paths-from-stdin  reads the list of paths from stdin
//   import-tar ARCHIVE -       dash_open(args.tarfile, 'rb')
//   key import REPO -          `args.path != '-'` check, then reads the key from stdin
//   init --import-related-secrets -   (1.4) dash_open(..., 'r')
//   with-lock REPO CMD         CMD inherits borg's stdin and may read it
//   create --content-from-command / --paths-from-command CMD: borg reads CMD's stdout, but CMD
//   itself inherits borg's stdin (archiver.py do_create: subprocess.Popen(args.paths,
//   stdout=PIPE), no stdin=), so `--content-from-command -- cat` reads stdin, like with-lock's.
function stdinUse(state: ParseState, leaf: Parser): string | null {
  const key = state.path.join(' ');
  const has = (id: string): boolean => state.occurrences.some((o) => o.action.id === id);
  const value = (id: string): string | null => effective(state.occurrences, id)?.value ?? null;
  if (key === 'create') {
    if (has('--paths-from-stdin')) return 'create --paths-from-stdin';
    if (has('--content-from-command')) return 'create --content-from-command (COMMAND inherits stdin)';
    if (has('--paths-from-command')) return 'create --paths-from-command (COMMAND inherits stdin)';
    if (positionalByName(state, leaf, 'PATH')?.some((w) => w.text === '-')) return 'create -';
    return null;
  }
  if (key === 'import-tar') {
    return positionalByName(state, leaf, 'TARFILE')?.[0]?.text === '-' ? 'import-tar -' : null;
  }
  if (key === 'key import') {
    if (has('--paper')) return null;
    return positionalByName(state, leaf, 'PATH')?.[0]?.text === '-' ? 'key import -' : null;
  }
  if (key === 'init' && value('--import-related-secrets') === '-') return 'init --import-related-secrets -';
  if (key === 'with-lock') return 'with-lock COMMAND (inherits stdin)';
  return null;
}
