import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// The monitoring options as tborg's own bin shows them (moved from test/unit/monitor.test.ts, which
// stays free of child processes).

test('tborg plan shows the connect wait: 15 min without a terminal on stdin, 0 with one, the option, none for a local repository', async () => {
  const { spawnSync } = await import('node:child_process');
  const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BORG_RSH: 'ssh -F /dev/null',
    XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'tborg-plan-')),
  };
  delete env.TBORG_CONNECT_WAIT;
  const plan = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [bin, 'plan', '--json', ...args], {
      env: { ...env, ...extra },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { retry: { connectWaitSeconds: number } }).retry.connectWaitSeconds;
  };
  assert.equal(plan(['create', 'backup:repo::a', '/x']), 900);
  assert.equal(plan(['create', 'backup:repo::a', '/x'], { TBORG_CONNECT_WAIT: '90s' }), 90);
  assert.equal(plan(['--tborg-connect-wait', '0', 'create', 'backup:repo::a', '/x']), 0);
  assert.equal(plan(['create', '/srv/local::a', '/x']), 0);
  const line = [process.execPath, bin, 'plan', '--json', 'create', 'backup:repo::a', '/x'].map((w) => `'${w}'`).join(' ');
  const tty = spawnSync('script', ['-qec', line, '/dev/null'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /"connectWaitSeconds": 0\b/);
});
