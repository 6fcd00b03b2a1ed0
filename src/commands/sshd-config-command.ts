import { UsageError } from '../errors.js';
import { GUIDE_SERVER_ALIVE } from '../lock-wait.js';
import type { CommandContext } from '../main.js';
import { formatSshdConfig } from '../sshd-config.js';
import { parseAlivePair } from '../tborg-options.js';

const USAGE = `tborg sshd-config [--tborg-server-alive IxC | --server-alive IxC] [--match-user USER]

Prints ClientAliveInterval/ClientAliveCountMax lines for the server's sshd_config, ready to paste,
with how long a stale \`borg serve\` then keeps the repository lock. Default 10x30, borg's serve guide.`;

// `tborg sshd-config`: the server half of the keepalive advice, as text to paste.
export async function runSshdConfigCommand(context: CommandContext): Promise<number> {
  const { default: yargs } = await import('yargs');
  const parser = yargs()
    .scriptName('tborg sshd-config')
    .usage(USAGE)
    .option('server-alive', {
      type: 'string',
      requiresArg: true,
      describe: 'ClientAliveInterval x ClientAliveCountMax, e.g. 10x30 (same as --tborg-server-alive)',
    })
    .option('match-user', { type: 'string', requiresArg: true, describe: 'wrap the lines in a "Match User USER" block' })
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false })
    .strictOptions()
    .version(false)
    .help()
    .locale('en')
    .wrap(100)
    .exitProcess(false);
  const { argv, output, error } = await new Promise<{ argv: Record<string, unknown>; output: string; error: Error | undefined }>(
    (resolve) => {
      void parser.parse(context.args, {}, (err: Error | undefined, parsed: Record<string, unknown>, text: string) =>
        resolve({ argv: parsed, output: text, error: err ?? undefined }),
      );
    },
  );
  if (error) throw new UsageError(`tborg: sshd-config: ${error.message} (see tborg sshd-config --help)`);
  if (argv.help) {
    context.terminal.out(`${output}\n`);
    return 0;
  }
  const positional = (argv._ as unknown[]) ?? [];
  if (positional.length > 0) {
    throw new UsageError(`tborg: sshd-config: unexpected argument '${String(positional[0])}' (see tborg sshd-config --help)`);
  }
  const given = lastString(argv['server-alive'], '--server-alive');
  let serverAlive = context.options.serverAlive;
  if (given !== undefined) {
    serverAlive = given.trim().toLowerCase() === 'none' ? null : parseAlivePair(given, 'sshd-config: --server-alive');
  }
  if (serverAlive === null) {
    throw new UsageError(
      "tborg: sshd-config: the server alive setting is 'none', which is what these lines fix; give IxC, e.g. --server-alive 10x30",
    );
  }
  context.terminal.out(
    formatSshdConfig({
      serverAlive: serverAlive ?? GUIDE_SERVER_ALIVE,
      matchUser: lastString(argv['match-user'], '--match-user'),
    }),
  );
  return 0;
}

// yargs turns a repeated string option into an array; a single value is what these options mean.
function lastString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    throw new UsageError(`tborg: sshd-config: ${name} given more than once`);
  }
  return String(value);
}
