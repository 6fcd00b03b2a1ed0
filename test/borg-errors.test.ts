import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyAttempt, isCacheLock, StderrScanner } from '../src/borg-errors.js';

function scan(text: string, chunkSize = 7) {
  const s = new StderrScanner();
  const bytes = Buffer.from(text, 'latin1');
  // Feed in small, awkward chunks: borg's lines arrive split at arbitrary points.
  for (let i = 0; i < bytes.length; i += chunkSize) s.feed(bytes.subarray(i, i + chunkSize));
  return s.end();
}

// Messages as borg 1.2.4 / borg2 b5 and ssh print them (docs/facts.md "What borg prints and returns").
const table: Array<[string, number, string, string, string | undefined]> = [
  ['lock timeout, repository', 2, 'Failed to create/acquire the lock /srv/repo/lock.exclusive (timeout).\n', 'lock-timeout', '/srv/repo/lock.exclusive'],
  ['lock timeout, shared lock', 2, 'Failed to create/acquire the lock /srv/r/lock (timeout).\n', 'lock-timeout', '/srv/r/lock'],
  ['lock timeout, modern rc, no text', 73, '', 'lock-timeout', undefined],
  [
    'lock timeout, --log-json',
    2,
    '{"type": "log_message", "time": 1.5, "message": "Failed to create/acquire the lock /srv/a b/lock.exclusive (timeout).", "levelname": "ERROR", "name": "borg.archiver", "msgid": "LockTimeout"}\n',
    'lock-timeout',
    '/srv/a b/lock.exclusive',
  ],
  ['lost: ssh timeout', 2, 'Remote: Timeout, server 127.0.0.1 not responding.\nConnection closed by remote host\n', 'connection-lost', undefined],
  ['lost: closed', 2, 'Connection closed by remote host\n', 'connection-lost', undefined],
  ['lost: broken pipe traceback', 2, 'Local Exception\nTraceback (most recent call last):\n  File "x"\nBrokenPipeError: [Errno 32] Broken pipe\n', 'connection-lost', undefined],
  ['lost: modern 80', 80, 'Connection closed by remote host\n', 'connection-lost', undefined],
  ['lost: modern 87', 87, '', 'connection-lost', undefined],
  ['unreachable is not lost', 2, 'Remote: ssh: connect to host 127.0.0.1 port 1: Connection refused\nConnection closed by remote host. Is borg working on the server?\n', 'other', undefined],
  ['ctrl-c with a lock line is not a lock problem', 2, 'Failed to create/acquire the lock /x/lock.exclusive (timeout).\nGot Ctrl-C / SIGINT.\n', 'other', '/x/lock.exclusive'],
  ['wrong passphrase', 2, 'passphrase supplied in BORG_PASSPHRASE is incorrect.\n', 'other', undefined],
  ['missing repository', 2, 'Repository /x does not exist.\n', 'other', undefined],
  ['success', 0, 'Failed to create/acquire the lock /x (timeout).\n', 'ok', '/x'],
  ['warning rc', 1, 'some warning\n', 'ok', undefined],
  ['signal rc', 143, 'Connection closed by remote host\n', 'other', undefined],
  // borg2 b25 with borgstore 0.7.0 (rest.py with_reconnect: BackendError after its own reconnect tries).
  [
    'b25: rest connection lost after borgstore gave up reconnecting',
    2,
    "Local Exception\nTraceback (most recent call last):\nborgstore.backends.errors.BackendError: rest connection was lost and could not be reestablished: BackendConnectionError('stdio server closed the connection')\n",
    'connection-lost',
    undefined,
  ],
  [
    'b25: rest connection to an unreachable port is not lost (plain borg2 fails the same)',
    2,
    "rest connection was lost and could not be reestablished: BackendError('stdio server exited with code 255:\nssh: connect to host 127.0.0.1 port 22: Connection refused')\n",
    'other',
    undefined,
  ],
  [
    'b25: lock timeout naming its holder',
    73,
    'Failed to create/acquire the lock ssh://root@h:2222//srv/r (timeout). Repository is locked by: exclusive lock on host h@1, pid 7, age 3s.\n',
    'lock-timeout',
    'ssh://root@h:2222//srv/r',
  ],
  ['progress with \\r only', 2, '0 B O 0 B C\r1 B O\rFailed to create/acquire the lock /p/lock.exclusive (timeout).', 'lock-timeout', '/p/lock.exclusive'],
];

for (const [name, rc, stderr, kind, lockPath] of table) {
  test(`classifyAttempt: ${name}`, () => {
    for (const size of [1, 7, 4096]) {
      const findings = scan(stderr, size);
      assert.equal(classifyAttempt(rc, findings), kind, `chunk size ${size}`);
      assert.equal(findings.lockTimeout?.path, lockPath);
    }
  });
}

test('scanner memory stays bounded on a huge line and keeps only the last lines', () => {
  const s = new StderrScanner();
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  for (let i = 0; i < 20; i++) s.feed(chunk);
  s.feed(Buffer.from('\n'));
  for (let i = 0; i < 100; i++) s.feed(Buffer.from(`line ${i}\n`));
  const f = s.end();
  assert.equal(f.lastLines.length, 12);
  assert.equal(f.lastLines.at(-1), 'line 99');
});

test('isCacheLock follows borg cache dir rules', () => {
  const home = '/home/u';
  assert.equal(isCacheLock('/home/u/.cache/borg/abc/lock.exclusive', {}, home), true);
  assert.equal(isCacheLock('/srv/repo/lock.exclusive', {}, home), false);
  assert.equal(isCacheLock('/c/abc/lock.exclusive', { BORG_CACHE_DIR: '/c' }, home), true);
  assert.equal(isCacheLock('/home/u/.cache/borg/abc/lock.exclusive', { BORG_CACHE_DIR: '/c' }, home), false);
  assert.equal(isCacheLock('/b/.cache/borg/x/lock', { BORG_BASE_DIR: '/b' }, home), true);
  assert.equal(isCacheLock('/x/borg/id/lock.exclusive', { XDG_CACHE_HOME: '/x' }, home), true);
  assert.equal(isCacheLock('/home/u/.cache/borgish/lock', {}, home), false);
  assert.equal(isCacheLock(undefined, {}, home), false);
});

test('last lines across chunk boundaries, \\r\\n, a first line of one byte, and a final line without newline', () => {
  const s = new StderrScanner();
  for (const piece of ['x\n', 'a\r\nb', 'b\n\nc\rd', 'd']) s.feed(Buffer.from(piece));
  assert.deepEqual(s.end().lastLines, ['x', 'a', 'bb', 'c', 'dd']);
});

test('a lock message among millions of other lines is still found, and only the last lines are kept', () => {
  const s = new StderrScanner();
  const filler = Buffer.from('A /home/u/clock/file-with-remote-in-its-name\n'.repeat(20000));
  for (let i = 0; i < 20; i++) s.feed(filler);
  s.feed(Buffer.from('Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n'));
  s.feed(filler.subarray(0, 1000));
  const f = s.end();
  assert.equal(f.lockTimeout?.path, '/srv/r/lock.exclusive');
  assert.equal(f.connectionLost, undefined);
  assert.equal(f.lastLines.length, 12);
});

test('a lock path that is not ASCII comes out as borg wrote it (UTF-8), also when split between reads', () => {
  const s = new StderrScanner();
  const bytes = Buffer.from('Failed to create/acquire the lock /srv/bäckup €/lock.exclusive (timeout).\n', 'utf8');
  for (let i = 0; i < bytes.length; i += 3) s.feed(bytes.subarray(i, i + 3));
  const f = s.end();
  assert.equal(f.lockTimeout?.path, '/srv/bäckup €/lock.exclusive');
  assert.equal(isCacheLock('/home/ü/.cache/borg/x/lock.exclusive', {}, '/home/ü'), true);
});
