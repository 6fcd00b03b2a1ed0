// rsh.ts against Python's shlex (the reference borg uses) and the real ssh: the pure table is
// test/unit/rsh.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { joinRsh, sshTarget, withKeepalive } from '../../src/ssh/rsh.js';
import { resolveSshSettings } from '../../src/ssh/ssh-settings.js';
import { randomWords, SPLIT_CASES } from '../helpers/rsh-cases.js';

// Python's own shlex, when there is a python3: the reference borg uses.
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => (p.includes('/') ? existsSync(p) : spawnSync(p, ['-c', '0']).status === 0));

function pythonSplit(inputs: readonly string[]): Array<string[] | string> {
  const script = `
import json, shlex, sys
out = []
for s in json.load(sys.stdin):
    try:
        out.append(shlex.split(s))
    except ValueError as e:
        out.append('error')
print(json.dumps(out))`;
  const r = spawnSync(PYTHON!, ['-c', script], { input: JSON.stringify(inputs), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<string[] | string>;
}

test('splitLikePython agrees with Python shlex.split on the table', { skip: PYTHON === undefined && 'no python3' }, () => {
  const py = pythonSplit(SPLIT_CASES.map(([s]) => s));
  SPLIT_CASES.forEach(([input, expected], i) => {
    assert.deepEqual(py[i], expected === null ? 'error' : expected, JSON.stringify(input));
  });
});

test("withKeepalive: the user's own -o still wins in ssh (first obtained value)", () => {
  const words = withKeepalive(['ssh', '-F', '/dev/null', '-o', 'ServerAliveInterval=7'], { interval: 10, countMax: 30 });
  const s = resolveSshSettings(sshTarget(words, { user: null, host: 'example.invalid', port: null }));
  assert.equal(s.serverAliveInterval, 7);
  assert.equal(s.serverAliveCountMax, 30);
});

test('joinRsh quotes exactly like Python shlex.join on 1000 random word lists', { skip: PYTHON === undefined && 'no python3' }, () => {
  const lists = Array.from({ length: 1000 }, (_, i) => randomWords(i + 1));
  const r = spawnSync(PYTHON!, ['-c', 'import json, shlex, sys\nprint(json.dumps([shlex.join(w) for w in json.load(sys.stdin)]))'], {
    input: JSON.stringify(lists),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(r.stdout) as string[];
  for (const [i, words] of lists.entries()) assert.equal(joinRsh(words), expected[i], JSON.stringify(words));
});

test('joinRsh round trip through Python shlex.split itself', { skip: PYTHON === undefined && 'no python3' }, () => {
  const lists = Array.from({ length: 300 }, (_, i) => randomWords(i + 5000));
  const py = pythonSplit(lists.map(joinRsh));
  for (const [i, words] of lists.entries()) assert.deepEqual(py[i], words, JSON.stringify(words));
});
