// The rows of test/helpers/command-line-rows.ts through the installed borg's and borg2's own argument
// parsing (Archiver.parse_args, in one Python process each): they must agree with parseBorgCommandLine
// on the repository, --rsh, --lock-wait, --log-json, --remote-path and on whether borg accepts the line.

import { BORG_LAUNCHER_PREAMBLE } from '../helpers/borg-launcher.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseBorgVersion } from '../../src/borg/borg-version.js';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { borg2Generation } from '../../src/borg/location.js';
import { rows, type Expect } from '../helpers/command-line-rows.js';

// ------------------------------------------------------------------------------------------------
// The same rows through the installed borg's own parser.

// Runs Archiver.parse_args for every case inside the Python that runs the installed borg: the
// launcher script's own preamble is executed first (borg2's puts /usr/lib/borgbackup2 on sys.path).
// One parser per environment (borg 2 reads BORG_REPO while building it); argparse hands out default
// lists by reference and borg's --pattern action appends to them, so they are renewed per case.
const ORACLE = String.raw`
import sys, json, os, io, contextlib
${BORG_LAUNCHER_PREAMBLE}
from borg.archiver import Archiver

def walk(parser):
    yield parser
    for action in parser._actions:
        if hasattr(action, '_name_parser_map'):
            for sub in action._name_parser_map.values():
                yield from walk(sub)

def fresh_defaults(parser):
    for p in walk(parser):
        saved = p.__dict__.setdefault('_oracle_saved', (
            {k: list(v) for k, v in p._defaults.items() if isinstance(v, list)},
            [(a, list(a.default)) for a in p._actions if isinstance(a.default, list)]))
        for k, v in saved[0].items():
            p._defaults[k] = list(v)
        for a, v in saved[1]:
            a.default = list(v)
        # borg 2's Highlander ("There can be only one.", b6+) remembers in the action that it ran.
        for a in p._actions:
            if hasattr(a, '_Highlander__called'):
                a._Highlander__called = False

def one(a, argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            args = a.parse_args(list(argv))
        except SystemExit as e:
            return {'exit': e.code, 'message': (err.getvalue().strip().splitlines() or [''])[-1]}
    r = {}
    for attr, key in (('location', 'location'), ('other_location', 'other')):
        loc = getattr(args, attr, None)
        ok = loc is not None and getattr(loc, 'proto', None) is not None
        r[key] = {k: getattr(loc, k, None) for k in ('proto', 'user', 'host', 'port', 'path', 'archive')} if ok else None
    for k in ('rsh', 'lock_wait', 'log_json', 'remote_path'):
        v = getattr(args, k, None)
        r[k] = v if isinstance(v, (str, int, bool, type(None))) else repr(v)
    return r

def lock_wait_default():
    # What a line without --lock-wait resolves to (CommonOptions fill in the default at the end).
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return Archiver().parse_args(['break-lock'] + (['/x'] if borg.__version__.startswith('1.') else [])).lock_wait

def newer_argparse():
    # Python 3.13's _match_arguments_partial: an empty '*' positional before an option is left for later.
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('a')
    p.add_argument('b', nargs='*')
    p.add_argument('-e')
    return p.parse_known_args(['x', '-e', 'y', 'z'])[1] == []

for k in ('BORG_REPO', 'BORG_OTHER_REPO'):
    os.environ.pop(k, None)
defaults = (lock_wait_default(), newer_argparse())
out = []
archivers = {}
for case in json.load(sys.stdin):
    for k in ('BORG_REPO', 'BORG_OTHER_REPO'):
        os.environ.pop(k, None)
    os.environ.update(case['env'])
    key = (os.environ.get('BORG_REPO'), os.environ.get('BORG_OTHER_REPO'))
    if key not in archivers:
        a = Archiver()
        try:
            parser = a.build_parser()
            a.build_parser = lambda parser=parser: parser
            archivers[key] = a
        except BaseException as e:
            archivers[key] = e
    a = archivers[key]
    if isinstance(a, BaseException):
        out.append({'exception': repr(a)})
        continue
    fresh_defaults(a.build_parser())
    try:
        out.append(one(a, case['argv']))
    except BaseException as e:
        out.append({'exception': repr(e)})
print(json.dumps({'version': borg.__version__, 'lockWaitDefault': defaults[0], 'newerArgparse': defaults[1], 'results': out}))
`;

interface OracleResult {
  exit?: number;
  message?: string;
  exception?: string;
  location?: Record<string, unknown> | null;
  other?: Record<string, unknown> | null;
  rsh?: string | null;
  lock_wait?: number;
  log_json?: boolean;
  remote_path?: string | null;
}

function findLauncher(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = `${dir || '.'}/${bin}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return undefined;
}

interface OracleAnswer {
  version: string;
  // --lock-wait when not given (borg 1.x and 2.0.0b5: 1; b6+: BORG_LOCK_WAIT or 10).
  lockWaitDefault: number;
  newerArgparse: boolean;
  results: OracleResult[];
}

function askBorg(bin: string, cases: ReadonlyArray<{ argv: string[]; env: NodeJS.ProcessEnv }>): OracleAnswer | string {
  const launcher = findLauncher(bin);
  if (!launcher) return `${bin} not installed`;
  const shebang = /^#!\s*(\S+)/.exec(readFileSync(launcher, 'utf8').split('\n', 1)[0] ?? '');
  if (!shebang || !/python/.test(shebang[1]!)) return `${launcher} is not a Python launcher`;
  try {
    const out = execFileSync(shebang[1]!, ['-c', ORACLE, launcher], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      env: { ...process.env, BORG_FUSE_IMPL: 'none' },
      maxBuffer: 64 << 20,
    });
    return JSON.parse(out) as OracleAnswer;
  } catch (error) {
    return `could not run borg's parser: ${(error as Error).message.split('\n')[0]}`;
  }
}

function pick(l: Record<string, unknown> | null | undefined, major: 1 | 2): Record<string, unknown> | null {
  if (!l) return null;
  const { proto, user, host, port, path, archive } = l;
  return major === 1 ? { proto, user, host, port, path, archive } : { proto, user, host, port, path };
}

// The installed borg2's beta, asked before its parser is (rows are chosen by it).
function installedBeta(bin: string): number | null {
  const launcher = findLauncher(bin);
  if (!launcher) return null;
  try {
    const version = parseBorgVersion(
      execFileSync(launcher, ['--version'], { encoding: 'utf8', env: { ...process.env, BORG_FUSE_IMPL: 'none' } }),
    );
    return version ? borg2Generation(version.version) : null;
  } catch {
    return null;
  }
}

for (const major of [1, 2] as const) {
  const bin = major === 1 ? 'borg' : 'borg2';
  const beta = major === 2 ? installedBeta(bin) : null;
  const forThisBeta = (e: Expect): boolean =>
    e.oracleBetas === undefined || (beta !== null && beta >= (e.oracleBetas.since ?? 0) && beta <= (e.oracleBetas.until ?? Infinity));
  const mine = rows.filter((r) => r.major === major && r.expect.oracle === undefined && forThisBeta(r.expect));
  const answer = askBorg(
    bin,
    mine.map((r) => ({ argv: r.argv, env: r.env })),
  );
  test(`the installed ${bin}'s own parser agrees with the table`, { skip: typeof answer === 'string' ? answer : false }, () => {
    if (typeof answer === 'string') return;
    const problems: string[] = [];
    mine.forEach((row, i) => {
      const o = answer.results[i]!;
      const r = parseBorgCommandLine(row.argv, row.env, major, { ...row.options, version: answer.version });
      const where = `${bin} ${row.line}`;
      // Exit 0 is help or --version; an exception is borg refusing the line after argparse.
      const theirs = o.exception !== undefined || o.exit === 2 ? 'rejected' : o.exit === 0 ? 'help' : 'runs';
      let ours = r.invalid !== null ? 'rejected' : r.helpOrVersion ? 'help' : 'runs';
      // Such a row must be rejected by an older argparse: then borg rejects what tborg runs.
      if (row.expect.olderPythonRejects && !answer.newerArgparse && ours === 'runs') ours = 'rejected';
      // borg's parser returns for `borg`, `borg key` etc. and prints help afterwards.
      const printsHelpLater = theirs === 'runs' && r.helpOrVersion && r.invalid === null;
      if (theirs !== ours && !printsHelpLater)
        problems.push(`${where}: borg ${theirs} (${o.message ?? o.exception ?? ''}), tborg ${ours} (${r.invalid ?? ''})`);
      if (theirs !== 'runs' || ours !== 'runs') return;
      const repo = r.opensRepository || r.repository ? pick(r.repository?.location as unknown as Record<string, unknown>, major) : null;
      const wanted = r.repository === null && !r.opensRepository ? null : pick(o.location, major);
      if (JSON.stringify(repo) !== JSON.stringify(wanted))
        problems.push(`${where}: repository ${JSON.stringify(wanted)} in borg, ${JSON.stringify(repo)} in tborg`);
      if (major === 2 && r.otherRepository) {
        const other = pick(r.otherRepository.location as unknown as Record<string, unknown>, 2);
        if (JSON.stringify(other) !== JSON.stringify(pick(o.other, 2)))
          problems.push(`${where}: other repository ${JSON.stringify(o.other)} in borg`);
      }
      if ((r.rsh?.value ?? null) !== o.rsh) problems.push(`${where}: --rsh ${o.rsh} in borg, ${r.rsh?.value} in tborg`);
      if ((r.lockWait ?? answer.lockWaitDefault) !== o.lock_wait)
        problems.push(`${where}: --lock-wait ${o.lock_wait} in borg, ${r.lockWait} in tborg`);
      if (r.logJson !== o.log_json) problems.push(`${where}: --log-json ${o.log_json} in borg`);
      if (r.remotePath !== o.remote_path) problems.push(`${where}: --remote-path ${o.remote_path} in borg`);
    });
    assert.deepEqual(problems, []);
  });
}
