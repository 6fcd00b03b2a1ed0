import assert from 'node:assert/strict';
import { test } from 'node:test';
import { split as npmShlexSplit } from 'shlex';
import { isSsh, joinRsh, parseSshArgv, readRsh, splitLikePython, sshTarget, withKeepalive } from '../../src/ssh/rsh.js';
import { randomWords, SPLIT_CASES } from '../helpers/rsh-cases.js';

test('splitLikePython: table', () => {
  for (const [input, expected] of SPLIT_CASES) {
    if (expected === null) assert.throws(() => splitLikePython(input), /cannot split/, input);
    else assert.deepEqual(splitLikePython(input), expected, JSON.stringify(input));
  }
});

// docs/facts.md says npm shlex splits exactly like Python's shlex.split. Not quite: npm shlex 3 also reads
// bash's $'...' / $"..." quotes and drops a backslash-newline. tborg therefore splits with its own
// port (splitLikePython) and uses npm shlex only for quoting.
test("npm shlex split differs from Python on $'...' and backslash-newline (docs/facts.md correction)", () => {
  assert.deepEqual(npmShlexSplit("$'a b'"), ['a b']);
  assert.deepEqual(splitLikePython("$'a b'"), ['$a b']);
  assert.deepEqual(npmShlexSplit('a\\\nb'), ['ab']);
  assert.deepEqual(splitLikePython('a\\\nb'), ['a\nb']);
});

test('readRsh: --rsh, else BORG_RSH, else ssh, with Python truthiness', () => {
  assert.deepEqual(readRsh(null, {}), { words: ['ssh'], source: 'default' });
  assert.deepEqual(readRsh(null, { BORG_RSH: 'ssh -i /k' }), { words: ['ssh', '-i', '/k'], source: 'BORG_RSH' });
  assert.deepEqual(readRsh('ssh -p1', { BORG_RSH: 'ssh -i /k' }), { words: ['ssh', '-p1'], source: '--rsh' });
  // `args.rsh or os.environ.get(...)`: an empty --rsh falls through ...
  assert.deepEqual(readRsh('', { BORG_RSH: 'ssh -i /k' }), { words: ['ssh', '-i', '/k'], source: 'BORG_RSH' });
  // ... but an empty BORG_RSH is used as it is: no words at all (borg would run the host name).
  assert.deepEqual(readRsh(null, { BORG_RSH: '' }), { words: [], source: 'BORG_RSH' });
});

test('isSsh: only the ssh program itself', () => {
  const yes = [['ssh'], ['/usr/bin/ssh', '-i', 'k'], ['./ssh']];
  const no = [
    [],
    ['sh', '-c', 'exec socat - TCP:h:22'],
    ['env', 'X=1', 'ssh'],
    ['autossh', '-M', '0'],
    ['sshpass', '-p', 'x', 'ssh'],
    ['ssh.exe'],
    ['/usr/bin/ssh-agent'],
  ];
  for (const w of yes) assert.equal(isSsh(w), true, w.join(' '));
  for (const w of no) assert.equal(isSsh(w), false, w.join(' '));
});

test('sshTarget: words + -p PORT + [user@]host, as borg remote.py ssh_cmd', () => {
  assert.deepEqual(sshTarget(['ssh'], { user: null, host: 'h', port: null }), ['ssh', 'h']);
  assert.deepEqual(sshTarget(['ssh', '-i', 'k'], { user: 'u', host: 'h', port: 2222 }), ['ssh', '-i', 'k', '-p', '2222', 'u@h']);
  assert.deepEqual(sshTarget(['ssh'], { user: '', host: '::1', port: 0 }), ['ssh', '::1']);
});

test('withKeepalive appends after the user words', () => {
  assert.deepEqual(withKeepalive(['ssh', '-o', 'ServerAliveInterval=7'], { interval: 10, countMax: 30 }), [
    'ssh',
    '-o',
    'ServerAliveInterval=7',
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=30',
  ]);
  assert.deepEqual(withKeepalive(['ssh'], {}), ['ssh']);
  assert.throws(() => withKeepalive(['ssh'], { interval: 1.5 }));
});

test('parseSshArgv reads ssh options like ssh.c getopt', () => {
  assert.deepEqual(parseSshArgv(['-F', 'a', '-qFb', '-oX=1', '-o', 'Y 2', '-p', '22', 'u@h', '-l', 'z', 'cmd', '-F', 'no']), {
    destination: 'u@h',
    configFile: 'b',
    options: ['X=1', 'Y 2'],
    loginName: 'z',
    port: '22',
  });
  assert.equal(parseSshArgv(['--', '-F', 'x']).destination, '-F');
  assert.equal(parseSshArgv(['-vvv', '-4', 'host']).destination, 'host');
});

test('joinRsh round trip: splitLikePython(joinRsh(words)) === words (1000 random word lists)', () => {
  for (let seed = 1; seed <= 1000; seed++) {
    const words = randomWords(seed);
    assert.deepEqual(splitLikePython(joinRsh(words)), words, JSON.stringify(words));
  }
});
