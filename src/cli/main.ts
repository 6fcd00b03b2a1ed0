import { TborgError } from './errors.js';
import type { CommandContext } from './command-context.js';
import { rememberInheritedFds, rememberStartSignals } from '../run/process-start.js';
import { splitArguments, describeOptions } from './tborg-options.js';
import { createProcessTerminal, type Terminal } from './terminal.js';
import { TBORG_VERSION } from './version.js';

// tborg's own commands: words borg does not use as commands, so borg's command space stays borg's.
export const OWN_COMMANDS = ['plan', 'doctor', 'ssh-config', 'sshd-config', 'authorized-keys', 'status'] as const;
export type OwnCommand = (typeof OWN_COMMANDS)[number];

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

Everything else, including --help and --version, goes to borg unchanged.

tborg options (anywhere before a \`--\`; the environment twin applies when the option is not given):
${describeOptions()}

Exit codes: borg's own; 2 when tborg refuses to run (bad option, no borg, broken ssh config);
128+N when tborg is stopped by signal N while it waits between attempts.
`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // First, before anything opens a descriptor or the terminal: what borg must get as tborg got it.
  rememberInheritedFds();
  rememberStartSignals(env);
  let terminal: Terminal | undefined;
  let command: OwnCommand | undefined;
  try {
    const { options, borgArgs } = splitArguments(argv, env);
    terminal = createProcessTerminal(options.quiet);
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
      selfPaths: process.argv[1] ? [process.argv[1]] : [],
    };
    const first = borgArgs[0];
    if (first !== undefined && (OWN_COMMANDS as readonly string[]).includes(first)) {
      context.args = borgArgs.slice(1);
      command = first as OwnCommand;
      return await runOwnCommand(command, context);
    }
    const { runBorg } = await import('../run/run-borg.js');
    return await runBorg(context);
  } catch (error) {
    terminal ??= createProcessTerminal(false);
    if (error instanceof TborgError) {
      terminal.error(error.message, command);
      return error.exitCode;
    }
    terminal.error(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, command);
    return 2;
  }
}

async function runOwnCommand(command: OwnCommand, context: CommandContext): Promise<number> {
  switch (command) {
    case 'plan':
      return (await import('./commands/plan-command.js')).runPlanCommand(context);
    case 'doctor':
      return (await import('./commands/doctor-command.js')).runDoctorCommand(context);
    case 'ssh-config':
      return (await import('./commands/ssh-config-command.js')).runSshConfigCommand(context);
    case 'sshd-config':
      return (await import('./commands/sshd-config-command.js')).runSshdConfigCommand(context);
    case 'authorized-keys':
      return (await import('./commands/authorized-keys-command.js')).runAuthorizedKeysCommand(context);
    case 'status':
      return (await import('./commands/status-command.js')).runStatusCommand(context);
  }
}
