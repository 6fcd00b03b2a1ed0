import {
  ArgumentError,
  actionName,
  matchOptionArgument,
  matchPartial,
  parseOptional,
  type Action,
  type OptionTuple,
  type Parser,
  type Positional,
} from './argparse-grammar.js';
import { isInBetas, type CommandSpec } from './command-spec.js';

// The argparse replay: a borg argv parsed the way borg's own ArgumentParser and its subparsers parse
// it (archiver.py build_parser), so tborg knows which word is an option, which is an option's value
// and which is a positional argument. It follows CPython 3.11's argparse (Debian 12's python3, the
// one borg runs on here): ArgumentParser._parse_known_args, _parse_optional, _get_option_tuples,
// _match_arguments_partial, _get_values. Line references below are to that file.

// One word of the argv, with its index there (-1 for the `-h` that `borg` alone stands for).
export interface Word {
  readonly text: string;
  readonly index: number;
}

// One option as given on the line, at the parser level it was given at.
export interface Occurrence {
  action: Action;
  level: number;
  value: string | null;
  // Index of the option word; of the value word when given separately.
  index: number;
  valueIndex: number | null;
}

// What a replay found: the options given, the positionals of the innermost command, the command.
export interface ParseState {
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
  return isInBetas(spec?.betas, beta);
}

// argparse exits for --help and --version before looking at the rest of the line.
export class ExitRequest extends Error {
  constructor(readonly kind: 'help' | 'version') {
    super(kind);
  }
}

// recreate/transfer --recompress [MODE] (archiver.py: choices=('never', 'if-different', 'always')).
const RECOMPRESS_CHOICES: ReadonlySet<string> = new Set(['never', 'if-different', 'always']);

// Python's int() for --lock-wait: optional sign, digits with single underscores, surrounding blanks.
export function parseInt10(text: string): number | null {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) return null;
  return Number(text.trim().replaceAll('_', ''));
}

// One parser level: ArgumentParser._parse_known_args. Returns the words it did not recognize.
export function parseKnownArgs(parser: Parser, words: readonly Word[], state: ParseState): Word[] {
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

// The occurrence borg acts on: CommonOptions.resolve lets the most specific level win; within a
// level argparse keeps the last value.
export function effective(occurrences: readonly Occurrence[], id: string): Occurrence | null {
  let best: Occurrence | null = null;
  for (const o of occurrences) {
    if (o.action.id !== id) continue;
    if (best === null || o.level >= best.level) best = o;
  }
  return best;
}

// The words of the leaf command's positional at `index`.
export function positionalValues(state: ParseState, leaf: Parser, index: number): Word[] | undefined {
  const p = leaf.positionals[index];
  return p === undefined ? undefined : state.positionals.get(p);
}

// The words of the leaf command's positional named `name` (its METAVAR).
export function positionalByName(state: ParseState, leaf: Parser, name: string): Word[] | undefined {
  const p = leaf.positionals.find((x) => x.name === name);
  return p === undefined ? undefined : state.positionals.get(p);
}
