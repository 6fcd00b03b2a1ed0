// The shape of borg's command-line grammar tables (borg1-commands.ts, borg2-commands.ts): for
// every command, its positional arguments and the options it accepts, written the way
// `borg <command> --help` prints them. An option followed by an uppercase METAVAR takes one value
// (`--comment COMMENT`), `[METAVAR]` an optional value (argparse nargs='?', e.g. `--recompress
// [MODE]`), and no METAVAR means a flag.
//
// Why a table at all: to find the repository in `borg create -e host:x --comment a::b repo::arch
// other:file` tborg must know which words are option values, exactly as borg's argparse does.
//
// Where it comes from: argparse introspection of borg's own parsers (Archiver.build_parser, walking
// each parser's _actions), as a union over several versions of each major (named in each table).
// No option string changes arity between these versions; an option missing from an older borg only
// makes that borg reject the line, as it would anyway. test/host/borg-help-table.test.ts re-reads
// the installed borg's and borg2's --help and fails when a table misses an option or gets its
// arity wrong.
//
// Positionals: METAVAR, then '?' (optional), '*' (zero or more), '+' (one or more), '...'
// (argparse REMAINDER: everything that follows, options included, as `with-lock` uses it).
// borg 1.x: `location` says that the first positional is the repository location and what
// borg's location_validator(archive=...) demands of it (archiver.py): 'archive' (REPO::ARCHIVE
// required), 'repository' (no ::ARCHIVE allowed), 'either'. borg 2 takes the repository from
// -r/--repo or BORG_REPO only (archiver/_common.py define_common_options).
//
// Common options exist on the top-level parser, on `key`/`debug`/`benchmark` and on every command
// (archiver.py CommonOptions): `borg --lock-wait 5 create --lock-wait 9 ...` is legal and the most
// specific level wins. The TOP_ONLY options exist before the command only.

// How a borg 1.x command treats its first positional (location_validator(archive=...)).
type LocationKind = 'archive' | 'repository' | 'either';

// The repository lock a command takes: borg's @with_repository(exclusive=..., lock=...) on the
// command (borg 1.x archiver.py; borg 2 archiver/*_cmd.py). 'none': lock=False, or no repository at
// all. borg 1.x and borg2 up to 2.0.0b9 lock the repository as 1.x does (a lock file roster in the
// repository, held by the server's borg serve); 2.0.0b10+ keep store locks (storelocking.py), where
// an exclusive lock waits for every other lock and a shared one only for an exclusive one.
export type LockKind = 'exclusive' | 'shared' | 'none';

// A fact that changed between borg 2 betas: its value up to beta `until` (inclusive), and after it.
// A borg2 of unknown version gets the newer value.
export interface BetaChange<T> {
  readonly before: T;
  readonly until: number;
  readonly after: T;
}

// The parsed command line as a connection-retry rule needs it (command-line.ts fills it).
export interface CommandWords {
  // e.g. 'create', 'key export'.
  command: string;
  major: 1 | 2;
  // Options given, by their first option string ('-a' for `-a/--glob-archives`), with the value
  // borg acts on (null for a flag).
  options: ReadonlyMap<string, string | null>;
  // Positional values by their name in the grammar tables ('PATH', 'FILE', ...).
  positionals: ReadonlyMap<string, readonly string[]>;
  // Why borg reads stdin on this line (CommandSpec.stdin), or null.
  consumesStdin: string | null;
}

// May a lost connection be retried (connection-retry.ts): 'safe' (a second attempt is harmless), the
// reason it is not, or a function of the parsed line that says which.
export type RetryRule = 'safe' | string | ((words: CommandWords) => string | null);

// One command of a table: what argparse needs to replay it, and what tborg needs to know of it.
export interface CommandSpec {
  // This word only selects a further subcommand (`key`, `debug`, `benchmark`).
  readonly subcommands?: true;
  readonly location?: LocationKind;
  // location_validator(proto='file'): `borg config` works on local repositories only.
  readonly localOnly?: true;
  // borg 2: the command needs no repository (-r/--repo and BORG_REPO are not read). borg 1.x says
  // so by having no `location`.
  readonly noRepository?: true;
  readonly positionals?: readonly string[];
  // Options argparse requires (required=True), by their first option string.
  readonly required?: readonly string[];
  // The options of this command besides the common ones, each as --help prints it.
  readonly options: readonly string[];
  // borg 2 only: the betas that have this command (2.0.0bN, inclusive; open when left out). borg2
  // renamed and dropped commands between betas, and a name another beta does not know is argparse's
  // "invalid choice" there (archiver/*_cmd.py add_parser, read for every beta b5..b20).
  readonly betas?: BetaRange;

  // What tborg knows of the command; every row decides every fact (test/unit/command-facts.test.ts;
  // test/host/command-table-oracle.test.ts asks each borg of the matrix for the lock and --bypass-lock).
  // Its result goes to stdout: a spinner on the same terminal would garble it (spinner-safety.ts
  // spinnerSafeDuringAttempts). `--json` on any command counts as well, whatever this says. Every
  // `key` and `debug` subcommand counts, as the spinner's rule always took those groups whole.
  readonly stdout: boolean;
  // What a run is to whoever watches the backups (MonitorKind).
  readonly monitor: MonitorKind;
  // The repository lock it takes (LockKind), per beta where borg 2 changed it.
  readonly lock: LockKind | BetaChange<LockKind>;
  // Archiver.parse_args accepts --bypass-lock with it (bypass_allowed); with any other command
  // borg stops with "Not allowed to bypass locking mechanism for chosen command".
  readonly bypassLock: boolean;
  // May a lost connection be retried (connection-retry.ts).
  readonly retry: RetryRule;
  // Why a line of this command reads stdin, which a second attempt cannot read again, or null
  // (stdin-use.ts); left out: it never does.
  readonly stdin?: (words: CommandWords) => string | null;
  // The command of the user's a line of this command makes borg run, in words, or null
  // (connection-retry.ts); left out: it never runs one.
  readonly userCommand?: (words: CommandWords) => string | null;
}

// borg 2 betas, inclusive (2.0.0bN); an open end when left out.
export interface BetaRange {
  readonly since?: number;
  readonly until?: number;
}

// Whether beta N lies in the range; any beta when the range or the beta is unknown.
export function isInBetas(range: BetaRange | undefined, beta: number | null): boolean {
  if (beta === null || !range) return true;
  return (range.since === undefined || beta >= range.since) && (range.until === undefined || beta <= range.until);
}

// What a run of a command is to whoever watches the backups (README "Monitoring"): a backup
// (a new archive: borg 1.x and borg 2 `create`, `import-tar`), maintenance of the repository
// (recorded under its own name: it can fail loudly, but never makes a failed backup look fine), or
// neither (reads such as `list`, and one-off administration such as `init`, `rename`, `key`), which
// is recorded nowhere. `delete` of archives is prune's hand-made twin; `recreate` rewrites
// existing archives and adds no new point in time.
export type MonitorKind = 'backup' | 'maintenance' | 'none';
