import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BORG1_COMMANDS } from '../../src/borg/borg1-commands.js';
import { BORG2_COMMANDS } from '../../src/borg/borg2-commands.js';
import { commandFacts } from '../../src/borg/command-facts.js';
import { isInBetas, type CommandSpec, type CommandWords } from '../../src/borg/command-spec.js';

// The lists tborg kept by hand before the facts moved into the grammar tables come out of the tables
// unchanged: their values are pinned here as they were, and a command dropped from or added to any
// of them fails a test, which names it.

const TABLES = [
  [1, BORG1_COMMANDS],
  [2, BORG2_COMMANDS],
] as const;

// The rows of a table, with the words each is keyed by.
function rowsOf(table: Readonly<Record<string, CommandSpec>>): Array<[string, CommandSpec]> {
  return Object.entries(table);
}

// The commands of one major whose facts (at beta `version`) pass `keep`, as a sorted list.
function derive(major: 1 | 2, version: string | null, keep: (facts: NonNullable<ReturnType<typeof commandFacts>>) => boolean): string[] {
  const table = major === 1 ? BORG1_COMMANDS : BORG2_COMMANDS;
  return rowsOf(table)
    .map(([command]) => commandFacts(major, version, command.split(' ')))
    .filter((facts) => facts !== null && keep(facts))
    .map((facts) => facts!.command)
    .sort();
}

// The lists as they were before the table (pinned values).

// src/run/run-borg.ts STDOUT_COMMANDS, matched against a command's first word.
const OLD_STDOUT_COMMANDS = [
  'list',
  'info',
  'diff',
  'rlist',
  'rinfo',
  'config',
  'key',
  'export-tar',
  'extract',
  'debug',
  'repo-list',
  'repo-info',
  'repo-space',
  'analyze',
  'version',
];
// src/plan/lock-wait.ts BORG2_EXCLUSIVE (the store-lock commands, b10+).
const OLD_BORG2_EXCLUSIVE = [
  'check',
  'compact',
  'with-lock',
  'repo-create',
  'repo-delete',
  'repo-compress',
  'key change-location',
  'debug delete-obj',
];
// src/borg/command-line.ts BYPASS_ALLOWED_1 and BYPASS_ALLOWED_2.
const OLD_BYPASS_ALLOWED_1 = ['check', 'config', 'diff', 'export-tar', 'extract', 'info', 'list', 'mount', 'umount'];
const OLD_BYPASS_ALLOWED_2 = [...OLD_BYPASS_ALLOWED_1, 'rinfo', 'rlist', 'repo-info', 'repo-list'];
// src/borg/command-spec.ts BACKUP_COMMANDS and MAINTENANCE_COMMANDS (classifyForMonitors).
const OLD_BACKUP_COMMANDS = ['create', 'import-tar'];
const OLD_MAINTENANCE_COMMANDS = ['prune', 'compact', 'check', 'delete', 'recreate'];
// src/borg/borg2-commands.ts BORG2_COMMANDS_WITHOUT_REPOSITORY.
const OLD_BORG2_WITHOUT_REPOSITORY = ['benchmark cpu', 'completion', 'debug convert-profile', 'debug info', 'help', 'serve', 'umount'];
// src/borg/connection-retry.ts CONNECTION_RETRY_RULES (one map for both majors): the commands
// decided by a function of the line, the ones always safe, and the fixed reasons.
const OLD_RETRY_FUNCTIONS = [
  'create',
  'import-tar',
  'extract',
  'export-tar',
  'config',
  'key export',
  'key export-related-secrets',
  'key import',
  'delete',
  'rdelete',
  'repo-delete',
  'check',
  'recreate',
];
const OLD_RETRY_SAFE = ['prune', 'compact', 'break-lock', 'rename'];
const OLD_RETRY_REASONS: Array<[string, string]> = [
  ['list', 'list writes its result to stdout; a second attempt would write it again'],
  ['info', 'info writes its result to stdout; a second attempt would write it again'],
  ['diff', 'diff writes its result to stdout; a second attempt would write it again'],
  ['rlist', 'rlist writes its result to stdout; a second attempt would write it again'],
  ['rinfo', 'rinfo writes its result to stdout; a second attempt would write it again'],
  ['repo-list', 'repo-list writes its result to stdout; a second attempt would write it again'],
  ['repo-info', 'repo-info writes its result to stdout; a second attempt would write it again'],
  ['analyze', 'analyze writes its result to stdout; a second attempt would write it again'],
  ['version', 'version writes its result to stdout; a second attempt would write it again'],
  ['benchmark crud', 'benchmark crud writes its result to stdout; a second attempt would write it again'],
  ['benchmark cpu', 'benchmark cpu writes its result to stdout; a second attempt would write it again'],
  ['completion', 'completion writes its result to stdout; a second attempt would write it again'],
  ['with-lock', 'with-lock runs your command, which may have done its work; a second attempt would run it again'],
  ['mount', 'mount serves a file system until it is unmounted; it is not run a second time'],
  ['umount', 'umount runs fusermount and opens no repository'],
  ['serve', "serve is borg's server side"],
  [
    'init',
    'init is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  ],
  [
    'rcreate',
    'rcreate is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  ],
  [
    'repo-create',
    'repo-create is not idempotent: after a cut it can leave a half-made repository, which a second attempt would report as "already exists"',
  ],
  ['transfer', 'transfer prints its progress to stdout; a second attempt would print it again'],
  ['rcompress', "rcompress is not on tborg's list of commands checked to be safe to run a second time"],
  ['repo-compress', "repo-compress is not on tborg's list of commands checked to be safe to run a second time"],
  ['repo-space', "repo-space is not on tborg's list of commands checked to be safe to run a second time"],
  ['tag', "tag is not on tborg's list of commands checked to be safe to run a second time"],
  ['undelete', "undelete is not on tborg's list of commands checked to be safe to run a second time"],
  ['upgrade', 'upgrade writes its result to stdout; a second attempt would write it again'],
  ['change-passphrase', 'change-passphrase asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again'],
  ['key change-passphrase', 'key change-passphrase asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again'],
  ['key change-location', 'key change-location asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again'],
  ['key migrate-to-repokey', 'key migrate-to-repokey asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again'],
  ['help', 'only prints help'],
  ['key', 'only prints help'],
  ['benchmark', 'only prints help'],
  ['debug', 'only prints help'],
  ['debug convert-profile', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug delete-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug dump-archive', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug dump-archive-items', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug dump-hints', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug dump-manifest', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug dump-repo-objs', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug format-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug get-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug id-hash', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug info', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug parse-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug put-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug refcount-obj', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
  ['debug search-repo-objs', 'debug commands print to stdout or write objects one by one; tborg never runs them twice'],
];

// The commands added to the borg 2 table since (2.0.0b22..b24: copy, find, key add/list/remove,
// webdav), with the facts their rows decide (src/borg/borg2-commands.ts, read in b25's source).
const ADDED_STDOUT_COMMANDS = ['find', 'webdav'];
const ADDED_RETRY_FUNCTIONS = ['key remove'];
const ADDED_RETRY_SAFE = ['copy'];
const ADDED_RETRY_REASONS: Array<[string, string]> = [
  ['find', 'find writes its result to stdout; a second attempt would write it again'],
  ['key list', 'key list writes its result to stdout; a second attempt would write it again'],
  ['key add', 'key add asks for a new passphrase (and a yes/no on stdin); a second attempt would ask again'],
  ['webdav', 'webdav serves archives until it is stopped; it is not run a second time'],
];

const sorted = (list: readonly string[]): string[] => [...new Set(list)].sort();

test('stdout (spinner safety): the old STDOUT_COMMANDS by first word, for every command of both tables', () => {
  for (const [major, table] of TABLES) {
    for (const [command, spec] of rowsOf(table)) {
      const first = command.split(' ')[0]!;
      assert.equal(spec.stdout, [...OLD_STDOUT_COMMANDS, ...ADDED_STDOUT_COMMANDS].includes(first), `borg ${major} ${command}`);
    }
  }
  const derived = TABLES.flatMap(([major]) => derive(major, null, (f) => f.stdout).map((c) => c.split(' ')[0]!));
  assert.deepEqual(sorted(derived), sorted([...OLD_STDOUT_COMMANDS, ...ADDED_STDOUT_COMMANDS]));
});

test('lock: the old BORG2_EXCLUSIVE is what every store-lock beta calls exclusive', () => {
  for (const beta of [10, 12, 19, 22, 25]) {
    const existing = OLD_BORG2_EXCLUSIVE.filter((c) => isInBetas(BORG2_COMMANDS[c]!.betas, beta));
    assert.deepEqual(
      derive(2, `2.0.0b${beta}`, (f) => f.lock === 'exclusive'),
      sorted(existing),
      `b${beta}`,
    );
    assert.deepEqual(existing, OLD_BORG2_EXCLUSIVE, `b${beta} has every command of the old list`);
  }
});

test('bypassLock: the old BYPASS_ALLOWED_1 and BYPASS_ALLOWED_2', () => {
  assert.deepEqual(
    derive(1, null, (f) => f.bypassLock),
    sorted(OLD_BYPASS_ALLOWED_1),
  );
  assert.deepEqual(
    derive(2, null, (f) => f.bypassLock),
    sorted(OLD_BYPASS_ALLOWED_2),
  );
});

test('monitor: the old BACKUP_COMMANDS and MAINTENANCE_COMMANDS, for both majors', () => {
  for (const [major] of TABLES) {
    assert.deepEqual(
      derive(major, null, (f) => f.monitor === 'backup'),
      sorted(OLD_BACKUP_COMMANDS),
      `borg ${major}`,
    );
    assert.deepEqual(
      derive(major, null, (f) => f.monitor === 'maintenance'),
      sorted(OLD_MAINTENANCE_COMMANDS),
      `borg ${major}`,
    );
  }
});

test('noRepository: the old BORG2_COMMANDS_WITHOUT_REPOSITORY', () => {
  const derived = rowsOf(BORG2_COMMANDS)
    .filter(([, spec]) => spec.noRepository)
    .map(([command]) => command);
  assert.deepEqual(sorted(derived), sorted(OLD_BORG2_WITHOUT_REPOSITORY));
});

test('retry: the old CONNECTION_RETRY_RULES, command by command', () => {
  const reasons = new Map([...OLD_RETRY_REASONS, ...ADDED_RETRY_REASONS]);
  const functions = [...OLD_RETRY_FUNCTIONS, ...ADDED_RETRY_FUNCTIONS];
  const safe = [...OLD_RETRY_SAFE, ...ADDED_RETRY_SAFE];
  const covered = new Set<string>();
  // The old map's functions asked `major`: borg 2's delete was always safe, its recreate never.
  const words = (command: string): CommandWords => ({ command, major: 2, options: new Map(), positionals: new Map(), consumesStdin: null });
  const borg2Fixed = new Map([
    ['delete', 'safe'],
    ['recreate', 'recreate of several archives prints "Processing NAME" to stdout; a second attempt would print it again'],
  ]);
  for (const [major, table] of TABLES) {
    for (const [command, spec] of rowsOf(table)) {
      covered.add(command);
      const what = `borg ${major} ${command}`;
      if (major === 2 && borg2Fixed.has(command)) {
        assert.ok(OLD_RETRY_FUNCTIONS.includes(command), what);
        assert.equal(spec.retry, borg2Fixed.get(command), what);
      } else if (functions.includes(command)) {
        assert.equal(typeof spec.retry, 'function', what);
        // Every old function answered a line without options or positionals; so must the new one.
        assert.ok(typeof spec.retry === 'function' && typeof spec.retry(words(command)) === 'string', what);
      } else if (safe.includes(command)) {
        assert.equal(spec.retry, 'safe', what);
      } else {
        assert.equal(spec.retry, reasons.get(command), what);
      }
    }
  }
  assert.deepEqual(sorted([...covered]), sorted([...functions, ...safe, ...reasons.keys()]));
});

// src/borg/command-line.ts stdinUse and src/borg/connection-retry.ts userCommandOf, which switched
// on these command words (init's --import-related-secrets is borg 1.4's).
const OLD_STDIN_COMMANDS = {
  1: ['create', 'import-tar', 'key import', 'init', 'with-lock'],
  2: ['create', 'import-tar', 'key import', 'with-lock'],
};
const OLD_USER_COMMAND_COMMANDS = ['create', 'import-tar', 'export-tar', 'with-lock'];

test('stdin and userCommand: the commands the old stdinUse and userCommandOf knew, with their answers', () => {
  for (const [major, table] of TABLES) {
    const stdin = rowsOf(table).filter(([, spec]) => spec.stdin !== undefined);
    const user = rowsOf(table).filter(([, spec]) => spec.userCommand !== undefined);
    assert.deepEqual(sorted(stdin.map(([c]) => c)), sorted(OLD_STDIN_COMMANDS[major]), `borg ${major} stdin`);
    assert.deepEqual(sorted(user.map(([c]) => c)), sorted(OLD_USER_COMMAND_COMMANDS), `borg ${major} userCommand`);
    const words = (
      command: string,
      options: Record<string, string | null> = {},
      positionals: Record<string, string[]> = {},
    ): CommandWords => ({
      command,
      major,
      options: new Map(Object.entries(options)),
      positionals: new Map(Object.entries(positionals)),
      consumesStdin: null,
    });
    const row = (c: string): CommandSpec => table[c]!;
    assert.equal(row('create').stdin!(words('create', {}, { PATH: ['/a', '-'] })), 'create -');
    assert.equal(row('create').stdin!(words('create', { '--paths-from-stdin': null })), 'create --paths-from-stdin');
    assert.equal(row('create').stdin!(words('create', {}, { PATH: ['/a'] })), null);
    assert.equal(
      row('create').userCommand!(words('create', { '--paths-from-command': null })),
      'create --paths-from-command runs your command',
    );
    assert.equal(row('create').userCommand!(words('create')), null);
    assert.equal(row('import-tar').stdin!(words('import-tar', {}, { TARFILE: ['-'] })), 'import-tar -');
    assert.equal(
      row('export-tar').userCommand!(words('export-tar', { '--tar-filter': 'gzip' })),
      'export-tar --tar-filter runs your command',
    );
    assert.equal(row('key import').stdin!(words('key import', { '--paper': null }, { PATH: ['-'] })), null);
    assert.equal(row('key import').stdin!(words('key import', {}, { PATH: ['-'] })), 'key import -');
    assert.equal(row('with-lock').stdin!(words('with-lock')), 'with-lock COMMAND (inherits stdin)');
    assert.equal(row('with-lock').userCommand!(words('with-lock')), 'with-lock runs your command');
    if (major === 1)
      assert.equal(row('init').stdin!(words('init', { '--import-related-secrets': '-' })), 'init --import-related-secrets -');
  }
});
