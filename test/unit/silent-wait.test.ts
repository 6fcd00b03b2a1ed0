import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSilentWait, HOLDS_LOCK_MARGIN_MS } from '../../src/run/wait-status.js';

// The spinner's text while the first attempt sits still: what tborg knows (no answer yet), never a
// claim that a lock is held, and nothing once the attempt has outlived its own lock wait.

const view = {
  target: 'ssh://h/r',
  start: 0,
  deadline: 640_000,
  attempts: 1,
  running: true,
  attemptStart: 0,
  attemptWaitMs: 10_000,
  overheadMs: 0,
};

test('an attempt that sits still: no answer yet, the time of the whole wait', () => {
  assert.equal(describeSilentWait(view, 3_000), 'waiting for ssh://h/r to answer (a lock held elsewhere?), 3s of 10m40s');
});

test('none once the attempt has outlived its lock wait: borg has the lock then', () => {
  assert.equal(describeSilentWait(view, 10_000 + HOLDS_LOCK_MARGIN_MS + 1), null);
});
