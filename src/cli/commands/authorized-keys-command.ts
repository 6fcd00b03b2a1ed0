import { existsSync, readFileSync } from 'node:fs';
import {
  BORG2_PERMISSIONS,
  defaultAuthorizedKeysOptions,
  remotePathIsBorg2,
  type Borg2Permissions,
  formatAuthorizedKeysLine,
  parsePublicKey,
  type AuthorizedKeysOptions,
} from '../../guide/authorized-keys.js';
import { UsageError } from '../errors.js';
import type { CommandContext } from '../command-context.js';
import { flagOf, parseCommandArgs, singleOf, stringsOf } from './command-args.js';

const USAGE = `tborg authorized-keys [OPTIONS] KEYFILE|-

Prints one line for the server's ~/.ssh/authorized_keys that lets the key in KEYFILE (a .pub file,
or - for stdin) run \`borg serve\` and nothing else, as borg's serve guide recommends:
  command="borg serve --restrict-to-path /srv/borg",restrict ssh-ed25519 AAAA... you@client
With --borg2 (on by itself with --remote-path borg2) the line is for borg2 2.0.0b22 or later:
  command="borg2 serve --rest --restrict-to-repository /srv/borg/repo --permissions write-only",restrict ...
The backup account's login shell must be a POSIX shell (sh, bash, dash, zsh, ksh).`;


// `tborg authorized-keys`: borg's serve guide's restricted key line, quoted so that any path survives.
export async function runAuthorizedKeysCommand(context: CommandContext): Promise<number> {
  const { argv, help } = await parseCommandArgs('authorized-keys', context.args, (yargs) =>
    yargs
    .scriptName('tborg authorized-keys')
    .usage(USAGE)
    .option('restrict-to-path', {
      type: 'string',
      requiresArg: true,
      describe: 'allow repositories in or below PATH (absolute; repeatable)',
    })
    .option('restrict-to-repository', {
      type: 'string',
      requiresArg: true,
      describe: 'allow only the repository at PATH (absolute; repeatable)',
    })
    .option('append-only', { type: 'boolean', describe: 'borg serve --append-only: the key cannot really delete data' })
    .option('storage-quota', { type: 'string', requiresArg: true, describe: 'borg serve --storage-quota QUOTA, e.g. 500G (>= 10M)' })
    .option('remote-path', { type: 'string', requiresArg: true, describe: "the server's borg (default: borg, from the account's PATH)" })
    .option('set-env', {
      type: 'string',
      requiresArg: true,
      describe: "NAME=VALUE in borg serve's environment (repeatable; the client's BORG_* do not reach it)",
    })
    .option('borg2', {
      type: 'boolean',
      describe: 'the server runs borg2 2.0.0b22 or later: borg serve --rest (default: on with --remote-path borg2; --no-borg2 turns it off)',
    })
    .option('no-borg2', { type: 'boolean', hidden: true })
    .option('permissions', {
      type: 'string',
      requiresArg: true,
      describe: `borg2 serve --rest --permissions: ${BORG2_PERMISSIONS.join(', ')} (write-only: the key cannot read or delete)`,
    })
    .option('legacy-openssh', {
      type: 'boolean',
      describe: 'for OpenSSH < 7.2: no-port-forwarding,no-X11-forwarding,no-pty,no-agent-forwarding,no-user-rc instead of restrict',
    })
    .parserConfiguration({
      'camel-case-expansion': false,
      'boolean-negation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'dot-notation': false,
    }),
  );
  if (help !== null) {
    context.terminal.out(help);
    return 0;
  }
  const positional = ((argv._ as unknown[]) ?? []).map(String);
  if (positional.length === 0) throw new UsageError(`give the public key file (or - for stdin); see tborg authorized-keys --help`);
  if (positional.length > 1) throw new UsageError(`give one key file, got ${positional.length}: ${positional.join(' ')}`);
  const keyFile = positional[0]!;

  const options: AuthorizedKeysOptions = {
    ...defaultAuthorizedKeysOptions(),
    restrictToPaths: stringsOf(argv['restrict-to-path']),
    restrictToRepositories: stringsOf(argv['restrict-to-repository']),
    appendOnly: flagOf(argv['append-only']),
    storageQuota: singleOf(argv['storage-quota'], '--storage-quota'),
    setEnv: stringsOf(argv['set-env']),
    legacyOpenssh: flagOf(argv['legacy-openssh']),
  };
  const remotePath = singleOf(argv['remote-path'], '--remote-path');
  if (remotePath !== undefined) options.remotePath = remotePath;
  if (flagOf(argv['borg2']) && flagOf(argv['no-borg2'])) throw new UsageError(`give --borg2 or --no-borg2, not both`);
  options.borg2 = flagOf(argv['borg2']) || (!flagOf(argv['no-borg2']) && remotePathIsBorg2(options.remotePath));
  const permissions = singleOf(argv['permissions'], '--permissions');
  if (permissions !== undefined) {
    if (!(BORG2_PERMISSIONS as readonly string[]).includes(permissions)) {
      throw new UsageError(`--permissions ${JSON.stringify(permissions)}: expected one of ${BORG2_PERMISSIONS.join(', ')}`);
    }
    options.permissions = permissions as Borg2Permissions;
  }

  const key = parsePublicKey(await readKeyText(keyFile), keyFile === '-' ? 'stdin' : keyFile, privateKeyHint(keyFile));
  // Everything is checked before anything is printed: bad input leaves stdout empty.
  const line = formatAuthorizedKeysLine(options, key);
  if (options.restrictToPaths.length === 0 && options.restrictToRepositories.length === 0) {
    context.terminal.warn(
      'no --restrict-to-path or --restrict-to-repository: this key can use every repository the account can reach',
    );
  }
  context.terminal.out(`${line}\n`);
  return 0;
}

async function readKeyText(keyFile: string): Promise<string> {
  if (keyFile === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return readFileSync(keyFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot read ${keyFile}: ${code}`);
  }
}

// A private key given by mistake: point at its .pub twin when there is one.
function privateKeyHint(keyFile: string): string | undefined {
  return keyFile !== '-' && existsSync(`${keyFile}.pub`) ? `${keyFile}.pub` : undefined;
}
