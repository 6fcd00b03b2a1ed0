import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The lab's version matrix: every borg the suite runs its end-to-end groups against, each a "borg
// line". The machine's own borg and borg2 are lines; so is each borg and borg2 of a Debian root
// built by scripts/lab-roots.mjs (sid: 1.4.5 and 2.0.0b25; trixie and bookworm when asked for). A
// root line runs everything in its root through test/lab/in-root: the client's borg, its ssh, tborg
// itself (the host's node binary), and the lab's sshd with its `borg serve`, so client and server
// are one Debian release, as on a real machine of that release.
//
// API (used by test/lab/lab.ts and the e2e files):
//   borgLines()             the lines to test, narrowed by TBORG_TEST_BORGS
//   matrixProblems()        why a wanted line is missing (empty when the matrix is complete)
//   inLine(line, argv)      argv run inside the line's root (test/lab/in-root), as is for the machine's
//   startLab({ line })      a lab whose sshd is the line's and whose run/spawn/command run argv in the
//                           line's root, with BORG_REMOTE_PATH and TBORG_BORG set for borg2 (lab.ts);
//                           lab.repoUrl() in the line's URL style, lab.lockHeld(name), lab.limitRate()
//   initArgs, createArgs, listArchivesArgs, listArchiveArgs, extractStdoutArgs, withLockArgs,
//   checkArgs               one borg command in the line's words (borg 1, b5's rcreate/rlist, b19+'s
//                           repo-create/repo-list); sshUrl, lockHeld below
//   describeEachLine(), knownBorg2Gap(), knownBorg2StaleLock()   in each-line.ts
//
// A line's facts come from the borg itself, not from its version number: repoPrefix (its --help),
// modes (argparse's choices for -e), rest (no --rsh in its usage).
//
// Environment:
//   TBORG_TEST_BORGS=1.2,1.4.5,b25   only the lines whose version starts with one of these, whose
//                                    version ends with it (b25), or whose name is one of them
//                                    (host-borg, sid-borg2, ...). Unset: every line.
//   TBORG_LAB_SUITES=sid,trixie      the roots in the matrix (default: sid, plus bookworm when the
//                                    machine's borg is not 1.2, so 1.2 stays covered on Debian 13).
//                                    scripts/setup.mjs builds the same list (wantedSuites there).
//   TBORG_LAB_ROOTS=/dir             where roots are cached (default /var/cache/tborg-lab).

export interface BorgLine {
  // "host-borg", "host-borg2", "sid-borg", "sid-borg2", ...: unique, used in test names.
  readonly name: string;
  // The Debian suite of the root it comes from; undefined for the machine's own.
  readonly suite: string | undefined;
  // The root's directory; undefined for the machine's own.
  readonly root: string | undefined;
  // The command the client runs ("borg" or "borg2"), inside the root when there is one.
  readonly client: 'borg' | 'borg2';
  // What the server runs for `borg serve` (BORG_REMOTE_PATH): the same command, on the same side.
  readonly remotePath: string;
  // "1.2.4", "1.4.5", "2.0.0b5", "2.0.0b25".
  readonly version: string;
  readonly major: 1 | 2;
  // OpenSSH of the client and server this line runs with ("9.2p1", "10.6p1").
  readonly openssh: string;
  // borg2's repository commands: "repo-" (repo-create, repo-list: 2.0.0b10 and later) or "r"
  // (rcreate, rlist: 2.0.0b5), read from the borg's own --help; "" for borg 1.
  readonly repoPrefix: '' | 'r' | 'repo-';
  // borg2 2.0.0b22+: ssh:// is served by `borg serve --rest` through borgstore's rest client (no
  // --rsh option any more; repository.py rest_serve_command). Read from the borg's own usage.
  readonly rest: boolean;
  // The `-e` modes for an unencrypted and an encrypted repository, from the borg's own choices:
  // borg2 2.0.0b25 has no "none" (authenticated-sha256 is the nearest) and names "aes256-ocb".
  readonly modes: { readonly plain: string; readonly encrypted: string };
}

// The in-root wrapper (checked in next to this file; tests run from dist/test/lab).
const IN_ROOT = join(import.meta.dirname, '..', '..', '..', 'test', 'lab', 'in-root');

function rootsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TBORG_LAB_ROOTS || '/var/cache/tborg-lab';
}

// Version printed by `<command> --version` ("borg 1.2.4" -> "1.2.4"), undefined when absent.
function hostVersion(argv: readonly string[], pattern: RegExp): string | undefined {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 && !(r.stderr ?? '').length) return undefined;
  return pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1];
}

// The roots in the matrix; kept in step with wantedSuites in scripts/setup.mjs.
function wantedSuites(env: NodeJS.ProcessEnv = process.env, hostBorg = hostVersion(['borg', '--version'], /borg (\S+)/)): string[] {
  if (env.TBORG_LAB_SUITES !== undefined)
    return env.TBORG_LAB_SUITES.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return hostBorg?.startsWith('1.2.') ? ['sid'] : ['sid', 'bookworm'];
}

// `.ready` of a built root: "borg 1.4.5\nborg2 2.0.0b25\n...", written last by lab-roots.mjs.
function readyVersions(root: string): Record<string, string> | undefined {
  try {
    const text = readFileSync(join(root, '.ready'), 'utf8');
    return Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(' ', 2) as [string, string]),
    );
  } catch {
    return undefined;
  }
}

function line(suite: string | undefined, root: string | undefined, client: 'borg' | 'borg2', version: string, openssh: string): BorgLine {
  let repoPrefix: BorgLine['repoPrefix'] = '';
  let rest = false;
  let modes = { plain: 'none', encrypted: 'repokey' };
  if (client === 'borg2') {
    const run = (...args: string[]): string => {
      const argv = root === undefined ? [client, ...args] : [IN_ROOT, root, client, ...args];
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
      return `${r.stdout ?? ''}${r.stderr ?? ''}`;
    };
    repoPrefix = /\brepo-create\b/.test(run('--help')) ? 'repo-' : 'r';
    // A mode that does not exist: argparse prints the usage and every valid choice.
    const usage = run(`${repoPrefix}create`, '-e', 'no-such-mode', '-r', '/nonexistent');
    const choices =
      /invalid choice: 'no-such-mode' \(choose from ([^)]*)\)/
        .exec(usage)?.[1]
        ?.split(/[\s,']+/)
        .filter(Boolean) ?? [];
    const pick = (...wanted: string[]): string => wanted.find((m) => choices.includes(m)) ?? wanted[0]!;
    modes = { plain: pick('none', 'authenticated-sha256'), encrypted: pick('repokey-aes-ocb', 'aes256-ocb') };
    rest = !usage.includes('--rsh');
  }
  return {
    repoPrefix,
    rest,
    modes,
    name: `${suite ?? 'host'}-${client}`,
    suite,
    root,
    client,
    remotePath: client,
    version,
    major: version.startsWith('1.') ? 1 : 2,
    openssh,
  };
}

interface Discovery {
  lines: BorgLine[];
  problems: string[];
}

let discovered: Discovery | undefined;

function discover(env: NodeJS.ProcessEnv): Discovery {
  const lines: BorgLine[] = [];
  const problems: string[] = [];
  const openssh = hostVersion(['ssh', '-V'], /OpenSSH_(\S+?)[,\s]/) ?? 'unknown';
  const borg = hostVersion(['borg', '--version'], /borg (\S+)/);
  const borg2 = hostVersion(['borg2', '--version'], /borg2? (\S+)/);
  if (borg) lines.push(line(undefined, undefined, 'borg', borg, openssh));
  else problems.push('the machine has no borg (apt-get install borgbackup)');
  if (borg2) lines.push(line(undefined, undefined, 'borg2', borg2, openssh));
  else problems.push('the machine has no borg2 (apt-get install borgbackup2)');
  for (const suite of wantedSuites(env, borg)) {
    const root = join(rootsDir(env), suite);
    const ready = readyVersions(root);
    if (!ready) {
      problems.push(`no Debian ${suite} root at ${root} (npm test builds it as root: node scripts/lab-roots.mjs build ${suite})`);
      continue;
    }
    // `ssh -V` in the root: it can differ from the package version .ready records (trixie: 10.0p2).
    const rootOpenssh = hostVersion([IN_ROOT, root, 'ssh', '-V'], /OpenSSH_(\S+?)[,\s]/) ?? ready.openssh ?? 'unknown';
    for (const client of ['borg', 'borg2'] as const) {
      const version = ready[client];
      if (version && version !== 'none') lines.push(line(suite, root, client, version, rootOpenssh));
      else problems.push(`the ${suite} root has no ${client}`);
    }
  }
  return { lines, problems };
}

function selected(all: readonly BorgLine[], filter: string | undefined): BorgLine[] {
  if (filter === undefined || filter.trim() === '') return [...all];
  const tokens = filter
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return all.filter((l) => tokens.some((t) => l.name === t || l.version.startsWith(t) || l.version.endsWith(t)));
}

// The lines to run the end-to-end groups against (discovered once per test process).
export function borgLines(env: NodeJS.ProcessEnv = process.env): BorgLine[] {
  discovered ??= discover(env);
  return selected(discovered.lines, env.TBORG_TEST_BORGS);
}

// Why the matrix is incomplete: a wanted root or borg that is missing. Lines narrowed away by
// TBORG_TEST_BORGS are not problems.
export function matrixProblems(env: NodeJS.ProcessEnv = process.env): string[] {
  discovered ??= discover(env);
  const problems = [...discovered.problems];
  if (env.TBORG_TEST_BORGS && borgLines(env).length === 0) problems.push(`TBORG_TEST_BORGS=${env.TBORG_TEST_BORGS} matches no borg line`);
  return problems;
}

// argv run inside the line's root (argv itself for the machine's own borg).
export function inLine(line: BorgLine | undefined, argv: readonly string[]): string[] {
  return line?.root === undefined ? [...argv] : [IN_ROOT, line.root, ...argv];
}

// --- the borg command lines each line spells differently -------------------------------------

// A repository on the lab's server as this line's URL: borg2 reads ssh://host/path as relative to
// the login directory and wants ssh://host//path for an absolute one (2.0.0b25 parseformat.py,
// Location "ssh" usage); 2.0.0b5 and borg 1 take ssh://host/path as absolute, and for b5 the
// double slash names the same directory (POSIX), so every borg2 line gets it.
export function sshUrl(line: BorgLine | undefined, host: string, absolutePath: string): string {
  return line?.major === 2 ? `ssh://${host}/${absolutePath}` : `ssh://${host}${absolutePath}`;
}

// `borg init -e none REPO` in this line's words, or with `encrypted` a repokey mode (the
// passphrase comes from BORG_PASSPHRASE). borg2 2.0.0b25 has no "none" mode: an authenticated one
// (no encryption; the lab's passphrase is empty) is the nearest.
export function initArgs(line: BorgLine | undefined, repo: string, encrypted = false): string[] {
  if (line?.major !== 2) return ['init', '-e', encrypted ? 'repokey' : 'none', repo];
  return [`${line.repoPrefix}create`, '-e', encrypted ? line.modes.encrypted : line.modes.plain, '-r', repo];
}

// `borg create REPO::NAME PATH...`
export function createArgs(line: BorgLine | undefined, repo: string, name: string, ...paths: string[]): string[] {
  return line?.major === 2 ? ['create', '-r', repo, name, ...paths] : ['create', `${repo}::${name}`, ...paths];
}

// The archive names, one per line: `borg list --short REPO`.
export function listArchivesArgs(line: BorgLine | undefined, repo: string): string[] {
  // 2.0.0b25's `repo-list --short` prints archive ids, not names.
  if (line?.repoPrefix === 'repo-') return ['repo-list', '--format', '{archive}{NL}', '-r', repo];
  return line?.major === 2 ? [`${line.repoPrefix}list`, '--short', '-r', repo] : ['list', '--short', repo];
}

// The files of one archive: `borg list REPO::NAME`.
export function listArchiveArgs(line: BorgLine | undefined, repo: string, name: string): string[] {
  return line?.major === 2 ? ['list', '-r', repo, name] : ['list', `${repo}::${name}`];
}

// `borg extract --stdout REPO::NAME PATH...`
export function extractStdoutArgs(line: BorgLine | undefined, repo: string, name: string, ...paths: string[]): string[] {
  return line?.major === 2 ? ['extract', '--stdout', '-r', repo, name, ...paths] : ['extract', '--stdout', `${repo}::${name}`, ...paths];
}

// A command run with REPO's lock held: `borg [--lock-wait N] with-lock REPO COMMAND...`.
export function withLockArgs(line: BorgLine | undefined, repo: string, ...command: string[]): string[] {
  return line?.major === 2 ? ['with-lock', '-r', repo, ...command] : ['with-lock', repo, ...command];
}

// `borg check REPO` (repository and archives).
export function checkArgs(line: BorgLine | undefined, repo: string): string[] {
  return line?.major === 2 ? ['check', '-r', repo] : ['check', repo];
}

// Whether some client holds a lock on the repository at this server path: borg 1 and borg2 2.0.0b5
// keep lock.roster (and lock.exclusive) in the repository directory (locking.py); borg2 with
// borgstore keeps one object per lock under locks/ (storelocking.py).
export function lockHeld(line: BorgLine | undefined, repoPath: string): boolean {
  if (line?.repoPrefix === 'repo-') {
    try {
      return readdirSync(join(repoPath, 'locks')).length > 0;
    } catch {
      return false;
    }
  }
  return existsSync(join(repoPath, 'lock.roster'));
}
