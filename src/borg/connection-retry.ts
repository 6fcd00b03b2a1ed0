// Whether a borg command may run a second time after its connection was lost. A lost connection can
// come at any moment of the first attempt: after part of the result reached stdout, after stdin was
// read, after a command of the user's ran, after the repository was changed. A second attempt is
// safe only when it can neither repeat output nor miss input nor run anything twice, and when
// meeting what a cut-off first attempt left behind ends in the same state as one clean run. So this
// is an allowlist: every command of borg 1.x and borg 2 has its decision in its row of the grammar
// tables (CommandSpec.retry in borg1-commands.ts, borg2-commands.ts), read from borg's source (1.2.4
// src/borg/archiver.py; 2.0.0b5 src/borg/archiver/*_cmd.py); this module holds the decisions the two
// tables share, and a command tborg does not know is never retried. Lock timeouts
// are another matter: borg takes the repository lock before it reads stdin, writes stdout or
// starts a command, so those are always retried (next-step.ts).

import type { CommandWords, RetryRule } from './command-spec.js';

// "NAME writes its result to stdout; ...": the reason for every command whose result is its stdout.
export function explainStdout(what: string): string {
  return `${what} writes its result to stdout; a second attempt would write it again`;
}

// A path that is really stdin/stdout or another stream, not a file a second attempt reads again or
// truncates and rewrites: '-', /dev/stdout, /dev/stdin, /dev/fd/N, /proc/self/fd/N, a tty...
function isStream(path: string | undefined): boolean {
  return path === undefined || path === '-' || path.startsWith('/dev/') || path.startsWith('/proc/');
}

export const DEBUG_REASON = 'debug commands print to stdout or write objects one by one; tborg never runs them twice';
export const HELP_ONLY_REASON = 'only prints help';

// The reason for a command no one has checked yet (and for one tborg does not know).
export function explainUnchecked(name: string): string {
  return `${name} is not on tborg's list of commands checked to be safe to run a second time`;
}

// The reason for the commands that ask for a new passphrase.
export function explainPassphrasePrompt(name: string): string {
  return `${name} asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again`;
}

// do_init / do_rcreate: Repository.create() makes the repository before key_creator() asks for a
// passphrase and the manifest is committed; a second attempt after a cut in between fails with
// "A repository already exists", hiding a repository without a key or manifest.
export function explainNotIdempotent(name: string): string {
  return `${name} is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"`;
}

// _delete_repository (1.x, with no archive named or selected) and do_rdelete ask on stdin
// (yes(), input()) unless BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=YES, then destroy the repository.
export function explainRepositoryDelete(name: string): string {
  return `${name} of a whole repository asks for confirmation on stdin and destroys it; it is not run a second time`;
}

// do_create: archive.save() (manifest write, commit) is the last step; a cut before it leaves
// at most a `NAME.checkpoint` archive, which a second attempt leaves alone (archive.py
// Archive.__init__ picks a new checkpoint name). A cut after the commit makes the second attempt
// fail with "Archive NAME already exists" (a fixed name) or store a second archive ({now}): a
// failure or a duplicate, never a lost or damaged backup. --list/--stats go to the log (stderr).
// create --json: json_print() comes right after archive.save() and before the repository is closed
// (RemoteRepository.close is one more call over the connection), so the connection can be lost
// after the JSON was printed: not retried.
export function judgeCreateRetry(w: CommandWords): string {
  if (w.options.has('--content-from-command') || w.options.has('--paths-from-command')) {
    const option = w.options.has('--content-from-command') ? '--content-from-command' : '--paths-from-command';
    return `create ${option} runs your command, which may have consumed input or done work; a second attempt would run it again`;
  }
  if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
  if (w.options.has('--json'))
    return 'create --json prints its result once the archive is committed, before borg closes the connection; a second attempt could print a second one';
  return 'safe';
}

// do_import_tar: like create; the tar file is read again from its start by a second attempt.
export function judgeImportTarRetry(w: CommandWords): string {
  if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
  const tarfile = w.positionals.get('TARFILE')?.[0];
  if (isStream(tarfile)) return `import-tar from ${tarfile ?? '-'} reads input that cannot be replayed`;
  if (w.options.has('--tar-filter')) return 'import-tar --tar-filter runs your command; a second attempt would run it again';
  if (w.options.has('--json'))
    return 'import-tar --json prints its result once the archive is committed; a second attempt could print a second one';
  return 'safe';
}

// do_extract writes files (extract_item unlinks an existing file before writing it again), or
// with --stdout the file contents to stdout.
export function judgeExtractRetry(w: CommandWords): string {
  return w.options.has('--stdout') ? explainStdout('extract --stdout') : 'safe';
}

// do_export_tar: dash_open(args.tarfile, 'wb') truncates a file, so a second attempt rewrites it
// from the start; '-' is stdout. --tar-filter pipes through a command of the user's.
export function judgeExportTarRetry(w: CommandWords): string {
  const file = w.positionals.get('FILE')?.[0];
  if (isStream(file)) return explainStdout(`export-tar to ${file ?? '-'}`);
  if (w.options.has('--tar-filter')) return 'export-tar --tar-filter runs your command; a second attempt would run it again';
  return 'safe';
}

// do_config prints a value or --list; setting or deleting a value twice is the same as once.
export function judgeConfigRetry(w: CommandWords): string {
  const setting = (w.positionals.get('VALUE')?.length ?? 0) > 0 || w.options.has('-d');
  return setting && !w.options.has('-l') ? 'safe' : explainStdout('config');
}

// do_key_export: KeyManager.export(path) writes to stdout for a missing PATH or '-'.
export function judgeKeyExportRetry(w: CommandWords): string {
  const path = w.positionals.get('PATH')?.[0];
  return isStream(path) ? explainStdout(`key export to ${path ?? 'stdout'}`) : 'safe';
}

// do_key_export_related_secrets (1.4): like key export.
export function judgeRelatedSecretsRetry(w: CommandWords): string {
  return isStream(w.positionals.get('PATH')?.[0]) ? explainStdout('key export-related-secrets') : 'safe';
}

// do_key_import: --paper reads the key typed on stdin; '-' reads it from stdin.
export function judgeKeyImportRetry(w: CommandWords): string {
  if (w.options.has('--paper')) return 'key import --paper reads the key from stdin; it cannot be read again';
  if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
  const path = w.positionals.get('PATH')?.[0];
  if (path !== undefined && isStream(path)) return `key import from ${path} reads input that cannot be replayed`;
  return 'safe';
}

// do_key_remove (2.0.0b22+ archiver/key_cmds.py; crypto/key.py remove_key): the selector must match
// exactly one key. A label is unique (add_key refuses a second one) and a key id prefix matched one key,
// so after a cut that followed the removal a second attempt matches none and fails ("matched 0 keys"):
// a failure, never a second key gone (as rename). --passphrase selects the key the passphrase unlocked
// this time: a second attempt unlocks with the same passphrase, which can open another key of the same
// passphrase and remove that one.
export function judgeKeyRemoveRetry(w: CommandWords): string {
  return w.options.has('--passphrase')
    ? 'key remove --passphrase removes the key your passphrase unlocks; a second attempt could unlock and remove another one'
    : 'safe';
}

// do_rdelete / do_repo_delete: --cache-only deletes only the local cache.
export function judgeRepositoryDeleteRetry(w: CommandWords): string {
  return w.options.has('--cache-only') ? 'safe' : explainRepositoryDelete(w.command);
}

// do_check without --repair only reads (--max-duration's partial-check state is resumed, not
// repeated). --repair asks for confirmation on stdin (yes()) and changes the repository.
export function judgeCheckRetry(w: CommandWords): string {
  return w.options.has('--repair')
    ? 'check --repair asks for confirmation on stdin and repairs the repository; it is not run a second time'
    : 'safe';
}

// do_recreate: each archive is rebuilt as NAME.recreate and replaces NAME in its own commit
// (ArchiveRecreater.save); a second attempt rebuilds what is left. Without a single archive it
// prints "Processing NAME" to stdout for every archive, which a second attempt would repeat.
export const RECREATE_MANY_REASON =
  'recreate of several archives prints "Processing NAME" to stdout; a second attempt would print it again';

// Why a lost connection must not be retried for this command line, or null when a second attempt
// is safe. --json on any command puts a result on stdout (json_print), which a second attempt
// would repeat.
// `rule` is the command's row's (CommandSpec.retry); undefined for a command no table has.
export function connectionRetryRefusal(words: CommandWords, rule: RetryRule | undefined): string | null {
  if (rule === undefined) return explainUnchecked(words.command || 'this command');
  const verdict = typeof rule === 'function' ? rule(words) : rule;
  if (verdict !== 'safe') return verdict;
  if (words.options.has('--json') || words.options.has('--json-lines')) {
    return `${words.command} --json writes its result to stdout; a second attempt would write it again`;
  }
  return null;
}

// The command of the user's that borg runs on this line, in words, or null. borg runs it only
// once it holds the repository (borg 1.2.4 archiver.py: do_with_lock, do_create's
// --content-from-command/--paths-from-command and do_import_tar/do_export_tar's --tar-filter all sit
// under @with_repository, which opens the repository and takes its lock, waiting up to --lock-wait,
// before the command's body runs; borg 2's *_cmd.py the same). Its stderr is borg's stderr and its
// exit code is borg's (do_with_lock returns subprocess.call's), so nothing an attempt shows can tell
// borg's words from the command's: such a line gets exactly one attempt (plan.ts). Each command that
// can run one says so in its row (CommandSpec.userCommand) with one of these.
export function findCreateUserCommand(w: Pick<CommandWords, 'options'>): string | null {
  if (w.options.has('--content-from-command')) return 'create --content-from-command runs your command';
  if (w.options.has('--paths-from-command')) return 'create --paths-from-command runs your command';
  return null;
}

// import-tar and export-tar --tar-filter.
export function findTarFilterCommand(w: Pick<CommandWords, 'command' | 'options'>): string | null {
  return w.options.has('--tar-filter') ? `${w.command} --tar-filter runs your command` : null;
}

export function findWithLockCommand(): string {
  return 'with-lock runs your command';
}

// Reasons that come from the environment, not the command line: BORG_PASSPHRASE_FD is read to its
// end by the first attempt (helpers/passphrase.py fd_passphrase: os.fdopen(fd).read()), so a second
// attempt would read an empty passphrase.
// BORG_PASSPHRASE and BORG_PASSCOMMAND come first (key.py Passphrase.env_passphrase).
export function environmentRetryRefusal(env: NodeJS.ProcessEnv): string | null {
  if (env.BORG_PASSPHRASE_FD !== undefined && env.BORG_PASSPHRASE === undefined && env.BORG_PASSCOMMAND === undefined) {
    return 'BORG_PASSPHRASE_FD is read by the first attempt and cannot be read again';
  }
  return null;
}
