// Every borg of the version matrix (test/lab/borgs.ts: the machine's borg and borg2, and those of the
// lab's Debian roots, e.g. sid's 1.4.5 and 2.0.0b25) says with its own code which commands it has,
// which repository lock each takes and whether it lets --bypass-lock through; the grammar tables
// (src/borg/borg1-commands.ts, borg2-commands.ts) must say the same for that borg's version
// (src/borg/command-facts.ts commandFacts).
//
// The lock is read from the command's function: @with_repository(lock=..., exclusive=...) keeps its
// arguments in the wrapper's closure (borg 1.x archiver.py, borg 2 archiver/_common.py). --bypass-lock
// is asked of Archiver.parse_args itself, with a stand-in parser that returns a line of that command
// with the option given (parse_args then raises "Not allowed to bypass locking mechanism" or not).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { BORG1_COMMANDS } from '../../src/borg/borg1-commands.js';
import { BORG2_COMMANDS } from '../../src/borg/borg2-commands.js';
import { commandFacts } from '../../src/borg/command-facts.js';
import { isInBetas } from '../../src/borg/command-spec.js';
import { borg2Generation } from '../../src/borg/location.js';
import { BORG_LAUNCHER_PREAMBLE, launcherOf } from '../helpers/borg-launcher.js';
import { borgLines, inLine } from '../lab/borgs.js';

const ORACLE = String.raw`
import sys, json, inspect, argparse
${BORG_LAUNCHER_PREAMBLE}
from borg.archiver import Archiver

def subparsers(parser):
    for action in parser._actions:
        if hasattr(action, '_name_parser_map'):
            return action._name_parser_map
    return {}

def lock_of(func):
    f = getattr(func, '__func__', func)
    while f is not None:
        try:
            cv = inspect.getclosurevars(f).nonlocals
        except TypeError:
            cv = {}
        # with_repository(lock=..., exclusive=...); 1.2 names the lock flag "_lock" inside.
        lock = cv.get('lock', cv.get('_lock'))
        if 'exclusive' in cv and lock is not None:
            if not lock:
                return 'none'
            return 'exclusive' if cv['exclusive'] is True else 'shared'
        f = getattr(f, '__wrapped__', None)
    return 'none'

class Loose(argparse.Namespace):
    def __getattr__(self, name):
        return None

class FakeParser:
    def __init__(self, ns):
        self.ns = ns
        self.common_options = self
    def parse_args(self, args):
        return self.ns
    def resolve(self, args):
        pass
    def error(self, message):
        raise SystemExit(message)

archiver = Archiver()
top = archiver.build_parser()
has_bypass = '--bypass-lock' in top._option_string_actions

def bypass_of(func):
    ns = Loose(func=func, lock=False, paths=['x'])
    real = archiver.build_parser
    archiver.build_parser = lambda: FakeParser(ns)
    try:
        archiver.parse_args(['x'])
        return 'allowed'
    except SystemExit as e:
        return 'error: %s' % e
    except Exception as e:
        return 'refused' if 'Not allowed to bypass' in str(e) else 'allowed'
    finally:
        archiver.build_parser = real

commands = {}
def walk(parser, path):
    for name, sub in subparsers(parser).items():
        words = path + [name]
        children = subparsers(sub)
        # argparse's set_defaults(func=...) (borg 1.x, 2.0.0b5..b20); jsonargparse (b21+) sets none and
        # borg dispatches by the command's name (do_repo_list, do_key_change_location).
        func = sub._defaults.get('func')
        for candidate in ('do_' + '_'.join(words).replace('-', '_'), 'do_' + name.replace('-', '_')):
            if func is None and not children:
                func = getattr(archiver, candidate, None)
        if children:
            commands[' '.join(words)] = {'group': True, 'lock': 'none', 'bypass': None}
            walk(sub, words)
            continue
        target = func
        if getattr(func, '__name__', '') == 'do_mount' and hasattr(archiver, '_do_mount'):
            target = archiver._do_mount  # do_mount checks the mountpoint, then opens the repository in _do_mount
        commands[' '.join(words)] = {
            'group': False,
            'lock': lock_of(target) if func is not None else 'none',
            'bypass': bypass_of(func) if has_bypass and func is not None else None,
        }
walk(top, [])
print(json.dumps({'version': borg.__version__, 'commands': commands}))
`;

interface Answer {
  version: string;
  // By the command's words; group: it only selects a subcommand (key, debug, benchmark).
  commands: Record<string, { group: boolean; lock: 'exclusive' | 'shared' | 'none'; bypass: string | null }>;
}

// The borg 1.x table is the union of 1.1.18, 1.2.4 and 1.4.5: the commands only some of them have.
const BORG1_ONLY_IN: Readonly<Record<string, RegExp>> = {
  'change-passphrase': /^1\.1\./, // 1.2 has only `key change-passphrase`
  'key export-related-secrets': /^1\.4\.[1-9]/, // not in Debian 13's 1.4.0; in 1.4.5
  version: /^1\.4\./,
};
// Where the table's lock is not what the command's own decorator says, and why.
function knownLockDifference(command: string, major: 1 | 2, borg: string, table: string): string | null {
  // do_benchmark_crud has no decorator: it runs create, extract and delete in turn, which lock.
  if (command === 'benchmark crud' && borg === 'none') return 'benchmark crud locks as the commands it runs';
  // 2.0.0b10-b19 take a shared lock; b25 (and master) an exclusive one; tborg assumes the exclusive one.
  if (major === 2 && command === 'repo-compress' && borg === 'shared' && table === 'exclusive') return 'repo-compress: exclusive from b2x';
  return null;
}

for (const line of borgLines()) {
  test(`${line.name} ${line.version}: its own code and the command table agree on the commands, their locks and --bypass-lock`, () => {
    const found = launcherOf(line);
    assert.equal(typeof found, 'object', String(found));
    const { launcher, python } = found as { launcher: string; python: string };
    const argv = inLine(line, [python, '-c', ORACLE, launcher]);
    const env = { ...process.env, BORG_FUSE_IMPL: 'none' };
    const answer = JSON.parse(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, maxBuffer: 16 << 20 })) as Answer;
    assert.equal(answer.version, line.version);
    const table = line.major === 1 ? BORG1_COMMANDS : BORG2_COMMANDS;
    const beta = line.major === 2 ? borg2Generation(line.version) : null;
    const tableHas = Object.keys(table).filter((c) => isInBetas(table[c]!.betas, beta));
    const borgHas = Object.keys(answer.commands);
    const problems: string[] = [];

    for (const c of borgHas) {
      if (!tableHas.includes(c)) problems.push(`${c}: borg has it, the table (at this version) does not`);
    }
    const otherBorg1 = (c: string): boolean => line.major === 1 && c in BORG1_ONLY_IN && !BORG1_ONLY_IN[c]!.test(line.version);
    for (const c of tableHas) {
      if (!borgHas.includes(c) && !otherBorg1(c)) problems.push(`${c}: the table has it at this version, borg does not`);
    }
    for (const c of borgHas.filter((c) => tableHas.includes(c))) {
      const mine = commandFacts(line.major, line.version, c.split(' '))!;
      const theirs = answer.commands[c]!;
      if (Boolean(table[c]!.subcommands) !== theirs.group) problems.push(`${c}: a group of subcommands in one and not the other`);
      if (mine.lock !== theirs.lock && !knownLockDifference(c, line.major, theirs.lock, mine.lock)) {
        problems.push(`${c}: lock ${theirs.lock} in borg, ${mine.lock} in the table`);
      }
      if (theirs.bypass !== null) {
        if (theirs.bypass !== 'allowed' && theirs.bypass !== 'refused') problems.push(`${c}: --bypass-lock oracle said ${theirs.bypass}`);
        else if ((theirs.bypass === 'allowed') !== mine.bypassLock)
          problems.push(`${c}: --bypass-lock ${theirs.bypass} by borg, ${mine.bypassLock ? 'allowed' : 'refused'} by the table`);
      }
    }
    assert.deepEqual(problems, []);
    // The oracle must have seen what it checks: locks of each kind, and --bypass-lock where borg has it.
    const kinds = new Set(Object.values(answer.commands).map((c) => c.lock));
    assert.deepEqual([...kinds].sort(), ['exclusive', 'none', 'shared']);
    if (line.major === 1 || (beta !== null && beta <= 9)) {
      assert.ok(Object.values(answer.commands).some((c) => c.bypass === 'allowed'));
      assert.ok(Object.values(answer.commands).some((c) => c.bypass === 'refused'));
    }
  });
}
