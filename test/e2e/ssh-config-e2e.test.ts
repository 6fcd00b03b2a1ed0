import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';

// `tborg ssh-config` where it needs root: the default file (~/.ssh/config of the user in the password
// database) written in a mount namespace with a tmpfs over that home, and the written keepalive against
// the lab's real sshd. The rest: test/host/ssh-config-command.test.ts.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-ssh-config-e2e-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Outcome {
  const r = spawnSync(process.execPath, [TBORG, 'ssh-config', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// The default file is ~/.ssh/config of the user in the password database, not $HOME: run the CLI in
// a mount namespace of its own with an empty tmpfs over that home, so the real one is never touched.
const namespaceOk = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;

test('no --config: creates ~/.ssh (700) and ~/.ssh/config (600) under the passwd home, not $HOME', {
  skip: !namespaceOk && 'needs root and unshare -m',
}, () => {
  const home = userInfo().homedir;
  const fakeHome = join(dir, 'not-home');
  mkdirSync(fakeHome);
  // The tmpfs also hides a project cloned under that home (root's /root/tborg): then the project is
  // bound back in at its own path, so tborg still runs from where it is.
  const project = ROOT.replace(/\/+$/, '');
  const underHome = project.startsWith(`${home.replace(/\/+$/, '')}/`);
  const stash = join(dir, 'project-stash');
  if (underHome) mkdirSync(stash);
  const script = [
    'set -e',
    ...(underHome ? [`mount --bind '${project}' '${stash}'`] : []),
    `mount -t tmpfs tborg-test-home '${home}'`,
    ...(underHome ? [`mkdir -p '${project}'`, `mount --bind '${stash}' '${project}'`] : []),
    `'${process.execPath}' '${TBORG}' ssh-config backup --write`,
    `'${process.execPath}' '${TBORG}' ssh-config backup --write`,
    `stat -c '%a %n' '${home}/.ssh' '${home}/.ssh/config'`,
    `cat '${home}/.ssh/config'`,
  ].join('\n');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, HOME: fakeHome },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`Created ${home}/\\.ssh/config`));
  assert.match(r.stdout, /nothing to change/);
  assert.match(r.stdout, new RegExp(`^700 ${home}/\\.ssh$`, 'm'));
  assert.match(r.stdout, new RegExp(`^600 ${home}/\\.ssh/config$`, 'm'));
  assert.match(
    r.stdout,
    /^Host backup\n {2}# keepalive for borg, added by tborg ssh-config\n {2}ServerAliveInterval 10\n {2}ServerAliveCountMax 30$/m,
  );
  assert.deepEqual(readdirSync(fakeHome), [], '$HOME is not used');
  assert.ok(!existsSync(join(fakeHome, '.ssh')));
});

// What the keepalive is for, with the lab's real sshd (OpenSSH 9.2p1) in its network namespace: once
// the connection is black-holed, ssh without a keepalive keeps waiting (TCP would take ~2 h); after
// `tborg ssh-config --write` it gives up after about (CountMax + 1) x Interval (docs/facts.md).
const lab = labAvailable();
describe('ssh-config against the lab sshd', { skip: lab.ok ? false : lab.why }, () => {
  let server: Lab;
  before(async () => {
    server = await startLab({ name: 'ssh-config' });
  });
  after(async () => {
    await server?.close();
  });

  // Starts `ssh -F config HOST 'echo ready; sleep 60'`, black-holes its connection once the session
  // runs, and returns how many seconds ssh took to exit (null: still running after `limit` s; it is
  // then killed) and its stderr.
  async function secondsToNotice(config: string, limit: number): Promise<{ seconds: number | null; stderr: string }> {
    const known = new Set((await server.clientConnections()).map((c) => c.localPort));
    const child: ChildProcess = server.spawn(['ssh', '-F', config, server.host, 'echo ready; sleep 60'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let port: number | undefined;
    for (let i = 0; i < 100 && port === undefined; i++) {
      port = (await server.clientConnections()).map((c) => c.localPort).find((p) => !known.has(p));
      if (port === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(port !== undefined, `ssh connected (${stderr})`);
    // The session runs before the connection goes dark: a cut during the handshake is ssh's connect
    // timeout, not its keepalive (a fixed 500 ms pause was too short on a loaded machine).
    await waitFor('the session to start', () => stdout.includes('ready'), 60_000).catch(() =>
      assert.fail(`the session did not start (${stderr})`),
    );
    // The clock starts before the rule goes in: the cut is at or after it, never before.
    const start = Date.now();
    await server.dropConnection(port);
    const outcome = await Promise.race([exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('waiting'), limit * 1000))]);
    if (outcome !== 'exited') {
      child.kill('SIGKILL');
      await exited;
    }
    await server.heal();
    return { seconds: outcome === 'exited' ? (Date.now() - start) / 1000 : null, stderr };
  }

  test('--write gives the lab host a keepalive that ends a dead connection in ~(C+1) x I s', async () => {
    const config = join(server.dir, 'client config copy');
    copyFileSync(server.sshConfig, config);
    const without = await secondsToNotice(config, 8);
    assert.equal(without.seconds, null, 'without a keepalive ssh keeps waiting');

    const r = cli([server.host, '--config', config, '--write', '--keepalive', '1x2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ServerAliveInterval 1, ServerAliveCountMax 2 for /);

    const withKeepalive = await secondsToNotice(config, 20);
    assert.ok(withKeepalive.seconds !== null, 'ssh gave up');
    // At most (2 + 1) x 1 s after the last answer before the cut, plus scheduling slack. At least more
    // than one interval: the last answer can precede the cut by up to one interval and ssh keeps its
    // schedule in whole seconds, so a full test run saw 1.99 s; giving up at the first unanswered probe (CountMax
    // ignored) would take at most 1 s.
    assert.ok(withKeepalive.seconds > 1 && withKeepalive.seconds <= 8, `${withKeepalive.seconds} s`);
    assert.match(withKeepalive.stderr, /Timeout, server .* not responding/);
  });
});
