import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSshdConfig } from '../../src/guide/sshd-config.js';
import type { TborgOptions } from '../../src/cli/tborg-options.js';
import { runSshdConfigCommand } from '../helpers/sshd-config-command.js';

const HEADER = '# borg serve: let sshd notice a vanished client so a stale `borg serve` releases the repository lock\n';

const formats: Array<[string, Parameters<typeof formatSshdConfig>[0], string]> = [
  [
    'the guide',
    { serverAlive: { interval: 10, countMax: 30 } },
    HEADER +
      '# (tborg: with these values a stale lock is released after about 620 s (10m20s); run clients with --tborg-server-alive 10x30)\n' +
      'ClientAliveInterval 10\nClientAliveCountMax 30\n',
  ],
  [
    'short',
    { serverAlive: { interval: 5, countMax: 3 } },
    HEADER +
      '# (tborg: with these values a stale lock is released after about 40 s; run clients with --tborg-server-alive 5x3)\n' +
      'ClientAliveInterval 5\nClientAliveCountMax 3\n',
  ],
  [
    'Match User',
    { serverAlive: { interval: 10, countMax: 30 }, matchUser: 'borg' },
    HEADER +
      '# (tborg: with these values a stale lock is released after about 620 s (10m20s); run clients with --tborg-server-alive 10x30)\n' +
      '# a Match block lasts until the next Match line: put it at the end of sshd_config\n' +
      'Match User borg\n    ClientAliveInterval 10\n    ClientAliveCountMax 30\n',
  ],
  [
    'borg2: the same lines, and what they do not do for store locks',
    { serverAlive: { interval: 10, countMax: 30 }, borg2: true },
    HEADER +
      '# (tborg: with these values a stale lock is released after about 620 s (10m20s); run clients with --tborg-server-alive 10x30)\n' +
      '# borg2 (2.0.0b22 and later, ssh:// served by `borg serve --rest`): these lines still end a vanished\n' +
      "# client's `borg serve --rest` on the server, but they do NOT release its lock: borg2 keeps the lock\n" +
      '# in the repository, and another client deletes it only once it is 30 minutes old (tborg waits that\n' +
      "# long for it). The client side keepalive is borgstore's own (ServerAliveInterval 30, CountMax 3).\n" +
      'ClientAliveInterval 10\nClientAliveCountMax 30\n',
  ],
];
for (const [name, options, expected] of formats) {
  test(`formatSshdConfig: ${name}`, () => {
    assert.equal(formatSshdConfig(options), expected);
  });
}

test('sshd-config prints the guide by default', async () => {
  const r = await runSshdConfigCommand([]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, formatSshdConfig({ serverAlive: { interval: 10, countMax: 30 } }));
});

test('sshd-config takes --tborg-server-alive (parsed by main) and --server-alive, which wins', async () => {
  const a = await runSshdConfigCommand([], { serverAlive: { interval: 3, countMax: 2 } });
  assert.match(a.stdout, /^ClientAliveInterval 3\nClientAliveCountMax 2\n$/m);
  const b = await runSshdConfigCommand(['--server-alive', '2x4'], { serverAlive: { interval: 3, countMax: 2 } });
  assert.match(b.stdout, /ClientAliveInterval 2\nClientAliveCountMax 4\n$/);
  assert.match(b.stdout, /about 20 s;/);
  const c = await runSshdConfigCommand(['--server-alive=7x5', '--match-user', 'backup']);
  assert.match(c.stdout, /Match User backup\n {4}ClientAliveInterval 7\n {4}ClientAliveCountMax 5\n$/);
});

test('sshd-config --help prints usage on stdout', async () => {
  const r = await runSshdConfigCommand(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^tborg sshd-config /);
  assert.match(r.stdout, /--match-user/);
});

const bad: Array<[string[], Partial<TborgOptions>, RegExp]> = [
  [[], { serverAlive: null }, /'none'.*give IxC/],
  [['--server-alive', 'none'], {}, /'none'/],
  [['--server-alive', '10'], {}, /--server-alive: expected INTERVALxCOUNT/],
  [['--server-alive', '0x3'], {}, /expected INTERVALxCOUNT/],
  [['--server-alive'], {}, /Not enough arguments/],
  [['--server-alive', '1x1', '--server-alive', '2x2'], {}, /more than once/],
  [['--nope'], {}, /Unknown argument: nope/],
  [['host'], {}, /^Unknown argument: host \(see tborg sshd-config --help\)$/],
  [['--match-user', 'a b'], {}, /--match-user "a b"/],
  [['--match-user', 'a#b'], {}, /--match-user/],
];
for (const [args, options, message] of bad) {
  test(`sshd-config refuses ${JSON.stringify(args)} ${JSON.stringify(options)}`, async () => {
    const r = await runSshdConfigCommand(args, options);
    assert.equal(r.stdout, '');
    assert.ok(r.error, 'expected an error');
    assert.equal(r.error.exitCode, 2);
    assert.match(r.error.message, message);
    // No prefix: main writes `tborg: sshd-config: ` once.
    assert.doesNotMatch(r.error.message, /^tborg:|^sshd-config:/);
    assert.ok(!r.error.message.includes('\n'));
  });
}
