import { BORG1_COMMANDS, BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS } from './borg1-commands.js';
import { BORG2_COMMANDS, BORG2_COMMON_OPTIONS, BORG2_OPTION_BETAS, BORG2_TOP_ONLY_OPTIONS } from './borg2-commands.js';
import { isInBetas, type CommandSpec } from './command-spec.js';

// borg's argparse parsers, compiled from the grammar tables once per borg major version: what
// argparse-replay.ts walks as borg's ArgumentParser and its subparsers would.

// How many words an option takes: none (a flag), one, or one if the next word is not an option.
export type Arity = 0 | 1 | '?';
// argparse's nargs of a positional; 'PARSER' is the `<command>` of a parser with subcommands.
type Nargs = 1 | '?' | '*' | '+' | '...' | 'PARSER';

// One option of a parser (an argparse Action with option strings).
export interface Action {
  // The first option string: the identity of the action, e.g. '-e' for "-e --exclude PATTERN".
  readonly id: string;
  readonly strings: readonly string[];
  readonly arity: Arity;
  readonly exit: 'help' | 'version' | null;
}

// One positional argument of a parser.
export interface Positional {
  readonly name: string;
  readonly nargs: Nargs;
}

// One parser: the top level, a mid command (key, debug, benchmark) or a command.
export interface Parser {
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

function compileGrammar(commands: Readonly<Record<string, CommandSpec>>, common: readonly string[], topOnly: readonly string[]): Parser {
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

// The option texts a borg 2 beta has (BORG2_OPTION_BETAS); all of them when the beta is unknown.
function borg2Options(texts: readonly string[], beta: number | null): string[] {
  return texts.filter((text) => isInBetas(BORG2_OPTION_BETAS[text.split(' ')[0]!], beta));
}

const grammars = new Map<string, Parser>();
// The top-level parser of a borg major version, compiled on first use. For borg 2 the beta
// (borg2Generation) picks the options that beta has; null: the union of every beta's.
export function grammar(major: 1 | 2, beta: number | null = null): Parser {
  const key = major === 1 ? '1' : `2:${beta ?? 'any'}`;
  let g = grammars.get(key);
  if (!g) {
    g =
      major === 1
        ? compileGrammar(BORG1_COMMANDS, BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS)
        : compileGrammar(BORG2_COMMANDS, borg2Options(BORG2_COMMON_OPTIONS, beta), borg2Options(BORG2_TOP_ONLY_OPTIONS, beta));
    grammars.set(key, g);
  }
  return g;
}

// How argparse reads single words and runs of words against one parser, following CPython 3.11's
// argparse (Debian 12's python3, the one borg runs on here): _parse_optional, _get_option_tuples,
// _get_nargs_pattern, _match_arguments_partial, _match_argument. argparse-replay.ts drives them.

// What _parse_optional makes of an option word: its action (null: unknown to the parser), the
// option string it matched, and a value given in the same word.
export interface OptionTuple {
  action: Action | null;
  optionString: string;
  explicit: string | null;
}

// argparse's ArgumentError: borg's parser rejects the line with this message.
export class ArgumentError extends Error {}

// argparse's _negative_number_matcher: such words are positionals (borg has no options like -1).
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

// _parse_optional (argparse.py): None for a positional, else (action or None, option string, explicit arg).
export function parseOptional(parser: Parser, arg: string): OptionTuple | null {
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
export function matchPartial(positionals: readonly Positional[], pattern: string): number[] {
  for (let i = positionals.length; i > 0; i--) {
    const source = positionals
      .slice(0, i)
      .map((p) => nargsPattern(p.nargs))
      .join('');
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
export function matchOptionArgument(action: Action, pattern: string, name: string): number {
  if (action.arity === 0) return 0;
  const next = pattern[0] === 'A';
  if (action.arity === '?') return next ? 1 : 0;
  if (!next) throw new ArgumentError(`argument ${name}: expected one argument`);
  return 1;
}

// An option named as argparse names it in messages ("-e/--exclude").
export function actionName(action: Action): string {
  return action.strings.join('/');
}
