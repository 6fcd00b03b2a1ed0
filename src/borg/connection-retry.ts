// Whether a borg command may run a second time after its connection was lost. A lost connection can
// come at any moment of the first attempt: after part of the result reached stdout, after stdin was
// read, after a command of the user's ran, after the repository was changed. A second attempt is
// safe only when it can neither repeat output nor miss input nor run anything twice, and when
// meeting what a cut-off first attempt left behind ends in the same state as one clean run. So this
// is an allowlist: every command of borg 1.x and borg 2 (borg1-commands.ts, borg2-commands.ts) has
// a decision here, read from borg's source (1.2.4 src/borg/archiver.py; 2.0.0b5
// src/borg/archiver/*_cmd.py), and a command tborg does not know is never retried. Lock timeouts
// are another matter: borg takes the repository lock before it reads stdin, writes stdout or
// starts a command, so those are always retried (next-step.ts).

// The parsed command line as this rule needs it (command-line.ts fills it).
export interface CommandWords {
  // e.g. 'create', 'key export'.
  command: string;
  major: 1 | 2;
  // Options given, by their first option string ('-a' for `-a/--glob-archives`), with the value
  // borg acts on (null for a flag).
  options: ReadonlyMap<string, string | null>;
  // Positional values by their name in the grammar tables ('PATH', 'FILE', ...).
  positionals: ReadonlyMap<string, readonly string[]>;
  // Why borg reads stdin on this line (command-line.ts stdinUse), or null.
  consumesStdin: string | null;
}

type Rule = 'safe' | string | ((words: CommandWords) => string | null);

const stdout = (what: string): string => `${what} writes its result to stdout; a second attempt would write it again`;

// A path that is really stdin/stdout or another stream, not a file a second attempt reads again or
// truncates and rewrites: '-', /dev/stdout, /dev/stdin, /dev/fd/N, /proc/self/fd/N, a tty...
function isStream(path: string | undefined): boolean {
  return path === undefined || path === '-' || path.startsWith('/dev/') || path.startsWith('/proc/');
}

const DEBUG = 'debug commands print to stdout or write objects one by one; tborg never runs them twice';
const HELP_ONLY = 'only prints help';
const UNCHECKED = (name: string): string => `${name} is not on tborg's list of commands checked to be safe to run a second time`;
const PROMPTS_PASSPHRASE = (name: string): string =>
  `${name} asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again`;

// One entry per command of either major version (test/unit/connection-retry.test.ts walks the grammar
// tables and fails on a command without one). A string is the reason a lost connection is not
// retried; 'safe' means a second attempt is harmless; a function decides from the options.
export const CONNECTION_RETRY_RULES: Readonly<Record<string, Rule>> = {
  // do_create: archive.save() (manifest write, commit) is the last step; a cut before it leaves
  // at most a `NAME.checkpoint` archive, which a second attempt leaves alone (archive.py
  // Archive.__init__ picks a new checkpoint name). A cut after the commit makes the second attempt
  // fail with "Archive NAME already exists" (a fixed name) or store a second archive ({now}): a
  // failure or a duplicate, never a lost or damaged backup. --list/--stats go to the log (stderr).
  // create --json: json_print() comes right after archive.save() and before the repository is closed
  // (RemoteRepository.close is one more call over the connection), so the connection can be lost
  // after the JSON was printed: not retried.
  create: (w) => {
    if (w.options.has('--content-from-command') || w.options.has('--paths-from-command')) {
      const option = w.options.has('--content-from-command') ? '--content-from-command' : '--paths-from-command';
      return `create ${option} runs your command, which may have consumed input or done work; a second attempt would run it again`;
    }
    if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
    if (w.options.has('--json'))
      return 'create --json prints its result once the archive is committed, before borg closes the connection; a second attempt could print a second one';
    return 'safe';
  },
  // do_import_tar: like create; the tar file is read again from its start by a second attempt.
  'import-tar': (w) => {
    if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
    const tarfile = w.positionals.get('TARFILE')?.[0];
    if (isStream(tarfile)) return `import-tar from ${tarfile ?? '-'} reads input that cannot be replayed`;
    if (w.options.has('--tar-filter')) return 'import-tar --tar-filter runs your command; a second attempt would run it again';
    if (w.options.has('--json'))
      return 'import-tar --json prints its result once the archive is committed; a second attempt could print a second one';
    return 'safe';
  },
  // do_extract writes files (extract_item unlinks an existing file before writing it again), or
  // with --stdout the file contents to stdout.
  extract: (w) => (w.options.has('--stdout') ? stdout('extract --stdout') : 'safe'),
  // do_export_tar: dash_open(args.tarfile, 'wb') truncates a file, so a second attempt rewrites it
  // from the start; '-' is stdout. --tar-filter pipes through a command of the user's.
  'export-tar': (w) => {
    const file = w.positionals.get('FILE')?.[0];
    if (isStream(file)) return stdout(`export-tar to ${file ?? '-'}`);
    if (w.options.has('--tar-filter')) return 'export-tar --tar-filter runs your command; a second attempt would run it again';
    return 'safe';
  },
  list: stdout('list'),
  info: stdout('info'),
  diff: stdout('diff'),
  rlist: stdout('rlist'),
  rinfo: stdout('rinfo'),
  'repo-list': stdout('repo-list'),
  'repo-info': stdout('repo-info'),
  analyze: stdout('analyze'),
  version: stdout('version'),
  'benchmark crud': stdout('benchmark crud'),
  'benchmark cpu': stdout('benchmark cpu'),
  completion: stdout('completion'),
  // do_config prints a value or --list; setting or deleting a value twice is the same as once.
  config: (w) => {
    const setting = (w.positionals.get('VALUE')?.length ?? 0) > 0 || w.options.has('-d');
    return setting && !w.options.has('-l') ? 'safe' : stdout('config');
  },
  // do_key_export: KeyManager.export(path) writes to stdout for a missing PATH or '-'.
  'key export': (w) => {
    const path = w.positionals.get('PATH')?.[0];
    return isStream(path) ? stdout(`key export to ${path ?? 'stdout'}`) : 'safe';
  },
  'key export-related-secrets': (w) => (isStream(w.positionals.get('PATH')?.[0]) ? stdout('key export-related-secrets') : 'safe'),
  // do_key_import: --paper reads the key typed on stdin; '-' reads it from stdin.
  'key import': (w) => {
    if (w.options.has('--paper')) return 'key import --paper reads the key from stdin; it cannot be read again';
    if (w.consumesStdin) return `${w.consumesStdin} reads input that cannot be replayed`;
    const path = w.positionals.get('PATH')?.[0];
    if (path !== undefined && isStream(path)) return `key import from ${path} reads input that cannot be replayed`;
    return 'safe';
  },
  'with-lock': 'with-lock runs your command, which may have done its work; a second attempt would run it again',
  mount: 'mount serves a file system until it is unmounted; it is not run a second time',
  umount: 'umount runs fusermount and opens no repository',
  serve: "serve is borg's server side",
  // do_init / do_rcreate: Repository.create() makes the repository before key_creator() asks for a
  // passphrase and the manifest is committed; a second attempt after a cut in between fails with
  // "A repository already exists", hiding a repository without a key or manifest.
  init: 'init is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  rcreate:
    'rcreate is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  'repo-create':
    'repo-create is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  // _delete_repository (1.x, with no archive named or selected) and do_rdelete ask on stdin
  // (yes(), input()) unless BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=YES, then destroy the repository.
  delete: (w) => {
    if (w.major === 2) return 'safe'; // borg 2's delete removes archives only; rdelete/repo-delete the repository
    const archives = w.positionals.get('REPOSITORY_OR_ARCHIVE')?.[0]?.includes('::') || (w.positionals.get('ARCHIVE')?.length ?? 0) > 0;
    const filtered = ['-a', '-P', '--first', '--last', '--cache-only'].some((o) => w.options.has(o));
    return archives || filtered ? 'safe' : DELETE_REPOSITORY('delete');
  },
  rdelete: (w) => (w.options.has('--cache-only') ? 'safe' : DELETE_REPOSITORY('rdelete')),
  'repo-delete': (w) => (w.options.has('--cache-only') ? 'safe' : DELETE_REPOSITORY('repo-delete')),
  // do_prune, do_compact, do_break_lock: no stdout (--list/--stats are log output on stderr); a
  // second run computes what is left to do from the repository as the first one left it.
  prune: 'safe',
  compact: 'safe',
  'break-lock': 'safe',
  // do_check without --repair only reads (--max-duration's partial-check state is resumed, not
  // repeated). --repair asks for confirmation on stdin (yes()) and changes the repository.
  check: (w) =>
    w.options.has('--repair')
      ? 'check --repair asks for confirmation on stdin and repairs the repository; it is not run a second time'
      : 'safe',
  // do_recreate: each archive is rebuilt as NAME.recreate and replaces NAME in its own commit
  // (ArchiveRecreater.save); a second attempt rebuilds what is left. Without a single archive it
  // prints "Processing NAME" to stdout for every archive, which a second attempt would repeat.
  recreate: (w) => {
    const single = w.major === 1 ? (w.positionals.get('REPOSITORY_OR_ARCHIVE')?.[0]?.includes('::') ?? false) : false;
    return single ? 'safe' : 'recreate of several archives prints "Processing NAME" to stdout; a second attempt would print it again';
  },
  // do_rename: one manifest change and commit. After a cut following the commit, a second attempt
  // fails with "Archive ... does not exist": a failure, never a wrong state.
  rename: 'safe',
  // transfer_cmd.py prints per archive to stdout ("copying archive ...").
  transfer: 'transfer prints its progress to stdout; a second attempt would print it again',
  rcompress: UNCHECKED('rcompress'),
  'repo-compress': UNCHECKED('repo-compress'),
  'repo-space': UNCHECKED('repo-space'),
  tag: UNCHECKED('tag'),
  undelete: UNCHECKED('undelete'),
  // do_upgrade prints what it changed ("Key updated", the manifest's archives) to stdout.
  upgrade: stdout('upgrade'),
  'change-passphrase': PROMPTS_PASSPHRASE('change-passphrase'),
  'key change-passphrase': PROMPTS_PASSPHRASE('key change-passphrase'),
  'key change-location': PROMPTS_PASSPHRASE('key change-location'),
  'key migrate-to-repokey': PROMPTS_PASSPHRASE('key migrate-to-repokey'),
  help: HELP_ONLY,
  key: HELP_ONLY,
  benchmark: HELP_ONLY,
  debug: HELP_ONLY,
  'debug convert-profile': DEBUG,
  'debug delete-obj': DEBUG,
  'debug dump-archive': DEBUG,
  'debug dump-archive-items': DEBUG,
  'debug dump-hints': DEBUG,
  'debug dump-manifest': DEBUG,
  'debug dump-repo-objs': DEBUG,
  'debug format-obj': DEBUG,
  'debug get-obj': DEBUG,
  'debug id-hash': DEBUG,
  'debug info': DEBUG,
  'debug parse-obj': DEBUG,
  'debug put-obj': DEBUG,
  'debug refcount-obj': DEBUG,
  'debug search-repo-objs': DEBUG,
};

function DELETE_REPOSITORY(name: string): string {
  return `${name} of a whole repository asks for confirmation on stdin and destroys it; it is not run a second time`;
}

// Why a lost connection must not be retried for this command line, or null when a second attempt
// is safe. --json on any command puts a result on stdout (json_print), which a second attempt
// would repeat.
export function connectionRetryRefusal(words: CommandWords): string | null {
  const rule = CONNECTION_RETRY_RULES[words.command];
  if (rule === undefined) return UNCHECKED(words.command || 'this command');
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
// borg's words from the command's: such a line gets exactly one attempt (plan.ts).
export function userCommandOf(words: Pick<CommandWords, 'command' | 'options'>): string | null {
  const { command, options } = words;
  if (command === 'with-lock') return 'with-lock runs your command';
  if (command === 'create') {
    if (options.has('--content-from-command')) return 'create --content-from-command runs your command';
    if (options.has('--paths-from-command')) return 'create --paths-from-command runs your command';
  }
  if ((command === 'import-tar' || command === 'export-tar') && options.has('--tar-filter'))
    return `${command} --tar-filter runs your command`;
  return null;
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
