import { GUIDE_ALIVE_PAIR } from '../../src/ssh/alive-pair.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attemptLockWait,
  computeLockWait,
  computeServerBound,
  formatDuration,
  LOCK_WAIT_MARGIN_SECONDS,
  TCP_KEEPALIVE_BOUND_SECONDS,
  type AlivePair,
} from '../../src/plan/lock-wait.js';

const pair = (interval: number, countMax: number): AlivePair => ({ interval, countMax });

test('guide constants are the borg serve guide values', () => {
  assert.deepEqual(GUIDE_ALIVE_PAIR, pair(10, 30));
  assert.equal(TCP_KEEPALIVE_BOUND_SECONDS, 7875);
});

// docs/facts.md: lock released after these many seconds with the client black-holed (OpenSSH 9.2p1).
const measured: Array<[AlivePair, number, number]> = [
  [pair(1, 3), 8, 7.3],
  [pair(2, 3), 16, 15.5],
  [pair(3, 2), 18, 17.9],
  [pair(5, 1), 20, 19.4],
  [pair(1, 10), 22, 21.8],
];
for (const [alive, bound, release] of measured) {
  test(`server bound ${alive.interval}x${alive.countMax} = ${bound} s covers the measured ${release} s`, () => {
    assert.equal(computeServerBound(alive), bound);
    assert.ok(bound >= release);
    const model = computeLockWait(null, alive);
    assert.equal(model.serverBound, bound);
    assert.ok(model.seconds > release);
  });
}

test("the guide's 10x30 server takes 620 s, longer than the guide's --lock-wait 600", () => {
  const model = computeLockWait(GUIDE_ALIVE_PAIR, GUIDE_ALIVE_PAIR);
  assert.equal(model.serverBound, 620);
  assert.ok(model.serverBound > 600);
});

// [name, keepalive, serverAlive, clientBound, serverBound, seconds, formula, tcpFallback]
const table: Array<[string, AlivePair | null, AlivePair | null | undefined, number, number, number, string, boolean]> = [
  ['guide both sides', pair(10, 30), pair(10, 30), 310, 620, 640, 'max((30+1)x10, 2x(30+1)x10) + 20 = 640 s', false],
  ['server unknown: assume the guide', pair(10, 30), undefined, 310, 620, 640, 'max((30+1)x10, 2x(30+1)x10) + 20 = 640 s', false],
  ['keepalive off', null, undefined, 0, 620, 640, 'max(0, 2x(30+1)x10) + 20 = 640 s', false],
  ['server has none: TCP keepalive', pair(10, 30), null, 310, 7875, 7895, 'max((30+1)x10, 7200+9x75) + 20 = 7895 s', true],
  ['both off', null, null, 0, 7875, 7895, 'max(0, 7200+9x75) + 20 = 7895 s', true],
  ['fast server', pair(10, 30), pair(1, 3), 310, 8, 330, 'max((30+1)x10, 2x(3+1)x1) + 20 = 330 s', false],
  ['client slower than server', pair(60, 10), pair(5, 3), 660, 40, 680, 'max((10+1)x60, 2x(3+1)x5) + 20 = 680 s', false],
  ['ssh defaults CountMax 3', pair(15, 3), pair(15, 3), 60, 120, 140, 'max((3+1)x15, 2x(3+1)x15) + 20 = 140 s', false],
];
for (const [name, keepalive, serverAlive, clientBound, serverBound, seconds, formula, tcp] of table) {
  test(`computeLockWait: ${name}`, () => {
    const model = computeLockWait(keepalive, serverAlive);
    assert.equal(model.clientBound, clientBound);
    assert.equal(model.serverBound, serverBound);
    assert.equal(model.margin, LOCK_WAIT_MARGIN_SECONDS);
    assert.equal(model.seconds, seconds);
    assert.equal(model.formula, formula);
    assert.equal(model.tcpKeepaliveFallback, tcp);
    assert.deepEqual(model.serverAlive, serverAlive === undefined ? GUIDE_ALIVE_PAIR : serverAlive);
    if (keepalive) assert.ok(model.seconds > keepalive.interval * keepalive.countMax, 'W > I x C');
    assert.ok(model.seconds >= Math.max(clientBound, serverBound));
  });
}

test('W > I x C for every keepalive and server setting', () => {
  for (const i of [1, 2, 5, 10, 30, 60, 300]) {
    for (const c of [1, 3, 10, 30, 100]) {
      for (const server of [undefined, null, pair(1, 1), pair(i, c)]) {
        const model = computeLockWait(pair(i, c), server);
        assert.ok(model.seconds > i * c, `${i}x${c} ${JSON.stringify(server)}`);
        assert.ok(model.seconds > model.clientBound && model.seconds > model.serverBound);
      }
    }
  }
});

const attempts: Array<[number, 1 | 2, number]> = [
  [640, 1, 10],
  [640, 2, 10],
  [15, 1, 10],
  [14, 1, 14],
  [10, 1, 10],
  [9.9, 1, 9],
  [3, 1, 3],
  [1.5, 1, 1],
  [1, 1, 1],
  [0.2, 1, 1],
  [0, 1, 1],
  [-5, 2, 1],
  [Number.NaN, 1, 1],
  [7895, 2, 10],
];
for (const [remaining, major, expected] of attempts) {
  test(`attemptLockWait(${remaining}, ${major}) = ${expected}`, () => {
    assert.equal(attemptLockWait(remaining, major), expected);
  });
}

test('attempts cover W exactly, each short enough for borg to poll every <= 1.5 s', () => {
  for (const w of [1, 2, 14, 15, 16, 25, 640, 7895]) {
    let left = w;
    const parts: number[] = [];
    while (left > 0) {
      const a = attemptLockWait(left, 1);
      assert.ok(Number.isInteger(a) && a >= 1 && a <= Math.max(1, left));
      // borg 1.x polls every min(60, lock_wait / 10) s (locking.py TimeoutTimer).
      assert.ok(Math.min(60, a / 10) <= 1.5);
      parts.push(a);
      left -= a;
    }
    assert.equal(
      parts.reduce((x, y) => x + y, 0),
      w,
    );
    assert.ok(parts.every((p) => p >= 5) || parts.length === 1, `${w}: ${parts.join('+')}`);
  }
});

const durations: Array<[number, string]> = [
  [640, '10m40s'],
  [72, '1m12s'],
  [45, '45s'],
  [7875, '2h11m15s'],
  [0, '0s'],
  [600, '10m0s'],
  [3605, '1h0m5s'],
  [59.6, '1m0s'],
  [-3, '0s'],
];
for (const [seconds, text] of durations) {
  test(`formatDuration(${seconds}) = ${text}`, () => {
    assert.equal(formatDuration(seconds), text);
  });
}

// Store locks (borg2 rest): borg polls every random 1-5 s within an attempt, so attempts are long
// (60 s) and only split W; the last one folds in a remainder under 5 s.
const storeAttempts: Array<[number, number]> = [
  [1860, 60],
  [64, 64],
  [65, 60],
  [30, 30],
  [1, 1],
];
for (const [remaining, expected] of storeAttempts) {
  test(`attemptLockWait(${remaining}, 2, 'store') = ${expected}`, () => {
    assert.equal(attemptLockWait(remaining, 2, 'store'), expected);
  });
}
