import { BORG1_COMMANDS, BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS } from './borg1-commands.js';
import { BORG2_COMMANDS, BORG2_COMMON_OPTIONS, BORG2_TOP_ONLY_OPTIONS } from './borg2-commands.js';
import type { CommandSpec } from './command-spec.js';

// borg's argparse parsers, compiled from the grammar tables once per borg major version: what
// argparse-replay.ts walks as borg's ArgumentParser and its subparsers would.

// How many words an option takes: none (a flag), one, or one if the next word is not an option.
export type Arity = 0 | 1 | '?';
// argparse's nargs of a positional; 'PARSER' is the `<command>` of a parser with subcommands.
export type Nargs = 1 | '?' | '*' | '+' | '...' | 'PARSER';

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
// The top-level parser of a borg major version, compiled on first use.
export function grammar(major: 1 | 2): Parser {
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
