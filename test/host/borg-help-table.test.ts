// Keeps src/borg/borg1-commands.ts and borg2-commands.ts honest against the borg actually installed:
// every command the installed borg (and borg2) offers must be in the table, and every option its
// --help lists must be in the table with the same arity (flag, one value, optional value). A
// missing value-taking option would make tborg take that option's value for the repository.
//
// The help pages come from borg's own parser in one Python process (readHelpPages).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BORG1_COMMANDS, BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS } from '../../src/borg/borg1-commands.js';
import { BORG2_COMMANDS, BORG2_COMMON_OPTIONS, BORG2_TOP_ONLY_OPTIONS } from '../../src/borg/borg2-commands.js';
import type { CommandSpec } from '../../src/borg/command-spec.js';
import { parseBorgVersion } from '../../src/borg/borg-version.js';
import { borg2Generation } from '../../src/borg/location.js';
import { BORG_LAUNCHER_PREAMBLE } from '../helpers/borg-launcher.js';

type Arity = 0 | 1 | '?';

interface HelpPage {
  options: Map<string, Arity>;
  // `<command>` choices of a parser that has subcommands.
  commands: string[];
  usage: string;
  hasPositionals: boolean;
}

// Every help page of the installed borg in one Python process: the launcher's preamble, then borg's
// own parser (Archiver.build_parser) and each subparser's format_help(), which is what `borg CMD
// --help` prints (argparse's help action calls print_help). One Python start instead of one per
// command (~0.3 s each, over 100 commands per borg). A wide COLUMNS keeps argparse from wrapping the
// usage line; BORG_FUSE_IMPL=none skips importing pyfuse3/trio (fuse_impl.py), the parser (mount
// included) is the same. Keys: '' for the top level, 'create', 'key export', ...
const HELP_PAGES = String.raw`
import sys, json
${BORG_LAUNCHER_PREAMBLE}
from borg.archiver import Archiver

def subparsers(parser):
    for action in parser._actions:
        if hasattr(action, '_name_parser_map'):
            return action._name_parser_map
    return {}

top = Archiver().build_parser()
pages = {'': top.format_help()}
for name, parser in subparsers(top).items():
    pages[name] = parser.format_help()
    for sub, subparser in subparsers(parser).items():
        pages[name + ' ' + sub] = subparser.format_help()
print(json.dumps({'version': borg.__version__, 'pages': pages}))
`;

interface HelpPages {
  version: string;
  page(path: readonly string[]): string;
}

function readHelpPages(bin: string): Promise<HelpPages> {
  const launcher = findOnPath(bin)!;
  const python = /^#!\s*(\S+)/.exec(readFileSync(launcher, 'utf8').split('\n', 1)[0] ?? '')?.[1];
  assert.ok(python && /python/.test(python), `${launcher} is not a Python launcher`);
  const env = { ...process.env, COLUMNS: '2000', LC_ALL: 'C.UTF-8', BORG_FUSE_IMPL: 'none' };
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', HELP_PAGES, launcher], { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${bin}'s help pages: ${error.message}\n${stderr}`));
      const answer = JSON.parse(stdout) as { version: string; pages: Record<string, string> };
      resolve({
        version: answer.version,
        page(path) {
          const text = answer.pages[path.join(' ')];
          assert.ok(text !== undefined, `${bin} ${path.join(' ')}: no such parser`);
          return text;
        },
      });
    });
  });
}

// argparse prints each option as "  -e PATTERN, --exclude PATTERN   help..." (the invocation ends at
// two spaces or the line's end); an uppercase METAVAR means one value, [METAVAR] an optional one,
// {a,b} a choice. Requiring that shape keeps epilog prose ("  --repository-only option.") out.
const OPTION = String.raw`-{1,2}[A-Za-z0-9][-A-Za-z0-9_]*(?: (?:[A-Z][A-Z0-9_]*|\[[A-Z][A-Z0-9_]*\]|\{[^ }]*\}))?`;
const OPTION_LINE = new RegExp(`^ {2}(${OPTION}(?:, ${OPTION})*)(?: {2,}|$)`);

export function parseHelp(text: string): HelpPage {
  const options = new Map<string, Arity>();
  const commands: string[] = [];
  const lines = text.split('\n');
  let inCommands = false;
  for (const line of lines) {
    if (line.startsWith('  <command>')) {
      inCommands = true;
      continue;
    }
    if (inCommands) {
      const m = /^ {4}([a-z][a-z0-9-]*)(?: |$)/.exec(line);
      if (m) {
        commands.push(m[1]!);
        continue;
      }
      inCommands = false;
    }
    const m = OPTION_LINE.exec(line);
    if (!m) continue;
    // One line is one argparse action, so all its option strings share one arity. Python < 3.13
    // prints the METAVAR after each of them ("-e PATTERN, --exclude PATTERN"), 3.13+ only after the
    // last ("-e, --exclude PATTERN"; Debian 13's borg 1.4.0 and borg2 b19).
    const parts = m[1]!.split(', ').map((part) => part.split(' '));
    const metavar = parts.map(([, v]) => v).find((v) => v !== undefined);
    const arity: Arity = metavar === undefined ? 0 : metavar.startsWith('[') ? '?' : 1;
    for (const [name] of parts) options.set(name!, arity);
  }
  const usage = (lines[0] ?? '').trim();
  return { options, commands, usage, hasPositionals: lines.includes('positional arguments:') };
}

function tableOptions(texts: readonly string[]): Map<string, Arity> {
  const map = new Map<string, Arity>();
  for (const text of texts) {
    const words = text.split(' ');
    const metavar = words.find((w) => !w.startsWith('-'));
    for (const w of words) if (w.startsWith('-')) map.set(w, metavar === undefined ? 0 : metavar.startsWith('[') ? '?' : 1);
  }
  return map;
}

// The usage tail argparse prints for the table's positionals (HelpFormatter._format_args, 3.9+).
function usagePositionals(positionals: readonly string[]): string {
  return positionals
    .map((p) => {
      if (p.endsWith('...')) return '...';
      const name = p.replace(/[?*+]$/, '');
      if (p.endsWith('?')) return `[${name}]`;
      if (p.endsWith('*')) return `[${name} ...]`;
      if (p.endsWith('+')) return `${name} [${name} ...]`;
      return name;
    })
    .join(' ');
}

function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(`${dir || '.'}/${bin}`, constants.X_OK);
      return `${dir || '.'}/${bin}`;
    } catch {
      // next
    }
  }
  return undefined;
}

interface Flavour {
  bin: string;
  commands: Readonly<Record<string, CommandSpec>>;
  common: readonly string[];
  topOnly: readonly string[];
  // Positionals that the installed version (by its own --version) has differently from the newest
  // version the table describes; keyed by command, the installed usage tail.
  knownPositionalDifferences: (version: string) => Readonly<Record<string, string>>;
}

const FLAVOURS: Flavour[] = [
  {
    bin: 'borg',
    commands: BORG1_COMMANDS,
    common: BORG1_COMMON_OPTIONS,
    topOnly: BORG1_TOP_ONLY_OPTIONS,
    knownPositionalDifferences: () => ({}),
  },
  {
    bin: 'borg2',
    commands: BORG2_COMMANDS,
    common: BORG2_COMMON_OPTIONS,
    topOnly: BORG2_TOP_ONLY_OPTIONS,
    knownPositionalDifferences: (version) => {
      const beta = borg2Generation(version);
      return {
        // Before 2.0.0b10 these took no archive name; b10+ take an optional NAME.
        ...(beta < 10 ? { delete: '', info: '', prune: '' } : {}),
        // 2.0.0b5's debug put-obj took PATH [PATH ...] (b6+: ID PATH, archiver/debug_cmd.py).
        ...(beta < 6 ? { 'debug put-obj': 'PATH [PATH ...]' } : {}),
      };
    },
  },
];

// borg and borg2 are checked at the same time, each in its own Python process.
describe('installed borg --help against src/borg/borg1-commands.ts and borg2-commands.ts', { concurrency: true }, () => {
  for (const flavour of FLAVOURS) {
    test(`${flavour.bin} --help of every command matches the table`, {
      skip: !findOnPath(flavour.bin) && `${flavour.bin} not installed`,
    }, async () => {
      const help = await readHelpPages(flavour.bin);
      const top = parseHelp(help.page([]));
      const version = parseBorgVersion(`borg ${help.version}`);
      assert.ok(version, `${flavour.bin}'s version ${help.version}`);
      const positionalDifferences = flavour.knownPositionalDifferences(version.version);
      const common = tableOptions(flavour.common);
      const topOptions = tableOptions([...flavour.topOnly, ...flavour.common]);
      const problems: string[] = [];
      const compare = (where: string, page: HelpPage, table: Map<string, Arity>): void => {
        for (const [name, arity] of page.options) {
          const mine = table.get(name);
          if (mine === undefined) problems.push(`${where}: ${name} (${arity === 0 ? 'flag' : 'takes a value'}) is missing from the table`);
          else if (mine !== arity) problems.push(`${where}: ${name} has arity ${String(arity)} in borg, ${String(mine)} in the table`);
        }
      };
      compare(`${flavour.bin}`, top, topOptions);

      // Mid commands (key, debug, benchmark) list their own subcommands.
      const mids = top.commands.filter((c) => flavour.commands[c]?.subcommands);
      const midPages = mids.map((m) => parseHelp(help.page([m])));
      const leaves: string[][] = [];
      for (const c of top.commands) if (!flavour.commands[c]?.subcommands) leaves.push([c]);
      mids.forEach((m, i) => {
        compare(`${flavour.bin} ${m}`, midPages[i]!, common);
        for (const sub of midPages[i]!.commands) leaves.push([m, sub]);
      });
      for (const path of leaves) {
        if (!flavour.commands[path.join(' ')]) problems.push(`${flavour.bin} ${path.join(' ')}: command missing from the table`);
      }
      const known = leaves.filter((p) => flavour.commands[p.join(' ')]);
      assert.ok(known.length > 20, `only ${known.length} commands found in ${flavour.bin}'s help`);

      const pages = known.map((path) => parseHelp(help.page(path)));
      known.forEach((path, i) => {
        const key = path.join(' ');
        const spec = flavour.commands[key]!;
        const page = pages[i]!;
        const table = new Map([...common, ...tableOptions(spec.options)]);
        compare(`${flavour.bin} ${key}`, page, table);
        // A table option borg also has must agree (checked above); one borg lacks is another version's.
        const tail = positionalDifferences[key] ?? usagePositionals(spec.positionals ?? []);
        const usage = page.usage;
        const ok = tail === '' ? !page.hasPositionals : usage.endsWith(` ${tail}`);
        if (!ok)
          problems.push(
            `${flavour.bin} ${version.version} ${key}: usage "${usage.slice(-80)}" does not end with the table's positionals "${tail}"`,
          );
      });
      assert.deepEqual(problems, []);
    });
  }
});

test('parseHelp reads argparse option lines', () => {
  const page = parseHelp(
    [
      'usage: borg create [-h] ARCHIVE [PATH ...]',
      '',
      'options:',
      '  -e PATTERN, --exclude PATTERN',
      '                        exclude paths matching PATTERN',
      '  --recompress [MODE]   recompress data chunks',
      '  --info, -v, --verbose',
      '  -s, --stats           print statistics',
      '  -C, --compression COMPRESSION',
      '                        select compression algorithm (Python 3.13+ prints the METAVAR once)',
      '',
      'required arguments:',
      '  <command>',
      '    break-lock          break repository and cache locks',
      '    with-lock           run user command with lock held',
      '',
      'Examples:',
      '  - a bullet in the epilog',
    ].join('\n'),
  );
  assert.deepEqual(Object.fromEntries(page.options), {
    '-e': 1,
    '--exclude': 1,
    '--recompress': '?',
    '--info': 0,
    '-v': 0,
    '--verbose': 0,
    '-s': 0,
    '--stats': 0,
    '-C': 1,
    '--compression': 1,
  });
  assert.deepEqual(page.commands, ['break-lock', 'with-lock']);
  assert.equal(usagePositionals(['ARCHIVE', 'PATH*', 'X?', 'Y+', 'ARGS...']), 'ARCHIVE [PATH ...] [X] Y [Y ...] ...');
});
