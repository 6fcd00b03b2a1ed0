// The options of borg2's top-level parser, as each borg2 of the version matrix prints them in its
// usage (the machine's 2.0.0b5, trixie's b19, sid's b25; test/lab/borgs.ts), against the grammar
// tborg replays for that version (src/borg/argparse-grammar.ts grammar(2, beta), the tables of
// src/borg/borg2-commands.ts): the same options, no more and no fewer, each with the same arity.
// An option the running borg2 lacks (2.0.0b23 dropped --rsh and --remote-path) must be an unknown
// word to tborg as well, or tborg would plan with a --rsh that borg refuses.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { grammar, type Arity } from '../../src/borg/argparse-grammar.js';
import { borg2Generation } from '../../src/borg/location.js';
import { borgLines, inLine } from '../lab/borgs.js';

// argparse's usage names each action by its first option string, with its METAVAR: "[-r REPO]",
// "[--socket [PATH]]", "[-p]"; jsonargparse (2.0.0b21+) prints "[--print_config \b[=flags]]" (a
// backspace joins its optional value to the option on a terminal).
function usageOptions(usage: string): Map<string, Arity> {
  const options = new Map<string, Arity>();
  for (const m of usage.replaceAll('\b', '').matchAll(/\[(-{1,2}[A-Za-z][-A-Za-z_]*)(?: (\[[^\]]*\]|[^\]\s]+))?\]/g)) {
    options.set(m[1]!, m[2] === undefined ? 0 : m[2].startsWith('[') ? '?' : 1);
  }
  return options;
}

test('usageOptions reads argparse and jsonargparse usage lines', () => {
  const got = usageOptions(
    'usage: borg2 [--config CONFIG] [--print_config \b[=flags]] [-V] [-p] [--socket [PATH]] [-r REPO] <command> ...',
  );
  assert.deepEqual(Object.fromEntries(got), { '--config': 1, '--print_config': '?', '-V': 0, '-p': 0, '--socket': '?', '-r': 1 });
});

for (const line of borgLines().filter((l) => l.major === 2)) {
  test(`${line.name} ${line.version}: its top-level options are tborg's grammar for ${line.version}`, () => {
    const argv = inLine(line, [line.client, '--help']);
    // A wide terminal keeps argparse from wrapping the usage over several lines.
    const help = execFileSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '4000', BORG_FUSE_IMPL: 'none' },
    });
    const usage = help.slice(0, help.indexOf('<command>'));
    const borg = usageOptions(usage);
    assert.ok(borg.has('-r') && borg.has('--lock-wait'), usage);
    const top = grammar(2, borg2Generation(line.version));
    const mine = new Map<string, Arity>();
    for (const action of top.options.values()) mine.set(action.id, action.arity);
    const show = (m: Map<string, Arity>): string[] => [...m].map(([k, v]) => `${k} ${String(v)}`).sort();
    assert.deepEqual(show(mine), show(borg));
  });
}
