import { UsageError } from '../errors.js';
import { GUIDE_ALIVE_PAIR } from '../../ssh/alive-pair.js';
import type { CommandContext } from '../command-context.js';
import { flagOf, parseCommandArgs, rejectPositionals, singleOf } from './command-args.js';
import { formatSshdConfig } from '../../guide/sshd-config.js';
import { parseAlivePair } from '../tborg-options.js';

const USAGE = `tborg sshd-config [--tborg-server-alive IxC | --server-alive IxC] [--match-user USER] [--borg2]

Prints ClientAliveInterval/ClientAliveCountMax lines for the server's sshd_config, ready to paste,
with how long a stale \`borg serve\` then keeps the repository lock. Default 10x30, borg's serve guide.
With --borg2: also what these lines do and do not do for borg2 2.0.0b22 and later (store locks).`;

// `tborg sshd-config`: the server half of the keepalive advice, as text to paste.
export async function runSshdConfigCommand(context: CommandContext): Promise<number> {
  const { argv, help } = await parseCommandArgs('sshd-config', context.args, (yargs) =>
    yargs
    .scriptName('tborg sshd-config')
    .usage(USAGE)
    .option('server-alive', {
      type: 'string',
      requiresArg: true,
      describe: 'ClientAliveInterval x ClientAliveCountMax, e.g. 10x30 (same as --tborg-server-alive)',
    })
    .option('match-user', { type: 'string', requiresArg: true, describe: 'wrap the lines in a "Match User USER" block' })
    .option('borg2', { type: 'boolean', describe: "explain what ClientAlive does and does not do for borg2's store locks" })
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false }),
  );
  if (help !== null) {
    context.terminal.out(help);
    return 0;
  }
  rejectPositionals(argv, 'sshd-config');
  const given = singleOf(argv['server-alive'], '--server-alive');
  let serverAlive = context.options.serverAlive;
  if (given !== undefined) {
    serverAlive = given.trim().toLowerCase() === 'none' ? null : parseAlivePair(given, '--server-alive');
  }
  if (serverAlive === null) {
    throw new UsageError(
      "the server alive setting is 'none', which is what these lines fix; give IxC, e.g. --server-alive 10x30",
    );
  }
  context.terminal.out(
    formatSshdConfig({
      serverAlive: serverAlive ?? GUIDE_ALIVE_PAIR,
      matchUser: singleOf(argv['match-user'], '--match-user'),
      borg2: flagOf(argv['borg2']),
    }),
  );
  return 0;
}
