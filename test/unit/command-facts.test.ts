import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BORG1_COMMANDS } from '../../src/borg/borg1-commands.js';
import { BORG2_COMMANDS } from '../../src/borg/borg2-commands.js';
import { commandFacts } from '../../src/borg/command-facts.js';
import type { CommandSpec } from '../../src/borg/command-spec.js';

// The grammar tables are the one place tborg keeps what it knows of each borg command. These tests
// hold them: every row decides every fact, and commandFacts reads a row for a borg's version.
// test/unit/command-lists.test.ts pins the lists tborg kept before; test/host/command-table-oracle.test.ts
// asks the borgs themselves.

const TABLES = [
  [1, BORG1_COMMANDS],
  [2, BORG2_COMMANDS],
] as const;

// The rows of a table, with the words each is keyed by.
function rowsOf(table: Readonly<Record<string, CommandSpec>>): Array<[string, CommandSpec]> {
  return Object.entries(table);
}

for (const [major, table] of TABLES) {
  test(`borg${major === 2 ? '2' : ''}: every command decides every fact`, () => {
    const undecided: string[] = [];
    for (const [command, spec] of rowsOf(table)) {
      const lock = spec.lock;
      const lockKinds = typeof lock === 'string' ? [lock] : [lock.before, lock.after];
      const checks: Array<[string, boolean]> = [
        ['stdout', typeof spec.stdout === 'boolean'],
        ['monitor', ['backup', 'maintenance', 'none'].includes(spec.monitor)],
        ['lock', lockKinds.every((k) => ['exclusive', 'shared', 'none'].includes(k))],
        ['lock.until', typeof lock === 'string' || Number.isInteger(lock.until)],
        ['bypassLock', typeof spec.bypassLock === 'boolean'],
        ['retry', typeof spec.retry === 'function' || (typeof spec.retry === 'string' && spec.retry.length > 0)],
      ];
      for (const [fact, ok] of checks) if (!ok) undecided.push(`${command}: ${fact}`);
    }
    assert.deepEqual(undecided, []);
  });
}

test('commandFacts: a command this borg lacks (by major or beta) has no facts', () => {
  assert.equal(commandFacts(1, '1.2.4', []), null, 'borg --version');
  assert.equal(commandFacts(1, '1.2.4', ['repo-list']), null);
  assert.equal(commandFacts(2, '2.0.0b25', ['rlist']), null);
  assert.equal(commandFacts(2, '2.0.0b5', ['repo-list']), null);
  assert.equal(commandFacts(2, '2.0.0b5', ['rlist'])?.command, 'rlist');
  assert.equal(commandFacts(2, null, ['rlist'])?.command, 'rlist', 'unknown beta: any command of the table');
  assert.equal(commandFacts(2, '2.0.0b25', ['toString']), null, 'no inherited property is a command');
});

test('commandFacts: a fact that changed between betas is resolved for the beta (create: 1.x locks up to b9, store locks after)', () => {
  assert.equal(commandFacts(2, '2.0.0b5', ['create'])?.lock, 'exclusive');
  assert.equal(commandFacts(2, '2.0.0b9', ['create'])?.lock, 'exclusive');
  assert.equal(commandFacts(2, '2.0.0b10', ['create'])?.lock, 'shared');
  assert.equal(commandFacts(2, '2.0.0rc1', ['create'])?.lock, 'shared');
  assert.equal(commandFacts(2, null, ['create'])?.lock, 'shared', 'unknown beta: the newer value');
  assert.equal(commandFacts(1, '1.2.4', ['create'])?.lock, 'exclusive');
  assert.equal(commandFacts(1, '1.2.4', ['list'])?.lock, 'shared');
  assert.equal(commandFacts(1, '1.2.4', ['break-lock'])?.lock, 'none');
});

test('commandFacts: the commands 2.0.0b22..b24 added exist from their first beta on, each with a shared lock', () => {
  const firstBeta: Array<[string[], number]> = [
    [['key', 'add'], 22],
    [['key', 'list'], 22],
    [['key', 'remove'], 22],
    [['find'], 23],
    [['webdav'], 23],
    [['copy'], 24],
  ];
  for (const [command, since] of firstBeta) {
    const what = command.join(' ');
    assert.equal(commandFacts(2, `2.0.0b${since - 1}`, command), null, `${what} is not in b${since - 1}`);
    for (const beta of [since, 25]) {
      const facts = commandFacts(2, `2.0.0b${beta}`, command);
      assert.equal(facts?.command, what, `${what} in b${beta}`);
      assert.equal(facts.lock, 'shared', `${what} in b${beta}: @with_repository() without exclusive=True`);
      assert.equal(facts.bypassLock, false, `${what}: no --bypass-lock from b10 on`);
      assert.equal(facts.monitor, 'none', what);
    }
    assert.equal(commandFacts(1, '1.4.5', command), null, `borg 1.x has no ${what}`);
  }
});
