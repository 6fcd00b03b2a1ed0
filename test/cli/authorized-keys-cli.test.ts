import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// `tborg authorized-keys` through tborg's own bin (moved from test/host/authorized-keys.test.ts,
// which stays free of tborg processes).

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgOpCX1wHbaj7eO+mLVc6g9orqHZfVfoNtDeA+UVcyP';
const ED25519_PUB = `${ED25519} backup@client one\n`;

test('the bin: key on stdin, exit 0; bad input exits 2 with one stderr line and empty stdout', () => {
  const bin = new URL('../../../bin/tborg.js', import.meta.url).pathname;
  const ok = spawnSync(process.execPath, [bin, 'authorized-keys', '--restrict-to-path', '/srv', '-'], {
    input: ED25519_PUB,
    encoding: 'utf8',
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, `command="borg serve --restrict-to-path /srv",restrict ${ED25519} backup@client one\n`);
  const bad = spawnSync(process.execPath, [bin, 'authorized-keys', '--restrict-to-path', '/srv/a\nb', '-'], {
    input: ED25519_PUB,
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /contains a line break/);
});
