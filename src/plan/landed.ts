import type { BorgCommandLine } from '../borg/command-line.js';
import { commandFacts } from '../borg/command-facts.js';
import { expandPlaceholders, NO_PLACEHOLDER, type PlaceholderResolver } from '../borg/placeholder-expansion.js';

// Whether a create (or rename) whose connection was lost had already landed. The commit is the last
// thing that changes the repository (borg 1.2.4 archive.py Archive.save: manifest.write(), then
// repository.commit()); a cut after it and before borg's answer leaves a complete archive, and a
// second attempt then fails with "Archive NAME already exists" (a fixed name), stores a second
// archive ({now} in the name: a new timestamp), or in borg2 (names need not be unique) a duplicate.
// So before retrying, tborg lists the repository's archives, under the repository lock like any
// reader (it waits for the old borg serve to let go, so the state it reads is final), and ends as the
// clean run would have when the archive is there (README "What is retried"). Pure: the list is built
// here and its answer read here; running it is src/run/landed-check.ts's.

export interface LandedCheck {
  kind: 'create' | 'rename';
  // borg's argv that prints the repository's archives as JSON (without tborg's --lock-wait): borg
  // 1.x `list --json REPO`, 2.0.0b5 `rlist --json`, b12+ `repo-list --json`, with the --rsh and
  // --remote-path words of the user's line (borg's own options for reaching the repository).
  listArgv: string[];
  // The archive the line makes, as written (placeholders unexpanded): create's name, rename's new one.
  archive: string;
  // rename: the archive's old name; null for create.
  old: string | null;
}

// The check for this line, or null when the line is no create or rename of one archive.
export function planLandedCheck(line: BorgCommandLine, argv: readonly string[], major: 1 | 2, version: string | null): LandedCheck | null {
  const command = line.command.join(' ');
  if ((command !== 'create' && command !== 'rename') || !line.repository) return null;
  const reach: string[] = [];
  if (line.rsh) reach.push(...(line.rsh.form === 'separate' ? ['--rsh', argv[line.rsh.index + 1] ?? ''] : [argv[line.rsh.index] ?? '']));
  // The remote path as the attempts send it (argv: the server guard's run token may be in it).
  const at = line.remotePathAt;
  if (at) reach.push(...(at.form === 'separate' ? ['--remote-path', argv[at.index + 1] ?? ''] : [argv[at.index] ?? '']));
  const positional = (name: string): string | undefined => line.positionals.get(name)?.[0];
  let repo: string[];
  let first: string | undefined;
  if (major === 1) {
    // The location word "REPO::NAME" (Location's path cannot hold "::"); "" or "::NAME" use BORG_REPO.
    const word = line.repository.argIndex === null ? undefined : argv[line.repository.argIndex];
    const at = word?.indexOf('::') ?? -1;
    if (word === undefined || at === -1) return null;
    first = word.slice(at + 2);
    repo = at === 0 ? [] : [word.slice(0, at)];
  } else {
    first = command === 'create' ? positional('NAME') : (positional('OLDNAME') ?? positional('ARCHIVE'));
    repo = line.repository.source === 'BORG_REPO' ? [] : ['-r', line.repository.location.location];
  }
  if (first === undefined || first === '') return null;
  // The archive list in this borg's words: borg2 renamed rlist to repo-list, and the table's rows say
  // from which beta on (CommandSpec.betas). A borg2 of unknown version is read as 2.0.0b5, as its
  // line is (location.ts borg2Generation).
  const list = major === 1 ? 'list' : commandFacts(2, version ?? '2.0.0b5', ['repo-list']) ? 'repo-list' : 'rlist';
  if (command === 'create') {
    // With --json, --format's form is ignored but its keys are added to each archive (borg 1.2.4
    // archiver.py list --format help; ArchiveFormatter.used_call_keys in 1.x and 2): who made it.
    // Each such key costs borg a read of the archive's metadata (a round trip to the server), so only
    // the newest archives are listed (--last sorts by timestamp): this run's, if it landed, started
    // after the lost attempt began, so only more than CANDIDATES - 1 archives made since could hide it.
    const listArgv = [...reach, list, '--json', '--format', WHO_FORMAT, '--last', String(CANDIDATES), ...repo];
    return { kind: 'create', listArgv, archive: first, old: null };
  }
  // A rename keeps the archive's time and author: the whole list, names only.
  const renamed = positional('NEWNAME');
  const listArgv = [...reach, list, '--json', ...repo];
  return renamed === undefined ? null : { kind: 'rename', listArgv, archive: renamed, old: first };
}

const WHO_FORMAT = '{hostname}{username}';
const CANDIDATES = 20;

// Who borg stamps a new archive with, as this run's borg would: the host's short name (platform
// `hostname`, socket.gethostname() up to its first dot: 1.2.4 and 2.0.0b5 platform/base.py) or
// BORG_HOSTNAME (1.4 and 2.0.0b25 honour it, 1.2 and b5 do not: both are taken), and getpass.getuser()
// (LOGNAME, USER, LNAME, USERNAME, the first one set, else the passwd entry) or BORG_USERNAME (1.4,
// b25). Another machine's or user's archive of the same name is not this run's: in borg 2 archive
// names need not be unique (a series is a name), so without this a cut create could be called landed
// on the strength of another machine's backup.
export interface ArchiveAuthor {
  hostnames: readonly string[];
  usernames: readonly string[];
}

export function archiveAuthor(env: NodeJS.ProcessEnv, systemHostname: string, passwdName: string): ArchiveAuthor {
  const own = (name: string | undefined): string[] => (name ? [name] : []);
  const getuser = ['LOGNAME', 'USER', 'LNAME', 'USERNAME'].map((k) => env[k]).find((v) => v) ?? passwdName;
  return {
    hostnames: [...own(env.BORG_HOSTNAME), systemHostname.split('.')[0] ?? systemHostname],
    usernames: [...own(env.BORG_USERNAME), getuser],
  };
}

// Placeholders whose value is the same for every run on this machine (placeholders.ts gives them);
// every other ({now}, {utcnow}, {pid}, {uuid4}, any with a format spec) stands for any text.
const FIXED = new Set(['hostname', 'fqdn', 'reverse-fqdn', 'user', 'borgversion', 'borgmajor', 'borgminor', 'borgpatch']);
const ANY = '\u0000';

// The names borg can have given `template` (parseformat.py replace_placeholders), as an anchored
// regular expression; null when borg would refuse the name.
export function archivePattern(template: string, resolve: PlaceholderResolver): RegExp | null {
  const expanded = expandPlaceholders(template, (name, spec) => (FIXED.has(name) && spec === '' ? resolve(name, spec) : ANY));
  if (expanded === NO_PLACEHOLDER) return null;
  const escaped = expanded.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll(ANY, '.+?');
  return new RegExp(`^${escaped}$`);
}

// The archive's name (landed), null (not landed), the lock still held when the wait was spent (the
// path borg named), or why the list could not be read.
export type LandedAnswer = { landed: string } | { landed: null } | { locked: string | undefined } | { error: string };

const CHECKPOINT = /\.checkpoint(\.\d+)?$/;

// Reads the list's JSON: a create landed when an archive named by its pattern started at or after
// `sinceMs` (borg's "start", or "time", the client's local time, taken after the attempt began), is
// no checkpoint (archive.py: "NAME.checkpoint", "NAME.checkpoint.N") and was made by `author`'s host
// and user (where borg lists them); a rename landed when the new name is there and the old one is
// gone (a rename keeps the archive's author, whoever made it).
export function readLanded(
  json: string,
  check: LandedCheck,
  resolve: PlaceholderResolver,
  sinceMs: number,
  author: ArchiveAuthor,
): LandedAnswer {
  let archives: Array<{ name: string; start: number; hostname?: string; username?: string }>;
  try {
    const parsed = JSON.parse(json) as { archives?: Array<Record<string, unknown>> };
    if (!Array.isArray(parsed.archives)) return { error: 'borg listed no archives' };
    archives = parsed.archives.map((a) => {
      const when = typeof a.start === 'string' ? a.start : typeof a.time === 'string' ? a.time : '';
      return {
        name: typeof a.name === 'string' ? a.name : typeof a.archive === 'string' ? a.archive : '',
        start: Date.parse(when),
        ...(typeof a.hostname === 'string' ? { hostname: a.hostname } : {}),
        ...(typeof a.username === 'string' ? { username: a.username } : {}),
      };
    });
  } catch {
    return { error: "borg's archive list was not JSON" };
  }
  const pattern = archivePattern(check.archive, resolve);
  if (pattern === null) return { error: `cannot read the archive name ${check.archive}` };
  if (check.kind === 'rename') {
    const oldPattern = archivePattern(check.old ?? '', resolve);
    const renamed = archives.find((a) => pattern.test(a.name));
    const oldThere = oldPattern === null || archives.some((a) => oldPattern.test(a.name));
    return renamed && !oldThere ? { landed: renamed.name } : { landed: null };
  }
  const checkpointWanted = CHECKPOINT.test(check.archive);
  const ours = (a: { hostname?: string; username?: string }): boolean =>
    (a.hostname === undefined || author.hostnames.includes(a.hostname)) &&
    (a.username === undefined || author.usernames.includes(a.username));
  const found = archives.find(
    (a) => pattern.test(a.name) && (checkpointWanted || !CHECKPOINT.test(a.name)) && a.start >= sinceMs && ours(a),
  );
  return found ? { landed: found.name } : { landed: null };
}
