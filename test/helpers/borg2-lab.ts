import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { after, before } from 'node:test';
import type { BorgLine } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import type { RunResult } from '../lab/processes.js';
import type { Location } from '../../src/borg/location.js';
import { servesRestOverSsh } from '../../src/ssh/rest-ssh.js';

// A lab for the borg2 tests (test/e2e/borg2-*-e2e.test.ts), on each borg2 line of the matrix: the
// machine's (2.0.0b5 on Debian 12) and sid's 2.0.0b25 (borgstore 0.7.0, rest over ssh), each with
// its own OpenSSH.
//
// "Port only in the URL": ssh://root@127.0.0.1:PORT//path with no BORG_RSH at all, so ssh reads the
// user's own ~/.ssh/config. That file is the lab's: each command runs in a private mount namespace
// (unshare -m) with a lab directory bound over /root (ssh finds ~ through the password database, not
// $HOME), so neither the machine's nor the cached root's /root is ever touched. `--propagation
// unchanged`: in a root (test/lab/in-root) the mount namespace is already private and / is no mount
// point; under `ip netns exec` mounts are slaves of the machine's, so nothing propagates back either.

export const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

const borg2Available = labAvailable();

// One describe block per borg2 line of the matrix (describeEachLine; TBORG_TEST_BORGS narrows it),
// each with a Borg2Lab of its own named `lab`, started before the block's tests and closed after
// them. `lines` narrows the borg2 lines further. The body only declares the tests: `b` is filled in
// by the time they run.
export function describeEachBorg2Line(
  title: string,
  options: { lab: string; lines?: (line: BorgLine) => boolean },
  body: (b: Borg2Lab, line: BorgLine) => void,
): void {
  const lines = (line: BorgLine): boolean => line.major === 2 && (options.lines?.(line) ?? true);
  describeEachLine(title, { skip: borg2Available.ok ? false : borg2Available.why, lines }, (line) => {
    const b = {} as Borg2Lab;
    let started: Borg2Lab | undefined;
    before(async () => {
      started = await startBorg2Lab(line, options.lab);
      Object.assign(b, started);
    });
    after(async () => started?.lab.close());
    body(b, line);
  });
}

// Why a line has no rest over ssh (b25+), or false when it has.
export function b2SkipNoRest(line: BorgLine): string | false {
  return servesRestOverSsh({ proto: 'ssh', host: '127.0.0.1' } as Location, 2, line.version)
    ? false
    : `borg2 ${line.version} serves ssh:// with borg serve, not --rest`;
}

export interface Borg2Lab {
  lab: Lab;
  line: BorgLine;
  data: string;
  // ssh://root@127.0.0.1:PORT//<absolute repository path>: the port only in the URL.
  url(name: string): string;
  // The lab's environment minus its BORG_RSH (unless `extra` gives one), plus `extra`.
  userEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  // argv with the lab's home bound over /root.
  withHome(argv: readonly string[]): string[];
  borg2(args: string[], extra?: NodeJS.ProcessEnv): Promise<RunResult>;
  tborg(args: string[], extra?: NodeJS.ProcessEnv): Promise<RunResult>;
  // The archive names: repo-list (b12+) or rlist.
  repoListArgs(repo: string): string[];
  // Whether this borg2 serves ssh:// with `borg serve --rest` through borgstore's ssh (b25+): store
  // locks written by the client, borgstore's ssh command (src/ssh/rest-ssh.ts).
  restOverSsh: boolean;
}

export async function startBorg2Lab(line: BorgLine, name: string): Promise<Borg2Lab> {
  const lab = await startLab({ line, clientAlive: { interval: 1, countMax: 3 }, name: `${name}-${line.name}` });
  const data = join(lab.dir, 'data');
  mkdirSync(data);
  for (let i = 0; i < 20; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(1000));
  const home = join(lab.dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  // The user's own config: how to log in, nothing about the port or a keepalive.
  writeFileSync(
    join(home, '.ssh', 'config'),
    [
      'Host 127.0.0.1',
      `  IdentityFile "${lab.clientKey}"`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile "${join(lab.dir, 'known_hosts_home')}"`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking accept-new',
      '  BatchMode yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // A home of its own over /root (the user's ~/.ssh/config above). A project cloned under /root (a
  // newcomer's ~/tborg, or a CI root's /root/tborg) would vanish under it: it is put back in place.
  const project = dirname(dirname(TBORG));
  const underRoot = project.startsWith('/root/') ? relative('/root', project) : null;
  const stash = join(lab.dir, 'project');
  if (underRoot) {
    mkdirSync(join(home, underRoot), { recursive: true });
    mkdirSync(stash);
  }
  const withHome = (argv: readonly string[]): string[] =>
    underRoot
      ? [
          'unshare',
          '-m',
          '--propagation',
          'unchanged',
          'sh',
          '-c',
          'p=$1 s=$2; shift 2; mount --bind "$p" "$s" && mount --bind "$0" /root && mount --bind "$s" "$p" && exec "$@"',
          home,
          project,
          stash,
          ...argv,
        ]
      : ['unshare', '-m', '--propagation', 'unchanged', 'sh', '-c', 'mount --bind "$0" /root && exec "$@"', home, ...argv];
  const userEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const env = lab.env(extra);
    if (!('BORG_RSH' in extra)) delete env.BORG_RSH;
    return env;
  };
  const run = (argv: string[], extra: NodeJS.ProcessEnv): Promise<RunResult> =>
    lab.run(withHome(argv), { env: userEnv(extra), timeoutMs: 240_000 });
  return {
    lab,
    line,
    data,
    // borg2 b13+ reads ssh://host/path as relative to the login directory: "//" for an absolute path
    // (b5 reads the same directory either way).
    url: (repo) => `ssh://root@127.0.0.1:${lab.port}//${lab.repoPath(repo).replace(/^\/+/, '')}`,
    userEnv,
    withHome,
    borg2: (args, extra = {}) => run([line.client, ...args], extra),
    tborg: (args, extra = {}) => run([process.execPath, TBORG, ...args], extra),
    repoListArgs: (repo) =>
      line.repoPrefix === 'repo-'
        ? ['repo-list', '--format', '{archive}{NL}', '-r', repo]
        : [`${line.repoPrefix}list`, '--short', '-r', repo],
    restOverSsh: servesRestOverSsh({ proto: 'ssh', host: '127.0.0.1' } as Location, 2, line.version),
  };
}
