import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { splitArguments } from '../../src/cli/tborg-options.js';
import { TBORG_VERSION } from '../../src/cli/version.js';

test('version constant matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(TBORG_VERSION, pkg.version);
});

const cases: Array<[string, string[], Record<string, string>, string[], Partial<ReturnType<typeof splitArguments>['options']>]> = [
  ['borg args untouched', ['create', '--stats', 'h:r::a', '/home'], {}, ['create', '--stats', 'h:r::a', '/home'], {}],
  ['option with =', ['--tborg-keepalive=5x3', 'list', 'r'], {}, ['list', 'r'], { keepalive: { interval: 5, countMax: 3 } }],
  ['option with separate value, anywhere', ['list', '--tborg-max-wait', '90', 'r'], {}, ['list', 'r'], { maxWait: 90 }],
  ['after -- belongs to borg', ['create', 'r::a', '--', '--tborg-quiet'], {}, ['create', 'r::a', '--', '--tborg-quiet'], { quiet: false }],
  ['env twin', ['list'], { TBORG_KEEPALIVE_MODE: 'warn', TBORG_QUIET: '1' }, ['list'], { keepaliveMode: 'warn', quiet: true }],
  [
    'command line beats env',
    ['--tborg-keepalive-mode', 'off', 'list'],
    { TBORG_KEEPALIVE_MODE: 'warn' },
    ['list'],
    { keepaliveMode: 'off' },
  ],
  ['server alive none', ['--tborg-server-alive=none'], {}, [], { serverAlive: null }],
  ['TBORG_HELP is not a setting', ['list'], { TBORG_HELP: '1' }, ['list'], { help: false }],
];

for (const [name, argv, env, borgArgs, expected] of cases) {
  test(`splitArguments: ${name}`, () => {
    const result = splitArguments(argv, env);
    assert.deepEqual(result.borgArgs, borgArgs);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(result.options[key as keyof typeof result.options], value, key);
    }
  });
}

const bad: Array<[string[], Record<string, string>, RegExp]> = [
  [['--tborg-nope'], {}, /unknown option --tborg-nope/],
  [['list'], { TBORG_KEEPALIVE: '10' }, /TBORG_KEEPALIVE: expected INTERVALxCOUNT/],
  [['list'], { TBORG_KEEPALIVE: '0x5' }, /TBORG_KEEPALIVE/],
  [['list'], { TBORG_KEEPALIVE: 'abc' }, /TBORG_KEEPALIVE/],
  [['--tborg-keepalive-mode', 'loud'], {}, /expected inject, warn or off/],
  [['--tborg-max-wait', '-3'], {}, /--tborg-max-wait: expected a whole number/],
  [['--tborg-max-wait'], {}, /needs a value/],
];
for (const [argv, env, message] of bad) {
  test(`splitArguments rejects ${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => {
    assert.throws(
      () => splitArguments(argv, env),
      (e: Error & { exitCode?: number }) => message.test(e.message) && e.exitCode === 2 && !e.message.includes('\n'),
    );
  });
}

test('help, version, serve and a bare borg skip the planner; everything else is planned', async () => {
  const { onlyPrintsOrServes } = await import('../../src/run/run-borg.js');
  const table: Array<[string[], boolean]> = [
    [[], true],
    [['--version'], true],
    [['-V'], true],
    [['create', '--help'], true],
    [['-h'], true],
    [['help', 'create'], true],
    [['serve', '--restrict-to-path', '/x'], true],
    [['create', 'r::a', '--', '--version'], false],
    [['create', 'r::a', '/x'], false],
    [['list', 'help'], false],
    [['--lock-wait', '5', 'list', 'r'], false],
  ];
  for (const [args, expected] of table) assert.equal(onlyPrintsOrServes(args), expected, JSON.stringify(args));
});
