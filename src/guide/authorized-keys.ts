import { UsageError } from '../core/errors.js';

// One authorized_keys line that lets a key run `borg serve` and nothing else, as borg's serve guide
// shows: command="borg serve --restrict-to-path /path",restrict ssh-ed25519 AAAA... comment
// Pure: options and the public key's text in, the line out.
//
// The forced command passes two parsers on its way to borg:
// 1. sshd reads command="..." (auth-options.c sshauthopt_parse -> misc.c opt_dequote): the value
//    runs to the next `"`; the only escape is `\"` for a quote, every other backslash is literal.
//    The line ends at the newline (one key per line).
// 2. sshd runs it as `$SHELL -c COMMAND` with the account's login shell (session.c do_child), so the
//    command is shell text. tborg writes it for a POSIX shell (sh, dash, bash, zsh, ksh): words in
//    single quotes, variables as prefix assignments. A backup account with csh or fish as its login
//    shell is not supported.

export interface AuthorizedKeysOptions {
  restrictToPaths: string[];
  restrictToRepositories: string[];
  appendOnly: boolean;
  storageQuota?: string | undefined;
  // The server's borg; looked up on the account's PATH unless it has a slash.
  remotePath: string;
  // NAME=VALUE pairs for borg serve's environment (the client's BORG_* never reach it).
  setEnv: string[];
  // OpenSSH < 7.2 has no `restrict`: list what it stands for.
  legacyOpenssh: boolean;
  // The server runs borg2 2.0.0b22 or later: its clients ask for `borg serve --rest --backend
  // FILE:path` (repository.py rest_serve_command), so the forced command must be --rest too (the mode
  // is not taken from the client: archiver/__init__.py get_args allowlist).
  borg2: boolean;
  // borg2's `borg serve --rest --permissions` (archiver/serve_cmd.py choices); undefined: not given,
  // borg's default (BORG_REPO_PERMISSIONS, else all).
  permissions?: Borg2Permissions | undefined;
  // The server half's guard (serve-guard-script.ts), absolute: the forced command runs it with the
  // serve argv as its arguments, and it execs that argv (README "The server half").
  guardPath?: string | undefined;
}

// borg2 b25 archiver/serve_cmd.py: --permissions choices.
export const BORG2_PERMISSIONS = ['all', 'no-delete', 'write-only', 'read-only'] as const;
type Borg2Permissions = (typeof BORG2_PERMISSIONS)[number];

export function defaultAuthorizedKeysOptions(): AuthorizedKeysOptions {
  return {
    restrictToPaths: [],
    restrictToRepositories: [],
    appendOnly: false,
    storageQuota: undefined,
    remotePath: 'borg',
    setEnv: [],
    legacyOpenssh: false,
    borg2: false,
  };
}

// `--remote-path borg2` (or a path ending in it) names Debian's borg2 package: the server is borg 2.
export function remotePathIsBorg2(remotePath: string): boolean {
  return /(^|\/)borg2$/.test(remotePath);
}

export interface PublicKey {
  type: string;
  base64: string;
  // Everything after the key on its line, as written (may be empty).
  comment: string;
}

// `restrict` (OpenSSH >= 7.2, sshd(8) AUTHORIZED_KEYS FILE FORMAT) turns off port, agent and X11
// forwarding, the pty and ~/.ssh/rc, and anything a later OpenSSH adds. The guide's list for older
// servers spells out the same five.
const RESTRICT_OPTION = 'restrict';
const LEGACY_RESTRICT_OPTIONS = 'no-port-forwarding,no-X11-forwarding,no-pty,no-agent-forwarding,no-user-rc';

// Key types OpenSSH 9.2 reads in authorized_keys (sshkey.c keytypes), without the certificate ones.
const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'ssh-xmss@openssh.com',
]);

function describe(value: string): string {
  return JSON.stringify(value);
}

// A C0 control character or DEL. A newline would end the authorized_keys line (and turn the rest of
// the path into a line of its own); the others are refused because nobody can see or check them.
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuseControl(value: string, what: string): void {
  if (CONTROL.test(value)) {
    const kind = value.includes('\n') || value.includes('\r') ? 'a line break' : 'a control character';
    throw new UsageError(`${what} ${describe(value)} contains ${kind}; authorized_keys takes one key per line`);
  }
}

// borg serve compares os.path.realpath(PATH) with the repository's real path (remote.py
// RepositoryServer.open); a relative PATH would be taken from the account's home directory at login,
// and `~` is not expanded in a quoted word, so only absolute paths are accepted.
function validateServerPath(path: string, option: string): string {
  refuseControl(path, option);
  if (!path.startsWith('/')) {
    throw new UsageError(`${option} ${describe(path)} is not an absolute path (it must start with /)`);
  }
  return path;
}

// borg's parse_storage_quota: parse_file_size (a number, optionally with one of K M G T P, powers of
// 1000), at least 10M (helpers/parseformat.py, archiver.py in borg 1.2.4).
function validateStorageQuota(quota: string): string {
  const match = /^(\d+(?:\.\d*)?|\.\d+)([KMGTP]?)$/.exec(quota);
  if (!match) {
    throw new UsageError(`--storage-quota ${describe(quota)}: expected a number with an optional K, M, G, T or P suffix (e.g. 500G, 1.5T)`);
  }
  const factor = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 }[match[2] as '' | 'K' | 'M' | 'G' | 'T' | 'P'];
  if (Math.floor(Number(match[1]) * factor) < 10e6) {
    throw new UsageError(`--storage-quota ${describe(quota)}: borg needs at least 10M`);
  }
  return quota;
}

function validateRemotePath(remotePath: string): string {
  refuseControl(remotePath, '--remote-path');
  if (remotePath === '') throw new UsageError(`--remote-path needs the server's borg (e.g. borg or /usr/local/bin/borg)`);
  if (remotePath.startsWith('~')) {
    throw new UsageError(`--remote-path ${describe(remotePath)}: ~ is not expanded in the quoted command; give the absolute path`);
  }
  return remotePath;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseSetEnv(assignment: string): { name: string; value: string } {
  const eq = assignment.indexOf('=');
  const name = eq === -1 ? assignment : assignment.slice(0, eq);
  if (eq === -1 || !ENV_NAME.test(name)) {
    throw new UsageError(
      `--set-env ${describe(assignment)}: expected NAME=VALUE with NAME made of letters, digits and _ (e.g. BORG_HOST_ID=backup1)`,
    );
  }
  const value = assignment.slice(eq + 1);
  refuseControl(value, `--set-env ${name}`);
  return { name, value };
}

// Words that mean the same to every POSIX shell when left bare. `=` is left out so that no word can
// pass for an assignment; `~`, `*`, `?`, `[`, `#`, `$`, quotes, backslashes and spaces all get quoted.
const BARE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/;

// POSIX shell quoting: bare when safe, else single quotes, a single quote written as '\''.
// Single quotes keep `$`, backquotes, backslashes and double quotes literal (POSIX 2.2.2), and the
// result never ends in a backslash, which opt_dequote would read as an escaped closing quote.
function quoteShellWord(word: string): string {
  if (BARE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

// The argv `borg serve` should get, starting with the server's borg.
export function buildServeArgv(options: AuthorizedKeysOptions): string[] {
  const argv = [validateRemotePath(options.remotePath), 'serve'];
  if (options.borg2) {
    // borg2 has neither --append-only nor --storage-quota (gone with borgstore); --permissions
    // no-delete / write-only is what replaces append-only.
    if (options.appendOnly) throw new UsageError(`borg 2 has no --append-only; use --permissions no-delete or write-only`);
    if (options.storageQuota !== undefined) throw new UsageError(`borg 2 has no --storage-quota`);
    argv.push('--rest');
  } else if (options.permissions !== undefined) {
    throw new UsageError(`--permissions is borg 2's (borg serve --rest); give --borg2 too, or use --append-only for borg 1.x`);
  }
  for (const path of options.restrictToPaths) argv.push('--restrict-to-path', validateServerPath(path, '--restrict-to-path'));
  for (const path of options.restrictToRepositories) {
    argv.push('--restrict-to-repository', validateServerPath(path, '--restrict-to-repository'));
  }
  if (options.appendOnly) argv.push('--append-only');
  if (options.storageQuota !== undefined) argv.push('--storage-quota', validateStorageQuota(options.storageQuota));
  if (options.permissions !== undefined) argv.push('--permissions', options.permissions);
  return argv;
}

// The forced command as shell text. Variables go in front as prefix assignments (`NAME=VALUE borg
// serve`, POSIX 2.9.1): they reach borg's environment only, need no `env` program, and unlike
// `env NAME=VALUE PROG` cannot misread a borg path that contains `=` as one more assignment.
export function buildServeCommand(options: AuthorizedKeysOptions): string {
  const assignments = options.setEnv.map((item) => {
    const { name, value } = parseSetEnv(item);
    return `${name}=${quoteShellWord(value)}`;
  });
  const guard = options.guardPath === undefined ? [] : [validateGuardPath(options.guardPath, options.borg2)];
  const command = [...assignments, ...[...guard, ...buildServeArgv(options)].map(quoteShellWord)].join(' ');
  if (command.endsWith('\\')) throw new Error(`internal: forced command ends in a backslash: ${command}`);
  return command;
}

// The guard ends a stale `borg serve` of the same run, whose lock it frees. borg2 2.0.0b22+'s
// `borg serve --rest` holds no lock: the client writes its own store lock (docs/facts.md "borg 2").
function validateGuardPath(path: string, borg2: boolean): string {
  if (borg2) {
    throw new UsageError(
      `the guard is for borg serve of borg 1.x (and borg2 before 2.0.0b22); borg2 2.0.0b22+ clients hold their own lock, no serve to end (a server with an older borg2: give --no-borg2)`,
    );
  }
  return validateServerPath(path, '--guard-path');
}

// authorized_keys' own quoting for command="...": only `"` needs (and has) an escape (opt_dequote).
function quoteAuthorizedKeysOption(value: string): string {
  if (CONTROL.test(value)) throw new Error('internal: control character in an authorized_keys option');
  return `"${value.replaceAll('"', '\\"')}"`;
}

// Reads one public key from the text of a .pub file (or stdin): blank lines and # comments are
// skipped like sshd does in authorized_keys; anything else must be exactly one plain key line.
// publicTwin: the .pub file next to a private key given by mistake, to name in the error.
export function parsePublicKey(text: string, source = 'the key file', publicTwin?: string): PublicKey {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /^PuTTY-User-Key-File-/m.test(text)) {
    const give = publicTwin === undefined ? 'the public key (the .pub file)' : publicTwin;
    throw new UsageError(`${source} is a private key; give ${give}`);
  }
  if (/^---- BEGIN SSH2 PUBLIC KEY ----/m.test(text)) {
    throw new UsageError(`${source} is an RFC 4716 public key; convert it with ssh-keygen -i -f FILE first`);
  }
  const lines = text
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new UsageError(`no public key in ${source}`);
  if (lines.length > 1) throw new UsageError(`${source} has ${lines.length} lines that could be keys; give exactly one key`);
  return parseKeyLine(lines[0]!, source);
}

function parseKeyLine(line: string, source: string): PublicKey {
  const words = line.split(/[ \t]+/);
  const at = words.findIndex((word, i) => isKeyType(word) && words[i + 1] !== undefined);
  if (at === -1) {
    const cert = words.find((word) => /-cert-v01@openssh\.com$/.test(word));
    if (cert) throw new UsageError(`${source} holds a certificate (${cert}); give the plain public key`);
    throw new UsageError(`${source} is not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA... comment")`);
  }
  if (at > 0) {
    throw new UsageError(`${source} already has options before the key (${line.slice(0, 40)}...); give the plain public key`);
  }
  const type = words[0]!;
  const base64 = words[1]!;
  if (!checkKeyBlob(base64, type)) {
    throw new UsageError(`${source}: the ${type} key's base64 data is damaged or of another type`);
  }
  // The comment keeps its inner spacing: cut the line after the key rather than re-join words.
  const rest = line.slice(line.indexOf(base64, type.length) + base64.length).trim();
  return { type, base64, comment: rest };
}

function isKeyType(word: string): boolean {
  return KEY_TYPES.has(word);
}

// The key blob starts with its own type as an SSH string (uint32 length, bytes; RFC 4253 6.6), so a
// truncated, mistyped or pasted-together key is caught here instead of by sshd at login time.
function checkKeyBlob(base64: string, type: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return false;
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 4 + type.length) return false;
  const length = blob.readUInt32BE(0);
  return length === type.length && blob.subarray(4, 4 + length).toString('latin1') === type && blob.length > 4 + length;
}

// The authorized_keys line, without a trailing newline.
export function formatAuthorizedKeysLine(options: AuthorizedKeysOptions, key: PublicKey): string {
  const command = buildServeCommand(options);
  const restrictions = options.legacyOpenssh ? LEGACY_RESTRICT_OPTIONS : RESTRICT_OPTION;
  const parts = [`command=${quoteAuthorizedKeysOption(command)},${restrictions}`, key.type, key.base64];
  if (key.comment !== '') parts.push(key.comment);
  return parts.join(' ');
}
