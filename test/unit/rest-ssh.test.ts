import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLocation } from '../../src/borg/location.js';
import { commandFacts } from '../../src/borg/command-facts.js';
import { computeStoreLockWait } from '../../src/plan/lock-wait.js';
import { readBorgLockWait } from '../../src/plan/lock-wait.js';
import { defaultStoreRshWords, readStoreRsh, restServeCommand, servesRestOverSsh, storeSshTarget } from '../../src/ssh/rest-ssh.js';

// borgstore 0.7.0 rest.py ssh_cmd and borg repository.py propagate_rsh / rest_serve_command, as
// tables written out by hand from that source (docs/facts.md "borg 2").

const storeRows: Array<{ name: string; env: NodeJS.ProcessEnv; port: number | null; words: string[]; source: string }> = [
  {
    name: 'nothing set: borgstore default, keepalive 30 x 3 and the URL port',
    env: {},
    port: 2222,
    words: ['ssh', '-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3', '-p', '2222'],
    source: 'borgstore default',
  },
  {
    name: 'nothing set, no port: no -p (`if port:`)',
    env: {},
    port: null,
    words: ['ssh', '-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3'],
    source: 'borgstore default',
  },
  {
    name: 'BORG_RSH only: propagate_rsh copies it, verbatim, and the port is lost as in borg',
    env: { BORG_RSH: "ssh -i '/k ey'" },
    port: 2222,
    words: ['ssh', '-i', '/k ey'],
    source: 'BORG_RSH',
  },
  {
    name: 'BORGSTORE_RSH wins over BORG_RSH',
    env: { BORG_RSH: 'ssh -i a', BORGSTORE_RSH: 'ssh -i b' },
    port: 2222,
    words: ['ssh', '-i', 'b'],
    source: 'BORGSTORE_RSH',
  },
  {
    name: 'empty BORGSTORE_RSH is unset for both (Python truthiness): BORG_RSH is used',
    env: { BORG_RSH: 'ssh -i a', BORGSTORE_RSH: '' },
    port: null,
    words: ['ssh', '-i', 'a'],
    source: 'BORG_RSH',
  },
  {
    name: 'empty BORG_RSH is not copied: the default',
    env: { BORG_RSH: '' },
    port: 22,
    words: ['ssh', '-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3', '-p', '22'],
    source: 'borgstore default',
  },
];
for (const row of storeRows) {
  test(`readStoreRsh: ${row.name}`, () => {
    assert.deepEqual(readStoreRsh(row.env, row.port), { words: row.words, source: row.source });
  });
}

test('defaultStoreRshWords: port 0 adds nothing', () => {
  assert.deepEqual(defaultStoreRshWords(0), ['ssh', '-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3']);
});

test('storeSshTarget: [user@]host after the words, no -p of its own', () => {
  assert.deepEqual(storeSshTarget(['ssh', '-i', 'k'], { user: 'root', host: '127.0.0.1' }), ['ssh', '-i', 'k', 'root@127.0.0.1']);
  assert.deepEqual(storeSshTarget(['ssh'], { user: null, host: 'h' }), ['ssh', 'h']);
});

test('restServeCommand: BORG_REMOTE_PATH or borg, serve --rest --backend FILE:path', () => {
  assert.deepEqual(restServeCommand({}, { path: 'srv/repo' }), ['borg', 'serve', '--rest', '--backend', 'FILE:srv/repo']);
  assert.deepEqual(restServeCommand({ BORG_REMOTE_PATH: 'borg2' }, { path: '/r' }), ['borg2', 'serve', '--rest', '--backend', 'FILE:/r']);
  assert.deepEqual(restServeCommand({ BORG_REMOTE_PATH: '' }, { path: '/r' }), ['borg', 'serve', '--rest', '--backend', 'FILE:/r']);
});

// Which borg line serves which location over rest: b22..b24's get_repository refuses ssh:// for
// current repositories and serves rest://host; b25 serves ssh:// over rest and has no rest://; borg 1.x never.
const serveRows: Array<[string, 1 | 2, string, boolean]> = [
  ['ssh://u@h:2222/srv/repo', 2, '2.0.0b25', true],
  ['ssh://u@h:2222/srv/repo', 2, '2.0.0b24', false],
  ['ssh://u@h:2222/srv/repo', 2, '2.0.0b26', true],
  ['ssh://u@h:2222/srv/repo', 2, '2.0.0b22', false],
  ['ssh://u@h:2222/srv/repo', 2, '2.0.0b19', false],
  ['ssh://u@h/srv/repo', 2, '2.0.0b5', false],
  ['rest://u@h:2222/srv/repo', 2, '2.0.0b22', true],
  ['rest://u@h:2222/srv/repo', 2, '2.0.0b24', true],
  ['rest:///srv/repo', 2, '2.0.0b25', false],
  ['ssh://u@h:2222/srv/repo', 1, '1.4.5', false],
];
for (const [text, major, version, expected] of serveRows) {
  test(`servesRestOverSsh(${text}, ${version}) = ${expected}`, () => {
    const location = parseLocation(text, {}, major, { version });
    assert.ok(location, text);
    assert.equal(servesRestOverSsh(location, major, version), expected);
  });
}

// README "borg 2": W >= 30 minutes for a create and a compact under store locks.
test('computeStoreLockWait: 30-minute expiry plus margin, for shared and exclusive commands', () => {
  for (const exclusive of [false, true]) {
    const m = computeStoreLockWait({ interval: 30, countMax: 3 }, exclusive);
    assert.equal(m.kind, 'store');
    assert.ok(m.seconds >= 30 * 60 + 30, `${m.seconds}`);
    // Not absurdly more: the expiry dominates, a margin of minutes at most.
    assert.ok(m.seconds <= 30 * 60 + 300, `${m.seconds}`);
    assert.match(m.why, exclusive ? /exclusive lock, so any vanished client/ : /shared lock, so only a vanished client's exclusive lock/);
  }
  // A client keepalive longer than the expiry is still covered.
  assert.ok(computeStoreLockWait({ interval: 600, countMax: 3 }, false).seconds > 4 * 600);
});

test('store locks (b10+): check, compact, with-lock, repo-create exclusive; create, list, prune, delete shared', () => {
  for (const version of ['2.0.0b10', '2.0.0b19', '2.0.0b25', null]) {
    const lock = (c: string[]): string | undefined => commandFacts(2, version, c)?.lock;
    for (const c of [['check'], ['compact'], ['with-lock'], ['repo-create'], ['repo-delete'], ['key', 'change-location']]) {
      assert.equal(lock(c), 'exclusive', `${version} ${c.join(' ')}`);
    }
    for (const c of [['create'], ['list'], ['prune'], ['delete'], ['repo-list'], ['key', 'change-passphrase']]) {
      assert.equal(lock(c), 'shared', `${version} ${c.join(' ')}`);
    }
  }
});

// borg2 reads BORG_LOCK_WAIT with Python's int() (archiver/_common.py): tborg counts it as the user's
// one lock wait exactly when borg2 would use it.
const lockWaitRows: Array<[string | undefined, number | null]> = [
  [undefined, null],
  ['600', 600],
  [' 600\n', 600],
  ['+5', 5],
  ['1_000', 1000],
  ['0', 0],
  ['', null],
  ['10s', null],
  ['1__0', null],
  ['1.5', null],
];
for (const [value, expected] of lockWaitRows) {
  test(`readBorgLockWait(${JSON.stringify(value)}) = ${expected}`, () => {
    assert.equal(readBorgLockWait(value === undefined ? {} : { BORG_LOCK_WAIT: value }), expected);
  });
}
