import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { probeReach } from '../../src/run/reach-probe.js';

// tborg's TCP probe (README "A server that cannot be reached at start") against real sockets on
// loopback: a listener answers, a closed port refuses in ssh's words, a name that does not resolve
// says so, and a stopping signal ends the probe at once.

test("probeReach: a listening port answers; the same port closed refuses, in ssh's words", async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  assert.deepEqual(await probeReach('127.0.0.1', port, 5000), { open: true, detail: `connect to host 127.0.0.1 port ${port}` });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.deepEqual(await probeReach('127.0.0.1', port, 5000), {
    open: false,
    detail: `connect to host 127.0.0.1 port ${port}: Connection refused`,
  });
});

test('probeReach: a name that does not resolve', async () => {
  const r = await probeReach('no-such-host.invalid', 22, 5000);
  assert.deepEqual(r, { open: false, detail: 'Could not resolve hostname no-such-host.invalid' });
});

test('probeReach: an aborted signal ends it at once', async () => {
  const controller = new AbortController();
  controller.abort();
  const started = Date.now();
  const r = await probeReach('192.0.2.1', 22, 10_000, controller.signal);
  assert.equal(r.open, false);
  assert.ok(Date.now() - started < 1000);
});
