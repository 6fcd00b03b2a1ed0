import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCacheLock } from '../../src/borg/borg-cache-dir.js';
import { classifyAttempt } from '../../src/borg/words/attempt-failure.js';
import { StderrScanner } from '../../src/borg/words/stderr-scanner.js';

function scan(text: string, chunkSize = 7) {
  const s = new StderrScanner();
  const bytes = Buffer.from(text, 'latin1');
  // Feed in small, awkward chunks: borg's lines arrive split at arbitrary points.
  for (let i = 0; i < bytes.length; i += chunkSize) s.feed(bytes.subarray(i, i + chunkSize));
  return s.end();
}

// Messages as borg 1.2.4 / borg2 b5, borg 1.4.0 (measured in a Debian 13 root) and ssh print them
// (docs/facts.md "What borg prints and returns"), with legacy and modern (BORG_EXIT_CODES=modern) codes.
const table: Array<[string, number, string, string, string | undefined]> = [
  [
    'lock timeout, repository',
    2,
    'Failed to create/acquire the lock /srv/repo/lock.exclusive (timeout).\n',
    'lock-timeout',
    '/srv/repo/lock.exclusive',
  ],
  ['lock timeout, shared lock', 2, 'Failed to create/acquire the lock /srv/r/lock (timeout).\n', 'lock-timeout', '/srv/r/lock'],
  ['lock timeout, modern rc, no text', 73, '', 'lock-timeout', undefined],
  [
    'lock timeout, --log-json',
    2,
    '{"type": "log_message", "time": 1.5, "message": "Failed to create/acquire the lock /srv/a b/lock.exclusive (timeout).", "levelname": "ERROR", "name": "borg.archiver", "msgid": "LockTimeout"}\n',
    'lock-timeout',
    '/srv/a b/lock.exclusive',
  ],
  [
    'lost: ssh timeout',
    2,
    'Remote: Timeout, server 127.0.0.1 not responding.\nConnection closed by remote host\n',
    'connection-lost',
    undefined,
  ],
  ['lost: closed', 2, 'Connection closed by remote host\n', 'connection-lost', undefined],
  [
    'lost: broken pipe traceback',
    2,
    'Local Exception\nTraceback (most recent call last):\n  File "x"\nBrokenPipeError: [Errno 32] Broken pipe\n',
    'connection-lost',
    undefined,
  ],
  ['lost: modern 80', 80, 'Connection closed by remote host\n', 'connection-lost', undefined],
  ['lost: modern 87', 87, '', 'connection-lost', undefined],
  ['lost: borg 1.4 broken pipe, legacy rc', 2, 'Connection to remote host is broken. Broken Pipe\n', 'connection-lost', undefined],
  ['lost: borg 1.4 broken pipe, modern 87', 87, 'Connection to remote host is broken. Broken Pipe\n', 'connection-lost', undefined],
  [
    'lock timeout, modern 73 with its message',
    73,
    'Failed to create/acquire the lock /srv/repo/lock.exclusive (timeout).\n',
    'lock-timeout',
    '/srv/repo/lock.exclusive',
  ],
  [
    'modern 81: borg never started on the server',
    81,
    'Remote: ssh: connect to host h port 22: Connection refused\nConnection closed by remote host. Is borg working on the server?\n',
    'other',
    undefined,
  ],
  ['modern 83: path not allowed', 83, 'Repository path not allowed: /x\n', 'other', undefined],
  ['modern 86: unexpected data from the server', 86, 'Got unexpected RPC data format from server:\nxyz\n', 'other', undefined],
  ['modern 13: no repository', 13, 'Repository ssh://h/x does not exist.\n', 'other', undefined],
  [
    "modern 52: wrong passphrase, borg 1.4.5's capital P",
    52,
    'Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.\n',
    'other',
    undefined,
  ],
  [
    'unreachable is not lost',
    2,
    'Remote: ssh: connect to host 127.0.0.1 port 1: Connection refused\nConnection closed by remote host. Is borg working on the server?\n',
    'other',
    undefined,
  ],
  [
    'ctrl-c with a lock line is not a lock problem',
    2,
    'Failed to create/acquire the lock /x/lock.exclusive (timeout).\nGot Ctrl-C / SIGINT.\n',
    'other',
    '/x/lock.exclusive',
  ],
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
  [
    'progress with \\r only',
    2,
    '0 B O 0 B C\r1 B O\rFailed to create/acquire the lock /p/lock.exclusive (timeout).',
    'lock-timeout',
    '/p/lock.exclusive',
  ],
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

// The scan looks only for a few needles in each read and matches only the lines around them, so
// these check what a line-by-line reading would give: every message, wherever the reads split it.
const NOISE = 'Remote: borg.repository DEBUG A /home/u/Connect/Timeout/Failed files/PipeErr/Could n/x: connec\n';
const messages: Array<[string, string, (f: ReturnType<StderrScanner['end']>) => unknown, unknown]> = [
  [
    'lock timeout',
    'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).',
    (f) => f.lockTimeout?.path,
    '/srv/r/lock.exclusive',
  ],
  [
    'lock timeout, --log-json',
    '{"type": "log_message", "message": "Failed to create/acquire the lock /srv/a b/lock (timeout).", "msgid": "LockTimeout"}',
    (f) => f.lockTimeout?.path,
    '/srv/a b/lock',
  ],
  [
    'lock timeout, --log-json msgid only',
    '{"type": "log_message", "message": "x", "msgid":"LockTimeout"}',
    (f) => f.lockTimeout !== undefined,
    true,
  ],
  [
    'ssh timeout',
    'Remote: Timeout, server 10.0.0.1 not responding.',
    (f) => f.connectionLost,
    'Remote: Timeout, server 10.0.0.1 not responding.',
  ],
  ['connection broken', 'Connection to remote host is broken.', (f) => f.connectionLost, 'Connection to remote host is broken.'],
  ['broken pipe', 'BrokenPipeError: [Errno 32] Broken pipe', (f) => f.connectionLost, 'BrokenPipeError: [Errno 32] Broken pipe'],
  ['closed', 'Connection closed by remote host', (f) => f.connectionLost, 'Connection closed by remote host'],
  [
    'ssh connect',
    'Remote: ssh: connect to host backup port 22: No route to host',
    (f) => f.unreachable,
    'Remote: ssh: connect to host backup port 22: No route to host',
  ],
  [
    'ssh resolve',
    'ssh: Could not resolve hostname nohost: Name or service not known',
    (f) => f.unreachable,
    'ssh: Could not resolve hostname nohost: Name or service not known',
  ],
  [
    'closed with hint',
    'Connection closed by remote host. Is borg working on the server?',
    (f) => f.unreachable,
    'Connection closed by remote host. Is borg working on the server?',
  ],
];

for (const [name, message, read, expected] of messages) {
  for (const [ending, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    test(`scan: ${name} (${ending}) split between two reads at every offset, among other lines`, () => {
      const bytes = Buffer.from(`${NOISE}${message}${eol}${NOISE}`);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const s = new StderrScanner();
        s.feed(bytes.subarray(0, cut));
        s.feed(bytes.subarray(cut));
        const f = s.end();
        assert.deepEqual(read(f), expected, `cut at ${cut}`);
        assert.deepEqual(f.lastLines, [NOISE.trimEnd(), message, NOISE.trimEnd()], `cut at ${cut}`);
      }
    });
  }
}

test('scan: noise that holds every needle but no message finds nothing', () => {
  const f = scan(NOISE.repeat(50), 61);
  assert.deepEqual([f.lockTimeout, f.connectionLost, f.unreachable], [undefined, undefined, undefined]);
});

test('scan: the first lost and unreachable lines count and the last lock line, in the order borg wrote them', () => {
  const text = [
    'ssh: Could not resolve hostname a: x',
    'Remote: ssh: connect to host b port 22: y',
    'Connection closed by remote host',
    'BrokenPipeError: z',
    'Failed to create/acquire the lock /first (timeout).',
    'Failed to create/acquire the lock /second (timeout).',
    '',
  ].join('\n');
  for (const size of [1, 5, 13, 64, text.length]) {
    const f = scan(text, size);
    assert.equal(f.unreachable, 'ssh: Could not resolve hostname a: x', `chunk size ${size}`);
    assert.equal(f.connectionLost, 'Connection closed by remote host', `chunk size ${size}`);
    assert.equal(f.lockTimeout?.path, '/second', `chunk size ${size}`);
  }
});

test("scan: borg's message at the end of a line over 64 KiB is not borg's line, and only that line's end (64 KiB and the last read) is kept", () => {
  const long = `${'x'.repeat(200 * 1024)}Failed to create/acquire the lock /srv/long/lock (timeout).`;
  for (const size of [4096, 65536, 100_000]) {
    const f = scan(`before\n${long}\nafter\n`, size);
    assert.equal(f.lockTimeout, undefined, `chunk size ${size}`);
    assert.equal(f.lastLines.length, 3);
    assert.ok(f.lastLines[1]!.length <= 64 * 1024 + size, `chunk size ${size}`);
    assert.ok(long.endsWith(f.lastLines[1]!));
  }
});

test('scan: the last lines equal a line-by-line reading, whatever the reads (random streams)', () => {
  const pool = [
    'A /home/u/a',
    '',
    'Remote: x',
    'Failed to open',
    'Connection closed by remote host',
    'p 1 %\r',
    'p 2 %\r',
    '{"type": "log_message", "msgid": "LockTimeout"}',
    'Remote: Timeout, server h not responding.',
    'ü€ line',
  ];
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    let text = '';
    // Long streams too, whose reads hold more than the last lines (decoded only at the end).
    for (let i = 0, n = random(round < 200 ? 80 : 600); i < n; i++)
      text += pool[random(pool.length)]! + ['\n', '\r\n', '\r', ''][random(4)]!;
    const bytes = Buffer.from(text);
    const whole = new StderrScanner();
    whole.feed(bytes);
    const expected = whole.end();
    const s = new StderrScanner();
    const maxRead = [8, 64, 512, 4096][round % 4]!;
    for (let at = 0; at < bytes.length; ) {
      const size = 1 + random(maxRead);
      s.feed(bytes.subarray(at, at + size));
      at += size;
    }
    const f = s.end();
    const lines = bytes
      .toString()
      .split(/\r|\n/)
      .filter((l) => l.length > 0)
      .slice(-12);
    assert.deepEqual(f.lastLines, lines, JSON.stringify(text));
    assert.deepEqual(f, expected, JSON.stringify(text));
  }
});

test('scan: a message after a \\r progress line is the line from the \\r on; blank \\r\\n lines are no last lines', () => {
  const text = `12 B O 3 B C\r14 B O 5 B C\rConnection closed by remote host\r\n${'first\r\nsecond\r\n'}${'\r\n'.repeat(20)}`;
  for (const size of [1, 7, text.length]) {
    const f = scan(text, size);
    assert.equal(f.connectionLost, 'Connection closed by remote host', `chunk size ${size}`);
    assert.deepEqual(
      f.lastLines,
      ['12 B O 3 B C', '14 B O 5 B C', 'Connection closed by remote host', 'first', 'second'],
      `chunk size ${size}`,
    );
  }
});

// borg's lock message is a line of its own (locking.py LockTimeout through logging's '%(message)s'):
// the same words inside another line — a command's output, a file name under `create --list` —
// are no lock timeout; borg2 b19+ adds who holds it after the message.
test("scan: the lock-timeout message counts only as a whole line of borg's", () => {
  const rows: Array<[string, string | undefined]> = [
    ['Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).', '/srv/r/lock.exclusive'],
    [
      'Failed to create/acquire the lock ssh://h//srv/r (timeout). Repository is locked by: shared lock on host x@1, pid 9, age 12m.',
      'ssh://h//srv/r',
    ],
    ['Failed to create/acquire the lock ssh://h//srv/r (timeout). ', 'ssh://h//srv/r'],
    ['my job: Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).', undefined],
    ['A /data/Failed to create/acquire the lock x (timeout).', undefined],
    ['  Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).', undefined],
    [
      '{"type": "log_message", "time": 1.5, "message": "Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).", "levelname": "ERROR", "name": "borg.locking", "msgid": "LockTimeout"}',
      '/srv/r/lock.exclusive',
    ],
    ['echo {"msgid": "LockTimeout"}', undefined],
    ['{"type": "file_status", "path": "x", "msgid": "LockTimeout"}', undefined],
  ];
  for (const [line, path] of rows) {
    const f = scan(`${line}\n`, 7);
    assert.equal(f.lockTimeout?.path, path, line);
    assert.equal(f.lockTimeout !== undefined, path !== undefined, line);
  }
});

test("scan: the reads' memory is not kept (a stream may reuse it): the last lines are copies", () => {
  const s = new StderrScanner();
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
  const chunk = Buffer.from(`${lines.join('\n')}\n`);
  s.feed(chunk);
  chunk.fill(0x41);
  assert.deepEqual(s.end().lastLines, lines.slice(-12));
});
