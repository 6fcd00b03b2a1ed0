import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOwnCommandLine } from '../../src/cli/own-commands.js';
import { fastPlanArgs, PLAN_OPTION_NAMES, type PlanArgs } from '../../src/cli/own-command-words.js';

// `tborg plan`'s words are read by the one parser (own-commands.ts, yargs); the common shape
// `plan [--json] WORD...` (WORD not an option) is read without loading yargs (own-command-words.ts). Every row
// goes through yargs and must give what the row says; where the fast path takes a row, it must give
// exactly the same. So the fast path is an optimisation of the parser, not a second one.

type Expected = PlanArgs | 'help';
// [words after `plan`, what plan gets, whether the fast path takes it]
const rows: Array<[string[], Expected, boolean]> = [
  [['create', 'host:repo::a', '/x'], { json: false, borgArgs: ['create', 'host:repo::a', '/x'] }, true],
  [['--json', 'create', 'host:repo::a', '/x'], { json: true, borgArgs: ['create', 'host:repo::a', '/x'] }, true],
  // After borg's first word, --json and --help are borg's.
  [['list', '--json', 'repo'], { json: false, borgArgs: ['list', '--json', 'repo'] }, true],
  [['--json', 'list', '--json', 'repo'], { json: true, borgArgs: ['list', '--json', 'repo'] }, true],
  [['create', '--help'], { json: false, borgArgs: ['create', '--help'] }, true],
  [
    ['--json', 'create', '--json', '--help', '-v', '--stats'],
    { json: true, borgArgs: ['create', '--json', '--help', '-v', '--stats'] },
    true,
  ],
  // `--` and what follows it, as given (borg's argparse reads them).
  [['--json', 'create', 'r::a', '--', '--json', '-x'], { json: true, borgArgs: ['create', 'r::a', '--', '--json', '-x'] }, true],
  [['create', 'r::a', '--', '--'], { json: false, borgArgs: ['create', 'r::a', '--', '--'] }, true],
  [['--json', '--', 'create'], { json: true, borgArgs: ['--', 'create'] }, false],
  [['--', 'create', 'r::a'], { json: false, borgArgs: ['--', 'create', 'r::a'] }, false],
  // Numbers, and words that look like plan's options but are not, stay strings, in order.
  [['12', '0x1', '1e3', '-5'], { json: false, borgArgs: ['12', '0x1', '1e3', '-5'] }, true],
  [['json', '--json'], { json: false, borgArgs: ['json', '--json'] }, true],
  [
    [
      '--json',
      'create',
      'r::a',
      'café',
      'new\nline',
      'tab\there',
      '$HOME',
      "'",
      '"',
      '\\',
      ' ',
      '',
      '-',
      '--=x',
      '---',
      'a=b',
      '--json=false',
      '--no-json',
      '\u0000x',
      '\ud83d\ude00',
    ],
    {
      json: true,
      borgArgs: [
        'create',
        'r::a',
        'café',
        'new\nline',
        'tab\there',
        '$HOME',
        "'",
        '"',
        '\\',
        ' ',
        '',
        '-',
        '--=x',
        '---',
        'a=b',
        '--json=false',
        '--no-json',
        '\u0000x',
        '\ud83d\ude00',
      ],
    },
    true,
  ],
  [
    ['--json', 'with-lock', 'r', 'sh', '-c', 'echo "$1"', '--', 'x y'],
    { json: true, borgArgs: ['with-lock', 'r', 'sh', '-c', 'echo "$1"', '--', 'x y'] },
    true,
  ],
  // borg's options before its command are borg's (borg 2: -r REPO), with their values.
  [['-r', 'ssh://h/r', 'check'], { json: false, borgArgs: ['-r', 'ssh://h/r', 'check'] }, false],
  [['--json', '-r', 'ssh://h/r', 'check'], { json: true, borgArgs: ['-r', 'ssh://h/r', 'check'] }, false],
  [['--lock-wait', '5', '--json', 'create', 'r::a'], { json: false, borgArgs: ['--lock-wait', '5', '--json', 'create', 'r::a'] }, false],
  [['--lock-wait=5', '--json', 'create'], { json: false, borgArgs: ['--lock-wait=5', '--json', 'create'] }, false],
  [['--jsonx', 'create'], { json: false, borgArgs: ['--jsonx', 'create'] }, false],
  [['-', 'x'], { json: false, borgArgs: ['-', 'x'] }, false],
  // plan's own options, read by yargs: twice, negated, with a value, none at all.
  [[], { json: false, borgArgs: [] }, false],
  [['--json'], { json: true, borgArgs: [] }, false],
  [['--json', '--json', 'create'], { json: true, borgArgs: ['create'] }, false],
  [['--no-json', 'create'], { json: false, borgArgs: ['create'] }, false],
  [['--json', '--no-json', 'create'], { json: false, borgArgs: ['create'] }, false],
  [['--json=false', 'create'], { json: false, borgArgs: ['create'] }, false],
  [['--json=true', 'create'], { json: true, borgArgs: ['create'] }, false],
  [['--help'], 'help', false],
  [['--json', '--help', 'create', 'r::a'], 'help', false],
];

for (const [words, expected, fast] of rows) {
  test(`plan ${JSON.stringify(words)}: yargs${fast ? ' and the fast path' : ''} give ${JSON.stringify(expected)}`, async () => {
    const { call, output } = await parseOwnCommandLine(['plan', ...words]);
    if (expected === 'help') {
      assert.equal(call, undefined);
      assert.match(output, /^tborg plan \[--json\] BORG_ARGUMENTS\.\.\./);
    } else {
      assert.deepEqual(call, { command: 'plan', args: expected });
    }
    const quick = fastPlanArgs(words);
    if (fast) assert.deepEqual(quick, expected);
    else assert.equal(quick, undefined, 'the fast path leaves this shape to yargs');
  });
}

test('own-command-words.ts splits by exactly the options the parser declares for plan', async () => {
  const { output } = await parseOwnCommandLine(['plan', '--help']);
  const declared = [...output.matchAll(/^ {2}--([\w-]+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, [...PLAN_OPTION_NAMES].sort());
});
