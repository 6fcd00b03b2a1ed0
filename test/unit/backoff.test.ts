import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HANDOFF_JITTER_MS, nextDelayMs, QUICK_MAX_MS } from '../../src/run/backoff.js';

test('an attempt that waited inside borg is followed at once (small jitter only)', () => {
  for (const random of [0, 0.5, 0.999]) {
    const d = nextDelayMs({ attemptDurationMs: 10_500, attemptLockWaitMs: 10_000, quickFailuresInARow: 0, remainingMs: 60_000, random });
    assert.ok(d >= 0 && d < HANDOFF_JITTER_MS, `${d}`);
  }
});

test('quick failures back off exponentially with jitter, capped', () => {
  const at = (n: number, random: number) =>
    nextDelayMs({ attemptDurationMs: 200, attemptLockWaitMs: 10_000, quickFailuresInARow: n, remainingMs: 1e9, random });
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => at(n, 0)),
    [500, 1000, 2000, 4000],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => at(n, 0.999)).map((d) => Math.round(d / 100)),
    [10, 20, 40, 80],
  );
  assert.equal(at(20, 0.999) <= QUICK_MAX_MS, true);
  assert.equal(at(20, 0) >= QUICK_MAX_MS / 2, true);
  // Two clients with different random draws do not retry in step.
  assert.notEqual(at(3, 0.1), at(3, 0.9));
});

test('never sleeps past the deadline', () => {
  assert.equal(
    nextDelayMs({ attemptDurationMs: 100, attemptLockWaitMs: null, quickFailuresInARow: 5, remainingMs: 700, random: 0.9 }),
    700,
  );
  assert.equal(nextDelayMs({ attemptDurationMs: 100, attemptLockWaitMs: null, quickFailuresInARow: 5, remainingMs: 0, random: 0.9 }), 0);
});
