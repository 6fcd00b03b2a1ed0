import { TborgError } from '../core/errors.js';
import type { CommandContext } from './command-context.js';
import { rememberInheritedFds, rememberStartSignals } from '../run/process-start.js';
import { defaultOptions, splitArguments, describeOptions } from './tborg-options.js';
import { isTerminal, readProcessIo, type ProcessIo } from './process-io.js';
import { createProcessTerminal, type Terminal } from './terminal.js';
import { TBORG_VERSION } from './version.js';
import { COMPLETION_REQUEST, fastPlanArgs, OWN_COMMANDS, type OwnCommand } from './own-command-words.js';

export function usage(): string {
  return `tborg ${TBORG_VERSION} — a drop-in wrapper for borg that rides out stale repository locks over ssh

Usage:
  tborg [--tborg-OPTION ...] BORG_ARGUMENTS...     run borg, waiting out held locks
  tborg plan [--json] BORG_ARGUMENTS...            show what that run would do; runs only ssh -G
  tborg doctor [--json] REPOSITORY                 check keepalives, reachability, the lock, the local borg
  tborg ssh-config HOST [--config FILE] [--write]  show or write ServerAlive* for HOST
  tborg sshd-config [--tborg-server-alive IxC]     print ClientAlive* lines for the server's sshd_config
  tborg authorized-keys [OPTIONS] KEYFILE|-        print a restricted authorized_keys line for borg serve
  tborg status [--json] [--max-age DURATION]       each repository's last run and last success; exit 1 if failed or stale
  tborg shell-completion                           print a bash or zsh completion script for tborg's own commands

Everything else, including --help and --version, goes to borg unchanged.

tborg options (anywhere before a \`--\`; the environment twin applies when the option is not given):
${describeOptions()}

Exit codes: borg's own; 2 when tborg refuses to run (bad option, no borg, broken ssh config);
128+N when tborg is stopped by signal N while it waits between attempts.
`;
}

// `given`: the process facts of an in-process caller (a test with its own streams and directory);
// bin/tborg.js gives none, and main takes the real process's (process-io.ts).
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, given: Partial<ProcessIo> = {}): Promise<number> {
  // First, before anything opens a descriptor or the terminal: what borg must get as tborg got it.
  // (process.stdin, read just below, opens one of its own: it must not count as inherited.)
  rememberInheritedFds();
  rememberStartSignals(env);
  const io = readProcessIo(given);
  let terminal: Terminal | undefined;
  let command: OwnCommand | undefined;
  try {
    // bash's or zsh's completion script asking (tborg shell-completion): the words typed so far are
    // not tborg's options or borg's arguments yet, so nothing reads them but the one parser.
    if (argv[0] === COMPLETION_REQUEST) {
      terminal = createProcessTerminal(true, env, io);
      const { runOwnCommandLine } = await import('./own-commands.js');
      return await runOwnCommandLine(argv, { args: [], options: defaultOptions(), env, terminal, ...facts(io), selfPaths: [] });
    }
    const { options, borgArgs } = splitArguments(argv, env);
    terminal = createProcessTerminal(options.quiet, env, io);
    if (options.help) {
      terminal.out(usage());
      return 0;
    }
    if (options.version) {
      terminal.out(`tborg ${TBORG_VERSION}\n`);
      return 0;
    }
    const context: CommandContext = {
      args: borgArgs,
      options,
      env,
      terminal,
      ...facts(io),
    };
    command = OWN_COMMANDS.find((name) => name === borgArgs[0]);
    if (command !== undefined) {
      context.args = borgArgs.slice(1);
      return await runOwnCommand(command, context);
    }
    const { runBorg } = await import('../run/run-borg.js');
    return await runBorg(context);
  } catch (error) {
    terminal ??= createProcessTerminal(false, env, io);
    if (error instanceof TborgError) {
      terminal.error(error.message, command);
      return error.exitCode;
    }
    terminal.error(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, command);
    return 2;
  }
}

// An own command's words go through the one parser (own-commands.ts, yargs), except plan's most
// common shape, which own-command-words.ts reads as that parser would, without loading yargs (~70 ms).
async function runOwnCommand(command: OwnCommand, context: CommandContext): Promise<number> {
  const planArgs = command === 'plan' ? fastPlanArgs(context.args) : undefined;
  if (planArgs) return (await import('./commands/plan-command.js')).runPlanCommand(context, planArgs);
  const { runOwnCommandLine } = await import('./own-commands.js');
  return runOwnCommandLine([command, ...context.args], context);
}

// The process facts a command reads, out of main's (the process's or an in-process caller's).
function facts(io: ProcessIo): Pick<CommandContext, 'selfPaths' | 'cwd' | 'stdin' | 'stdinIsTTY' | 'stdoutIsTTY'> {
  return { selfPaths: io.selfPaths, cwd: io.cwd, stdin: io.stdin, stdinIsTTY: isTerminal(io.stdin), stdoutIsTTY: isTerminal(io.stdout) };
}
