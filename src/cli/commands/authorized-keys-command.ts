import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  BORG2_PERMISSIONS,
  defaultAuthorizedKeysOptions,
  remotePathIsBorg2,
  formatAuthorizedKeysLine,
  parsePublicKey,
  type AuthorizedKeysOptions,
} from '../../guide/authorized-keys.js';
import { defaultGuardPath, installServeGuard } from '../../guide/serve-guard.js';
import { buildServeGuardScript } from '../../guide/serve-guard-script.js';
import { UsageError } from '../../core/errors.js';
import type { CommandContext } from '../command-context.js';

// authorized-keys' words, as the one parser (own-commands.ts) reads them.
export interface AuthorizedKeysArgs {
  keyFiles: string[];
  restrictToPaths: string[];
  restrictToRepositories: string[];
  appendOnly: boolean;
  storageQuota: string | undefined;
  remotePath: string | undefined;
  setEnv: string[];
  // undefined: neither --borg2 nor --no-borg2 (then on with --remote-path borg2).
  borg2: boolean | undefined;
  permissions: string | undefined;
  legacyOpenssh: boolean;
  // --guard: write the server half's guard here (at guardPath or ~/.local/bin) and run the key through it.
  guard: boolean;
  // --guard-path: where the guard is (without --guard: already there, e.g. copied over ssh).
  guardPath: string | undefined;
  // --print-guard: print the guard's text (to copy it to a server without Node), nothing else.
  printGuard: boolean;
}

// `tborg authorized-keys`: borg's serve guide's restricted key line, quoted so that any path survives.
export async function runAuthorizedKeysCommand(context: CommandContext, args: AuthorizedKeysArgs): Promise<number> {
  if (args.printGuard) {
    if (args.keyFiles.length > 0 || args.guard)
      throw new UsageError(`--print-guard prints the guard only; give no key file and no --guard`);
    context.terminal.out(buildServeGuardScript());
    return 0;
  }
  const positional = args.keyFiles;
  if (positional.length === 0) throw new UsageError(`give the public key file (or - for stdin); see tborg authorized-keys --help`);
  if (positional.length > 1) throw new UsageError(`give one key file, got ${positional.length}: ${positional.join(' ')}`);
  const keyFile = positional[0]!;

  const options: AuthorizedKeysOptions = {
    ...defaultAuthorizedKeysOptions(),
    restrictToPaths: args.restrictToPaths,
    restrictToRepositories: args.restrictToRepositories,
    appendOnly: args.appendOnly,
    storageQuota: args.storageQuota,
    setEnv: args.setEnv,
    legacyOpenssh: args.legacyOpenssh,
  };
  if (args.remotePath !== undefined) options.remotePath = args.remotePath;
  options.borg2 = args.borg2 ?? remotePathIsBorg2(options.remotePath);
  if (args.permissions !== undefined) {
    const permissions = BORG2_PERMISSIONS.find((p) => p === args.permissions);
    if (permissions === undefined) {
      throw new UsageError(`--permissions ${JSON.stringify(args.permissions)}: expected one of ${BORG2_PERMISSIONS.join(', ')}`);
    }
    options.permissions = permissions;
  }
  if (args.guard || args.guardPath !== undefined) {
    const home = context.env.HOME;
    if (args.guardPath === undefined && !home?.startsWith('/')) throw new UsageError(`--guard: HOME is not set; give --guard-path`);
    options.guardPath = args.guardPath ?? defaultGuardPath(home!);
  }

  const key = parsePublicKey(await readKeyText(keyFile, context.stdin), keyFile === '-' ? 'stdin' : keyFile, privateKeyHint(keyFile));
  // Everything is checked before anything is printed: bad input leaves stdout empty.
  const line = formatAuthorizedKeysLine(options, key);
  if (args.guard) {
    const done = installServeGuard(options.guardPath!);
    context.terminal.warn(`${done === 'written' ? 'wrote' : 'kept (already up to date)'} the guard at ${options.guardPath}`);
  }
  if (options.restrictToPaths.length === 0 && options.restrictToRepositories.length === 0) {
    context.terminal.warn('no --restrict-to-path or --restrict-to-repository: this key can use every repository the account can reach');
  }
  context.terminal.out(`${line}\n`);
  return 0;
}

async function readKeyText(keyFile: string, stdin: Readable): Promise<string> {
  if (keyFile === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
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
