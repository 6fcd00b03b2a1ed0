// parseBorgCommandLine as a table, antfu/ni style: one line of argv and what borg makes of it (the
// rows and their notation: test/helpers/command-line-rows.ts). test/host/command-line-oracle.test.ts
// replays the same rows through the installed borg's and borg2's own argument parsing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBorgCommandLine, type BorgCommandLine } from '../../src/borg/command-line.js';
import { describeRepository, rows, type Expect } from '../helpers/command-line-rows.js';

function actual(r: BorgCommandLine, expect: Expect): Expect {
  const got: Expect = { cmd: r.command.join(' '), repo: describeRepository(r.repository) };
  if (r.rsh) got.rsh = [r.rsh.value, r.rsh.index, r.rsh.form];
  if (r.lockWait !== null) got.lockWait = r.lockWait;
  if (r.consumesStdin) got.stdin = r.consumesStdin;
  if (r.helpOrVersion) got.help = true;
  if (r.invalid !== null) got.invalid = expect.invalid?.test(r.invalid) ? expect.invalid : new RegExp(r.invalid);
  if (r.logJson) got.logJson = true;
  if (r.remotePath !== null) got.remotePath = r.remotePath;
  if (r.otherRepository) got.other = describeRepository(r.otherRepository) ?? undefined;
  // opensRepository is stated only where it is not simply "a repository, a valid line, no help".
  const usual = r.repository !== null && r.invalid === null && !r.helpOrVersion;
  if (r.opensRepository !== usual) got.opens = r.opensRepository;
  if (expect.oracle !== undefined) got.oracle = expect.oracle;
  if (expect.oracleBetas !== undefined) got.oracleBetas = expect.oracleBetas;
  if (expect.olderPythonRejects) got.olderPythonRejects = true;
  return got;
}

for (const row of rows) {
  test(`borg${row.major === 2 ? '2' : ''} ${row.line}${row.env.BORG_REPO !== undefined ? ` (BORG_REPO=${row.env.BORG_REPO})` : ''}`, () => {
    const r = parseBorgCommandLine(row.argv, row.env, row.major, row.options);
    assert.deepEqual(actual(r, row.expect), row.expect);
    if (r.repository?.argIndex != null && r.repository.source !== 'BORG_REPO') {
      // The index points at the word that holds the location.
      assert.ok(row.argv[r.repository.argIndex]!.includes(r.repository.location.location), 'argIndex');
    }
    if (r.rsh) assert.ok(row.argv[r.rsh.index]!.startsWith('--'), 'rsh index');
  });
}

test('the table is long and covers every borg 1.x command', () => {
  assert.ok(rows.length >= 200, `${rows.length} rows`);
  const seen = new Set(rows.filter((r) => r.major === 1).map((r) => parseBorgCommandLine(r.argv, r.env, 1).command.join(' ')));
  for (const c of [
    'create',
    'extract',
    'list',
    'info',
    'diff',
    'delete',
    'prune',
    'compact',
    'check',
    'mount',
    'umount',
    'with-lock',
    'break-lock',
    'key export',
    'key import',
    'config',
    'recreate',
    'import-tar',
    'export-tar',
    'init',
    'rename',
    'upgrade',
    'benchmark crud',
    'serve',
    'help',
  ]) {
    assert.ok(seen.has(c), c);
  }
});

test('never throws, whatever the words', () => {
  const words = [
    '--',
    '-',
    '-e',
    '--rsh',
    '--rsh=',
    '-r',
    '--repo=',
    'create',
    'with-lock',
    'key',
    '::',
    'h:r::a',
    '-xsC',
    '--lock-wait',
    '5',
    '-h',
    '',
    '=',
    '--=x',
    '-=',
    '{',
    'serve',
    'help',
  ];
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 3000; i++) {
    const argv = Array.from({ length: next() % 7 }, () => words[next() % words.length]!);
    for (const major of [1, 2] as const) parseBorgCommandLine(argv, { BORG_REPO: 'h:r' }, major);
  }
});
