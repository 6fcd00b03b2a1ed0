// The printed sshd lines, checked by the installed sshd -t (the pure table is test/unit/sshd-config.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSshdConfigCommand } from '../helpers/sshd-config-command.js';

// `sshd -t` needs its privilege separation directory /run/sshd. When it is missing, a private mount
// namespace with a tmpfs on /run provides one without touching the machine (needs root).
function sshdTest(configFile: string): { status: number | null; output: string } | undefined {
  const sshd = '/usr/sbin/sshd';
  if (!existsSync(sshd)) return undefined;
  const r = existsSync('/run/sshd')
    ? spawnSync(sshd, ['-t', '-f', configFile], { encoding: 'utf8' })
    : process.getuid?.() === 0
      ? spawnSync(
          'unshare',
          ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -t -f "$1"', 'sh', configFile],
          { encoding: 'utf8' },
        )
      : undefined;
  if (!r || r.error) return undefined;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('sshd -t accepts the printed lines, with and without Match User', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tborg-sshd-config-'));
  try {
    const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    if (keygen.error || keygen.status !== 0) return t.skip('ssh-keygen not available');
    const base = `HostKey ${join(dir, 'host_key')}\nPidFile none\nPort 2222\n`;
    // First prove this sshd -t refuses a bad line, so an "ok" below means something.
    writeFileSync(join(dir, 'broken'), `${base}ClientAliveIntervall 10\n`);
    const broken = sshdTest(join(dir, 'broken'));
    if (!broken) return t.skip('cannot run sshd -t here (no /run/sshd and not root)');
    assert.notEqual(broken.status, 0, broken.output);
    for (const args of [[], ['--server-alive', '1x3'], ['--match-user', 'borg,backup'], ['--server-alive', '86400x1000']]) {
      const r = await runSshdConfigCommand(args);
      const file = join(dir, `sshd_config_${args.join('_')}`);
      writeFileSync(file, base + r.stdout);
      const checked = sshdTest(file);
      assert.ok(checked);
      assert.equal(checked.status, 0, `${JSON.stringify(args)}: ${checked.output}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
