import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { drainBeforeDying } from '../../src/run/exit-signal.js';

// A stream whose reader takes each write only when `release` is called (or never).
function laggingStream(): { stream: Writable; release: () => void } {
  const waiting: (() => void)[] = [];
  const stream = new Writable({ highWaterMark: 4, write: (_chunk, _enc, callback) => void waiting.push(callback) });
  const release = (): void => {
    for (const callback of waiting.splice(0)) callback();
  };
  return { stream, release };
}

test('nothing queued: resolves without waiting for the limit', async () => {
  const { stream } = laggingStream();
  let resolved = false;
  const drained = drainBeforeDying([stream], 60_000).then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, true);
  await drained;
});

test('resolves once the reader took everything, not before', async () => {
  const { stream, release } = laggingStream();
  stream.write('borg said this last\n');
  let resolved = false;
  const drained = drainBeforeDying([stream], 60_000).then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, 'still queued: still waiting');
  release();
  await drained;
  assert.equal(stream.writableLength, 0);
});

test('a reader that never reads: resolves at the limit', async () => {
  const { stream } = laggingStream();
  stream.write('never read\n');
  await drainBeforeDying([stream], 20);
  assert.ok(stream.writableLength > 0, 'gave up with the bytes still queued');
});
