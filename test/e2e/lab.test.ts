import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { borgLines, initArgs, inLine, sshUrl } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { cleanStaleLabs, labAvailable, startLab, type Lab } from '../lab/lab.js';
import { isRunning, waitFor } from '../lab/processes.js';

// The test lab itself (test/lab/lab.ts): later tests trust it to inject faults, so it is tested too,
// with each borg line's own sshd and ssh (the machine's, or a Debian root's: test/lab/borgs.ts).

const available = labAvailable({ matrix: true });
const skip = available.ok ? false : available.why;
const ALIVE = { interval: 1, countMax: 3 };

function netnsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

describeEachLine('the lab', { skip }, (line) => {
  let lab: Lab;

  before(async () => {
    lab = await startLab({ clientAlive: ALIVE, name: `lab-test-${line.name}`, line });
  });

  after(async () => {
    await lab?.close();
  });

  test('ssh into it runs a command, with nothing extra on stderr', async () => {
    const r = await lab.run(lab.sshArgv('echo "$SSH_CONNECTION" "$BORG_BASE_DIR"'));
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.code, 0);
    const [from, , to, toPort, baseDir] = r.stdout.toString().trim().split(' ');
    assert.equal(from, '127.0.0.1');
    assert.equal(to, '127.0.0.1');
    assert.equal(Number(toPort), lab.port);
    // borg serve keeps its files in the lab, not in the server user's home.
    assert.equal(baseDir, join(lab.dir, 'server'));
    assert.match(lab.netns ?? '', /^tborg-lab-\d+-\d+$/);
    assert.ok(netnsList().includes(lab.netns!));
  });

  test('the client config sets no ServerAlive* (ssh -G shows the defaults)', async () => {
    assert.doesNotMatch(readFileSync(lab.sshConfig, 'utf8'), /^\s*ServerAlive/im);
    const r = await lab.run(['ssh', '-G', '-F', lab.sshConfig, lab.host]);
    assert.equal(r.code, 0, r.stderr.toString());
    const settings = r.stdout.toString();
    // 0 upstream; Debian's ssh makes BatchMode imply ServerAliveInterval 300 (its keepalive patch).
    assert.match(settings, /^serveraliveinterval (0|300)$/m);
    assert.match(settings, /^serveralivecountmax 3$/m);
    assert.match(settings, /^hostname 127\.0\.0\.1$/m);
    assert.match(settings, new RegExp(`^port ${lab.port}$`, 'm'));
    assert.match(settings, /^batchmode yes$/m);
    assert.equal(lab.rsh, `ssh -F ${lab.sshConfig}`);
    assert.equal(lab.env().BORG_RSH, lab.rsh);
  });

  test("sshd runs with the lab's ClientAlive settings", async () => {
    const r = await lab.run(['/usr/sbin/sshd', '-T', '-f', lab.sshdConfig]);
    assert.equal(r.code, 0, r.stderr.toString());
    // Keywords in any case: OpenSSH 10.6 prints them in CamelCase, older ones in lowercase.
    assert.match(r.stdout.toString(), /^clientaliveinterval 1$/im);
    assert.match(r.stdout.toString(), /^clientalivecountmax 3$/im);
  });

  test('setAuthorizedKeys decides who gets in and what runs', async () => {
    try {
      await lab.setAuthorizedKeys('');
      const refused = await lab.run(lab.sshArgv('true'));
      assert.equal(refused.code, 255);
      assert.match(refused.stderr.toString(), /Permission denied/);
      await lab.setAuthorizedKeys(`command="echo forced" ${lab.clientPublicKey}\n`);
      const forced = await lab.run(lab.sshArgv('echo', 'mine'));
      assert.equal(forced.code, 0, forced.stderr.toString());
      assert.equal(forced.stdout.toString(), 'forced\n');
    } finally {
      await lab.setAuthorizedKeys(`${lab.clientPublicKey}\n`);
    }
  });

  test('a repository whose path has a space works over ssh', async () => {
    const path = lab.repoPath('with space');
    assert.equal(lab.repoUrl('with space'), sshUrl(line, 'lab', path));
    const r = await lab.run([line.client, ...initArgs(line, lab.repoUrl('with space'))]);
    if (line.rest) {
      // borg2 2.0.0b22+ passes `borg serve --rest --backend FILE:<path>` to ssh as separate words
      // without quoting (repository.py rest_serve_command), so the server's shell splits the path:
      // plain borg2 itself cannot use such a repository over ssh (b25, measured here).
      assert.notEqual(r.code, 0);
      assert.match(r.stderr.toString(), /usage: borg2 .*serve/);
      return;
    }
    assert.equal(r.code, 0, r.stderr.toString());
    assert.ok(existsSync(join(path, 'config')));
  });

  test('dropConnection black-holes one live connection: its ssh gives up after (C+1) x I, the server later', async () => {
    const ssh = lab.spawn(
      ['ssh', '-F', lab.sshConfig, '-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2', lab.host, 'echo started; exec sleep 30'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    ssh.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    ssh.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => ssh.once('close', (code) => resolve(code)));
    await waitFor('the session to start', () => stdout.includes('started'), 10_000);

    const connections = await lab.clientConnections();
    const mine = connections.filter((c) => c.pid === ssh.pid);
    assert.equal(mine.length, 1, JSON.stringify(connections));
    assert.equal(mine[0]!.command, 'ssh');
    assert.equal((await lab.serverPids('sleep 30')).length, 1);

    const dropped = Date.now();
    await lab.dropConnection(mine[0]!.localPort);
    // Only that connection: a new one still works meanwhile.
    const other = await lab.run(lab.sshArgv('echo', 'still here'), { timeoutMs: 10_000 });
    assert.equal(other.stdout.toString(), 'still here\n');

    const code = await exited;
    const clientGaveUp = (Date.now() - dropped) / 1000;
    assert.equal(code, 255);
    assert.match(stderr, /Timeout, server .* not responding/);
    // (C+1) x I = 3 s of silence, counted from the server's last keepalive reply, which came up to
    // I = 1 s before the drop.
    assert.ok(clientGaveUp >= 1.5 && clientGaveUp <= 7, `ssh gave up after ${clientGaveUp} s`);

    // The server's session outlives the client (this is how a stale lock is made) until sshd's own
    // ClientAlive check (1 x 3 here; docs/facts.md: ~2 x (C+1) x I) ends it.
    assert.equal((await lab.serverPids('sleep 30')).length, 1, 'the server session outlives the client');
    await waitFor('sshd to end the dead session', async () => (await lab.serverPids('sleep 30')).length === 0, 15_000, 100);
    const serverGaveUp = (Date.now() - dropped) / 1000;
    assert.ok(serverGaveUp > clientGaveUp && serverGaveUp < 15, `server gave up after ${serverGaveUp} s`);

    await lab.heal();
    const healed = await lab.run(lab.sshArgv('true'), { timeoutMs: 10_000 });
    assert.equal(healed.code, 0, healed.stderr.toString());
  });

  test('dropAll stalls new connections until heal', async () => {
    await lab.dropAll();
    try {
      const r = await lab.run(['ssh', '-F', lab.sshConfig, '-o', 'ConnectTimeout=1', lab.host, 'true'], { timeoutMs: 10_000 });
      assert.equal(r.code, 255);
      assert.match(r.stderr.toString(), /timed out/i);
    } finally {
      await lab.heal();
    }
    const r = await lab.run(lab.sshArgv('true'), { timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr.toString());
  });
});

describe('the version matrix', { skip }, () => {
  for (const line of borgLines()) {
    test(`${line.name}: its client, and the server its lab starts, run borg ${line.version} and OpenSSH ${line.openssh}`, async (t) => {
      const lab = await startLab({ name: `matrix-${line.name}`, line });
      t.after(() => lab.close());
      const version = await lab.run([line.client, '--version']);
      assert.equal(version.stdout.toString(), `${line.client} ${line.version}\n`, version.stderr.toString());
      // borg serve on the server side: the remote path runs the line's borg there.
      const served = await lab.run(lab.sshArgv(line.remotePath, '--version'));
      assert.equal(served.stdout.toString(), `${line.client} ${line.version}\n`, served.stderr.toString());
      const ssh = await lab.run(['ssh', '-V']);
      assert.match(ssh.stderr.toString(), new RegExp(`^OpenSSH_${line.openssh.replaceAll('.', '\\.')}[ ,]`));
      // The server's sshd is the line's: the root's when it has one. Compared by device and inode of
      // its /proc/PID/root, not by path: inside a chroot (scripts/ci-in-root.sh) the kernel names
      // roots by their path outside it.
      const sshdRoot = statSync(`/proc/${lab.sshdPid}/root/`);
      const expected = statSync(line.root === undefined ? '/' : `${line.root}/`);
      assert.deepEqual(
        [sshdRoot.dev, sshdRoot.ino],
        [expected.dev, expected.ino],
        `sshd's root is ${readlinkSync(`/proc/${lab.sshdPid}/root`)}`,
      );
    });
  }

  test('in-root keeps the pid (signals reach the real process) and the working directory', async (t) => {
    const rooted = borgLines().find((l) => l.root !== undefined);
    if (!rooted) return t.skip('no Debian root in the matrix (TBORG_TEST_BORGS)');
    const cwd = mkdtempSync(join(tmpdir(), 'tborg-in-root-'));
    t.after(() => spawnSync('rm', ['-rf', cwd]));
    const [file, ...args] = inLine(rooted, ['sh', '-c', 'echo $$; pwd; cat /etc/debian_version']);
    const child = spawn(file!, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    const [pid, dir, debian] = out.split('\n');
    assert.equal(Number(pid), child.pid, "the command ran as the wrapper's own process");
    assert.equal(dir, cwd);
    // Inside the root: its own Debian release file, not the machine's.
    assert.notEqual(debian, readFileSync('/etc/debian_version', 'utf8').trim());
  });
});

describe('lab life cycle', { skip }, () => {
  test('close() leaves no namespace, sshd, session or directory, and can be called twice', async (t) => {
    const lab = await startLab({ name: 'close-test' });
    t.after(() => lab.close());
    const sleeper = lab.spawn(['sleep', '30'], { stdio: 'ignore' });
    const session = lab.spawn(lab.sshArgv('echo started; exec sleep 31'), { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    session.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor('the session to start', () => out.includes('started'), 10_000);
    const server = await lab.serverPids();
    assert.ok(server.length > 0);
    const pids = [lab.sshdPid, sleeper.pid!, session.pid!, ...server];

    await lab.close();
    await lab.close();
    assert.equal(netnsList().includes(lab.netns!), false);
    assert.equal(existsSync(lab.dir), false);
    await waitFor('every lab process to be gone', () => !pids.some(isRunning), 5_000);
  });

  test('without a namespace: plain loopback on a free port; fault injection says it needs one', async (t) => {
    const lab = await startLab({ netns: false, name: 'no-netns' });
    t.after(() => lab.close());
    assert.equal(lab.netns, undefined);
    assert.deepEqual(lab.command(['true']), ['true']);
    const r = await lab.run(lab.sshArgv('echo', 'ok'));
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal((await lab.clientConnections()).length, 0);
    await assert.rejects(lab.dropConnection(12345), /needs the lab's network namespace/);
    await lab.close();
    assert.equal(existsSync(lab.dir), false);
    assert.equal(isRunning(lab.sshdPid), false);
  });

  test('namespaces and directories of labs whose process died are cleaned up; live ones are not', async (t) => {
    const dead = spawnSync('true').pid;
    assert.ok(dead !== undefined && !isRunning(dead));
    const staleNs = `tborg-lab-${dead}-0`;
    const liveNs = `tborg-lab-${process.pid}-999`;
    t.after(() => {
      spawnSync('ip', ['netns', 'delete', liveNs]);
      spawnSync('ip', ['netns', 'delete', staleNs]);
    });
    assert.equal(spawnSync('ip', ['netns', 'add', staleNs]).status, 0);
    assert.equal(spawnSync('ip', ['netns', 'add', liveNs]).status, 0);
    const staleDir = mkdtempSync(join(tmpdir(), `tborg-lab-${dead}-`));
    cleanStaleLabs();
    const list = netnsList();
    assert.equal(list.includes(staleNs), false);
    assert.equal(list.includes(liveNs), true);
    assert.equal(existsSync(staleDir), false);
  });

  test('the lab needs root only for its namespace', () => {
    assert.equal(labAvailable({ netns: false }).ok, true);
    assert.equal(readFileSync('/proc/self/status', 'utf8').includes('Uid:\t0'), labAvailable().ok);
  });
});
