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

test('probeReach: a stopping signal ends it without connecting', async () => {
  // A listener on loopback that would answer: the probe reports it closed only because it stopped,
  // and it never connected (no address outside loopback is ever tried, and no clock is read).
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const controller = new AbortController();
  controller.abort();
  const r = await probeReach('127.0.0.1', port, 10_000, controller.signal);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal(r.open, false);
  assert.equal(connections, 0);
});
