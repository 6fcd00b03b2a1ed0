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
// makes that borg reject the line, as it would anyway. test/unit/borg-help-table.test.ts re-reads
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
export type LocationKind = 'archive' | 'repository' | 'either';

// One command of a table: what argparse needs to replay it, and what tborg needs to know of it.
export interface CommandSpec {
  // This word only selects a further subcommand (`key`, `debug`, `benchmark`).
  readonly subcommands?: true;
  readonly location?: LocationKind;
  // location_validator(proto='file'): `borg config` works on local repositories only.
  readonly localOnly?: true;
  readonly positionals?: readonly string[];
  // Options argparse requires (required=True), by their first option string.
  readonly required?: readonly string[];
  // The options of this command besides the common ones, each as --help prints it.
  readonly options: readonly string[];
  // borg 2 only: the betas that have this command (2.0.0bN, inclusive; open when left out). borg2
  // renamed and dropped commands between betas, and a name another beta does not know is argparse's
  // "invalid choice" there (archiver/*_cmd.py add_parser, read for every beta b5..b20).
  readonly betas?: { readonly since?: number; readonly until?: number };
}

// What a run of a command is to whoever watches the backups (README "Monitoring"): a backup
// (a new archive: borg 1.x and borg 2 `create`, `import-tar`), maintenance of the repository
// (recorded under its own name: it can fail loudly, but never makes a failed backup look fine), or
// neither (reads such as `list`, and one-off administration such as `init`, `rename`, `key`), which
// is recorded nowhere. `delete` of archives is prune's hand-made twin; `recreate` rewrites
// existing archives and adds no new point in time.
export type MonitorKind = 'backup' | 'maintenance' | 'none';

const BACKUP_COMMANDS: ReadonlySet<string> = new Set(['create', 'import-tar']);
const MAINTENANCE_COMMANDS: ReadonlySet<string> = new Set(['prune', 'compact', 'check', 'delete', 'recreate']);

// The kind of `command` (borg's command words, e.g. ['create'], ['key', 'export']).
export function classifyForMonitors(command: readonly string[]): MonitorKind {
  const word = command.length === 1 ? command[0]! : '';
  if (BACKUP_COMMANDS.has(word)) return 'backup';
  if (MAINTENANCE_COMMANDS.has(word)) return 'maintenance';
  return 'none';
}
