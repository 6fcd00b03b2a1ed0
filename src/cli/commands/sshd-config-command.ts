import { UsageError } from '../../core/errors.js';
import { GUIDE_ALIVE_PAIR } from '../../ssh/alive-pair.js';
import type { CommandContext } from '../command-context.js';
import { formatSshdConfig } from '../../guide/sshd-config.js';
import { parseAlivePair } from '../tborg-options.js';

// sshd-config's words, as the one parser (own-commands.ts) reads them.
export interface SshdConfigArgs {
  serverAlive: string | undefined;
  matchUser: string | undefined;
  borg2: boolean;
}

// `tborg sshd-config`: the server half of the keepalive advice, as text to paste.
export async function runSshdConfigCommand(context: CommandContext, args: SshdConfigArgs): Promise<number> {
  let serverAlive = context.options.serverAlive;
  if (args.serverAlive !== undefined) {
    serverAlive = args.serverAlive.trim().toLowerCase() === 'none' ? null : parseAlivePair(args.serverAlive, '--server-alive');
  }
  if (serverAlive === null) {
    throw new UsageError("the server alive setting is 'none', which is what these lines fix; give IxC, e.g. --server-alive 10x30");
  }
  context.terminal.out(formatSshdConfig({ serverAlive: serverAlive ?? GUIDE_ALIVE_PAIR, matchUser: args.matchUser, borg2: args.borg2 }));
  return 0;
}
