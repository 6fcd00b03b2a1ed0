import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';

// Shared by tborg's own commands (yargs stays at the edge, behaviour in the library): runs a yargs
// parser built by the command without letting yargs print or exit, and turns its complaints into one
// usage line. yargs is imported lazily so `tborg <borg arguments>` never loads it.
export interface ParsedCommandArgs {
  argv: Record<string, unknown> & { _: Array<string | number> };
  // --help was asked for: the usage text to print (stdout, exit 0).
  help: string | null;
}

export async function parseCommandArgs(
  command: string,
  args: readonly string[],
  build: (parser: Argv) => Argv,
): Promise<ParsedCommandArgs> {
  const { default: yargs } = await import('yargs');
  const parser = build(yargs())
    .strictOptions()
    .version(false)
    .help()
    .locale('en')
    .wrap(100)
    .exitProcess(false);
  const { argv, output, error } = await new Promise<{ argv: Record<string, unknown>; output: string; error: Error | undefined }>(
    (resolve) => {
      void parser.parse([...args], {}, (err: Error | undefined, parsed: Record<string, unknown>, text: string) =>
        resolve({ argv: parsed, output: text, error: err ?? undefined }),
      );
    },
  );
  if (error) throw new UsageError(`${error.message} (see tborg ${command} --help)`);
  return {
    argv: argv as ParsedCommandArgs['argv'],
    help: argv.help ? `${output}\n` : null,
  };
}

// yargs turns a repeated string option into an array and a single one into a string.
export function stringsOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

// An option that means one value: given twice is an error, not "the last one wins".
export function singleOf(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`${name} given more than once`);
  return String(value);
}

export function flagOf(value: unknown): boolean {
  return Array.isArray(value) ? value.includes(true) : value === true;
}

// tborg's own commands that take no positional argument: the first one given is a usage error.
export function rejectPositionals(argv: ParsedCommandArgs['argv'], command: string): void {
  const positional = (argv._ as unknown[]) ?? [];
  if (positional.length > 0) {
    throw new UsageError(`unexpected argument '${String(positional[0])}' (see tborg ${command} --help)`);
  }
}
