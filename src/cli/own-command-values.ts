import { UsageError } from '../core/errors.js';

// How the one parser (own-commands.ts) turns what yargs read into the typed words each command takes.

// A value option given twice is an error, not "the last one wins" (yargs makes it an array; what this
// throws, yargs reports as its own complaints: `--max-age given more than once (see tborg status --help)`).
export function once(name: string): (value: string | string[]) => string {
  return (value) => {
    if (Array.isArray(value)) throw new UsageError(`${name} given more than once`);
    return value;
  };
}

// A repeatable value option, always as the list of its values in order.
export function all(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

// The words after a `--` (populate--): yargs' types do not know the key.
export function afterDashDash(argv: object): string[] {
  const words: unknown = Reflect.get(argv, '--');
  return Array.isArray(words) ? words.map(String) : [];
}

// The words after the command's name. ssh-config and authorized-keys read theirs here, not as a
// declared yargs positional: a variadic positional loses a lone `-` (yargs re-parses it as
// `--keyfiles -`), and `-` is authorized-keys' stdin. Their commands check the count themselves.
export function positionalWords(argv: { _: Array<string | number> }): string[] {
  return argv._.slice(1).map(String);
}
