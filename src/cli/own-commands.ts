import yargs, { type Argv } from 'yargs';
import type { CommandContext } from './command-context.js';
import { TborgError, UsageError } from '../core/errors.js';
import { COMPLETION_REQUEST, splitPlanWords, type PlanArgs } from './own-command-words.js';
import type { DoctorArgs } from './commands/doctor-command.js';
import type { SshConfigArgs } from './commands/ssh-config-command.js';
import type { SshdConfigArgs } from './commands/sshd-config-command.js';
import type { AuthorizedKeysArgs } from './commands/authorized-keys-command.js';
import type { StatusArgs } from './commands/status-command.js';
import { completeOwnWords } from './own-command-completion.js';
import { afterDashDash, all, once, positionalWords } from './own-command-values.js';
import { BORG2_PERMISSIONS } from '../guide/authorized-keys.js';
import {
  AUTHORIZED_KEYS_USAGE,
  DOCTOR_USAGE,
  PLAN_USAGE,
  SHELL_COMPLETION_USAGE,
  SSH_CONFIG_USAGE,
  SSHD_CONFIG_USAGE,
  STATUS_USAGE,
} from './own-command-usage.js';

// The one parser of tborg's own commands: a yargs instance with a .command() per command, strict,
// typed. main loads it only for an own command (never for `tborg <borg arguments>`), and not for the
// common `tborg plan [--json] WORD...` either (own-command-words.ts reads that shape as this parser does).
// Each command's work lives in commands/NAME-command.ts; here are its words, options and help.

// One parser configuration for every command: option names as typed (no camelCase or dot keys),
// numbers stay strings (a port, a quota, a path named 0755), `--no-X` turns a flag off (authorized-keys'
// --no-borg2), and what follows `--` is kept apart (doctor hands it to borg, plan's borg words arrive there).
const PARSER_CONFIGURATION = {
  'camel-case-expansion': false,
  'dot-notation': false,
  'parse-numbers': false,
  'parse-positional-numbers': false,
  'boolean-negation': true,
  'populate--': true,
} as const;

// The command yargs picked, with its words read and typed.
export type OwnCommandCall =
  | { command: 'plan'; args: PlanArgs }
  | { command: 'doctor'; args: DoctorArgs }
  | { command: 'ssh-config'; args: SshConfigArgs }
  | { command: 'sshd-config'; args: SshdConfigArgs }
  | { command: 'authorized-keys'; args: AuthorizedKeysArgs }
  | { command: 'status'; args: StatusArgs };

// Builds the parser; the handler of the command yargs picks hands its call to `choose`.
// `words` are also what yargs re-reads when it completes a command's options (its completion runs the
// command's builder and parses its process arguments again).
function buildOwnCommandParser(words: readonly string[], choose: (call: OwnCommandCall) => void): Argv {
  const parser: Argv = yargs([...words]);
  return (
    parser
      .scriptName('tborg')
      .parserConfiguration(PARSER_CONFIGURATION)
      .strict()
      .version(false)
      .help()
      .locale('en')
      .wrap(100)
      .exitProcess(false)
      .command(
        'plan',
        'show what a run of these borg arguments would do; runs only ssh -G',
        (y) => y.usage(PLAN_USAGE).option('json', { type: 'boolean', default: false, describe: 'print the plan as one JSON object' }),
        (argv) => choose({ command: 'plan', args: { json: argv.json, borgArgs: afterDashDash(argv) } }),
      )
      .command(
        'doctor',
        'check keepalives, reachability, the lock, the local borg',
        (y) =>
          y
            .usage(DOCTOR_USAGE)
            // Everything doctor does not know is borg's: options stay words, in order, with their values.
            .parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true })
            .strict(false)
            .option('json', {
              type: 'boolean',
              default: false,
              describe: 'print one JSON object instead (fields in src/cli/commands/doctor-command.ts)',
            }),
        (argv) =>
          choose({ command: 'doctor', args: { json: argv.json, words: positionalWords(argv), afterDashDash: afterDashDash(argv) } }),
      )
      .command(
        'ssh-config',
        'show or write ServerAlive* for HOST',
        (y) =>
          y
            .usage(SSH_CONFIG_USAGE)
            // HOST stays in argv._ (words, below): see positionalWords.
            .strict(false)
            .strictOptions()
            .option('config', {
              type: 'string',
              requiresArg: true,
              coerce: once('--config'),
              describe: 'the ssh config file (default: ~/.ssh/config of your user)',
            })
            .option('write', { type: 'boolean', default: false, describe: 'write the keepalive into the file' })
            .option('keepalive', {
              type: 'string',
              requiresArg: true,
              coerce: once('--keepalive'),
              describe: 'ServerAliveInterval x ServerAliveCountMax (default: --tborg-keepalive / TBORG_KEEPALIVE, else 10x30)',
            }),
        (argv) =>
          choose({
            command: 'ssh-config',
            args: { hosts: positionalWords(argv), config: argv.config, write: argv.write, keepalive: argv.keepalive },
          }),
      )
      .command(
        'sshd-config',
        "print ClientAlive* lines for the server's sshd_config",
        (y) =>
          y
            .usage(SSHD_CONFIG_USAGE)
            .option('server-alive', {
              type: 'string',
              requiresArg: true,
              coerce: once('--server-alive'),
              describe: 'ClientAliveInterval x ClientAliveCountMax, e.g. 10x30 (same as --tborg-server-alive)',
            })
            .option('match-user', {
              type: 'string',
              requiresArg: true,
              coerce: once('--match-user'),
              describe: 'wrap the lines in a "Match User USER" block',
            })
            .option('borg2', {
              type: 'boolean',
              default: false,
              describe: "explain what ClientAlive does and does not do for borg2's store locks",
            }),
        (argv) =>
          choose({ command: 'sshd-config', args: { serverAlive: argv['server-alive'], matchUser: argv['match-user'], borg2: argv.borg2 } }),
      )
      .command(
        'authorized-keys',
        'print a restricted authorized_keys line for borg serve',
        (y) =>
          y
            .usage(AUTHORIZED_KEYS_USAGE)
            // KEYFILE stays in argv._ (see positionalWords).
            .strict(false)
            .strictOptions()
            .option('restrict-to-path', {
              type: 'string',
              requiresArg: true,
              coerce: all,
              describe: 'allow repositories in or below PATH (absolute; repeatable)',
            })
            .option('restrict-to-repository', {
              type: 'string',
              requiresArg: true,
              coerce: all,
              describe: 'allow only the repository at PATH (absolute; repeatable)',
            })
            .option('append-only', {
              type: 'boolean',
              default: false,
              describe: 'borg serve --append-only: the key cannot really delete data',
            })
            .option('storage-quota', {
              type: 'string',
              requiresArg: true,
              coerce: once('--storage-quota'),
              describe: 'borg serve --storage-quota QUOTA, e.g. 500G (>= 10M)',
            })
            .option('remote-path', {
              type: 'string',
              requiresArg: true,
              coerce: once('--remote-path'),
              describe: "the server's borg (default: borg, from the account's PATH)",
            })
            .option('set-env', {
              type: 'string',
              requiresArg: true,
              coerce: all,
              describe: "NAME=VALUE in borg serve's environment (repeatable; the client's BORG_* do not reach it)",
            })
            .option('borg2', {
              type: 'boolean',
              describe:
                'the server runs borg2 2.0.0b22 or later: borg serve --rest (default: on with --remote-path borg2; --no-borg2 turns it off)',
            })
            .option('permissions', {
              type: 'string',
              requiresArg: true,
              coerce: once('--permissions'),
              describe: `borg2 serve --rest --permissions: ${BORG2_PERMISSIONS.join(', ')} (write-only: the key cannot read or delete)`,
            })
            .option('legacy-openssh', {
              type: 'boolean',
              default: false,
              describe: 'for OpenSSH < 7.2: no-port-forwarding,no-X11-forwarding,no-pty,no-agent-forwarding,no-user-rc instead of restrict',
            })
            .option('guard', {
              type: 'boolean',
              default: false,
              describe: "write the server half's guard (default ~/.local/bin/tborg-serve-guard) and run the key through it",
            })
            .option('guard-path', {
              type: 'string',
              requiresArg: true,
              coerce: once('--guard-path'),
              describe: 'where the guard is (absolute); without --guard it is not written, only named in the line',
            })
            .option('print-guard', {
              type: 'boolean',
              default: false,
              describe: 'print the guard (a Python 3 script) to copy it to a server',
            }),
        (argv) =>
          choose({
            command: 'authorized-keys',
            args: {
              keyFiles: positionalWords(argv),
              restrictToPaths: argv['restrict-to-path'] ?? [],
              restrictToRepositories: argv['restrict-to-repository'] ?? [],
              appendOnly: argv['append-only'],
              storageQuota: argv['storage-quota'],
              remotePath: argv['remote-path'],
              setEnv: argv['set-env'] ?? [],
              borg2: argv.borg2,
              permissions: argv.permissions,
              legacyOpenssh: argv['legacy-openssh'],
              guard: argv.guard,
              guardPath: argv['guard-path'],
              printGuard: argv['print-guard'],
            },
          }),
      )
      .command(
        'status',
        "did each repository's last backup land, and when did one last land; exit 1 if failed or stale",
        (y) =>
          y
            .usage(STATUS_USAGE)
            .option('json', { type: 'boolean', default: false, describe: 'print the records and their verdicts as JSON' })
            .option('max-age', {
              type: 'string',
              requiresArg: true,
              coerce: once('--max-age'),
              describe: 'a last backup success older than this (90s, 26h, 2d) is a failure',
            })
            .option('forget', {
              type: 'string',
              requiresArg: true,
              coerce: once('--forget'),
              describe: "delete a repository's status records (named as tborg status prints it)",
            }),
        (argv) => choose({ command: 'status', args: { json: argv.json, maxAge: argv['max-age'], forget: argv.forget } }),
      )
      .command(
        'shell-completion',
        'print a bash or zsh completion script for these commands (for the shell in $SHELL)',
        (y) => y.usage(SHELL_COMPLETION_USAGE),
        // Written while yargs collects the output (parseOwnCommandLine's callback), like --help.
        // (yargs takes $0 and the command's name here; @types/yargs 17 declares no parameters).
        () => void Reflect.apply(parser.showCompletionScript, parser, ['tborg', 'shell-completion']),
      )
      // Only the function that answers the script: yargs' own completion command, which would be named
      // here, fails under .strict() (yargs 18 reports it as an unknown argument), so the command above
      // prints the script and this name is never typed (main routes only OWN_COMMANDS to this parser).
      .completion('tborg-internal-completion', false, completeOwnWords)
  );
}

// What the one parser made of `words` (an own command and its words, or a completion request): the
// call, or the text yargs wrote instead (--help, the completion script, completions). Throws
// UsageError for a bad word: `tborg: CMD: message (see tborg CMD --help)`, exit 2.
export async function parseOwnCommandLine(words: readonly string[]): Promise<{ call: OwnCommandCall | undefined; output: string }> {
  const [command, ...rest] = words;
  // plan's words: its own options, then borg's after a `--` (own-command-words.ts says why).
  const parsedWords = command === 'plan' ? (({ own, borg }) => ['plan', ...own, '--', ...borg])(splitPlanWords(rest)) : [...words];
  let call: OwnCommandCall | undefined;
  const parser = buildOwnCommandParser(parsedWords, (chosen) => (call = chosen));
  // yargs calls back once per parse, and completing a command's options parses again inside: the
  // last call, once parse() has returned, has the whole output.
  let error: Error | undefined;
  let output = '';
  try {
    await parser.parse(parsedWords, {}, (err: Error | undefined, _argv: unknown, text: string) => {
      error = err ?? undefined;
      output = text;
    });
  } catch (thrown) {
    error ??= thrown instanceof Error ? thrown : new Error(String(thrown));
  }
  if (error) {
    if (error instanceof TborgError) throw error;
    throw new UsageError(`${error.message} (see tborg ${command} --help)`);
  }
  // A completion request parses the words typed so far, which may name a whole command: never run it.
  return { call: command === COMPLETION_REQUEST ? undefined : call, output };
}

// Reads `words` with the one parser and runs the command (each command's module loads only when run).
export async function runOwnCommandLine(words: readonly string[], context: CommandContext): Promise<number> {
  const { call, output } = await parseOwnCommandLine(words);
  if (call === undefined) {
    if (output !== '') context.terminal.out(`${output}\n`);
    return 0;
  }
  switch (call.command) {
    case 'plan':
      return (await import('./commands/plan-command.js')).runPlanCommand(context, call.args);
    case 'doctor':
      return (await import('./commands/doctor-command.js')).runDoctorCommand(context, call.args);
    case 'ssh-config':
      return (await import('./commands/ssh-config-command.js')).runSshConfigCommand(context, call.args);
    case 'sshd-config':
      return (await import('./commands/sshd-config-command.js')).runSshdConfigCommand(context, call.args);
    case 'authorized-keys':
      return (await import('./commands/authorized-keys-command.js')).runAuthorizedKeysCommand(context, call.args);
    case 'status':
      return (await import('./commands/status-command.js')).runStatusCommand(context, call.args);
  }
}
