import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideKeepalive, findKeepaliveOptions, mentionsSetupTimeout } from '../../src/plan/keepalive.js';

const guide = { interval: 10, countMax: 30 };
const cases: Array<[string, Parameters<typeof decideKeepalive>, ReturnType<typeof decideKeepalive>]> = [
  ['not ssh', [null, 'inject', guide], { state: 'not-applicable', inject: {}, effective: null }],
  [
    'nothing configured: inject both',
    [{ interval: 0, countMax: 3 }, 'inject', guide],
    { state: 'injected', inject: { interval: 10, countMax: 30 }, effective: { interval: 10, countMax: 30 } },
  ],
  [
    'user count kept',
    [{ interval: 0, countMax: 5 }, 'inject', { interval: 7, countMax: 9 }],
    { state: 'injected', inject: { interval: 7 }, effective: { interval: 7, countMax: 5 } },
  ],
  [
    'configured interval never overridden',
    [{ interval: 60, countMax: 3 }, 'inject', guide],
    { state: 'configured', inject: {}, effective: { interval: 60, countMax: 3 } },
  ],
  [
    'warn changes nothing',
    [{ interval: 0, countMax: 3 }, 'warn', guide],
    { state: 'warned', inject: {}, effective: { interval: 0, countMax: 3 } },
  ],
  [
    'off changes nothing',
    [{ interval: 0, countMax: 3 }, 'off', guide],
    { state: 'off', inject: {}, effective: { interval: 0, countMax: 3 } },
  ],
  [
    'configured wins over warn',
    [{ interval: 5, countMax: 2 }, 'warn', guide],
    { state: 'configured', inject: {}, effective: { interval: 5, countMax: 2 } },
  ],
];
for (const [name, args, expected] of cases) {
  test(`decideKeepalive: ${name}`, () => assert.deepEqual(decideKeepalive(...args), expected));
}

// SetupTimeOut is the user's ServerAliveInterval only on an ssh that reads it so (Debian before 9.9p1);
// on Debian 13's it is a ConnectTimeout, and tborg's keepalive must still go in.
test('findKeepaliveOptions: ServerAliveInterval, its aliases, SetupTimeOut by what the ssh makes of it', () => {
  const given = (words: string[], setupTimeoutIsInterval = false): [boolean, boolean] => {
    const g = findKeepaliveOptions(words, setupTimeoutIsInterval);
    return [g.serverAliveInterval, g.serverAliveCountMax];
  };
  assert.deepEqual(given(['ssh', '-o', 'ServerAliveInterval=0']), [true, false]);
  assert.deepEqual(given(['ssh', '-oserveralivecountmax 3']), [false, true]);
  assert.deepEqual(given(['ssh', '-o', 'ProtocolKeepAlives 5']), [true, false]);
  assert.deepEqual(given(['ssh', '-o', 'SetupTimeOut=5'], true), [true, false]);
  assert.deepEqual(given(['ssh', '-o', 'SetupTimeOut=5'], false), [false, false]);
  assert.deepEqual(given(['ssh', '-p', '22', 'SetupTimeOut=5']), [false, false]);
  assert.equal(mentionsSetupTimeout(['ssh', '-o', 'setuptimeout=5']), true);
  assert.equal(mentionsSetupTimeout(['ssh', '-o', 'ConnectTimeout=5']), false);
});
