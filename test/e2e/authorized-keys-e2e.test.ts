import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';

// tborg's authorized_keys line in a real sshd (the lab's, OpenSSH 9.2p1) with real borg on both
// ends: the key may run borg inside its path, nowhere else, and nothing but borg serve.

const available = labAvailable();
const bin = new URL('../../../bin/tborg.js', import.meta.url).pathname;

// Runs `tborg authorized-keys ARGS -` with the lab's client key on stdin; returns the line.
function authorizedKeysLine(lab: Lab, args: string[]): string {
  const r = spawnSync(process.execPath, [bin, 'authorized-keys', ...args, '-'], { input: `${lab.clientPublicKey}\n`, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 2, 'one line');
  return r.stdout;
}

function text(r: { stdout: Buffer; stderr: Buffer }): string {
  return `${r.stdout.toString()}${r.stderr.toString()}`;
}

// Every file below dir, relative to it.
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

describe('authorized-keys against the lab sshd', { skip: available.ok ? false : available.why }, () => {
  let lab: Lab;
  let allowed: string;
  let data: string;

  before(async () => {
    lab = await startLab({ name: 'authorized-keys' });
    allowed = lab.repoPath('allowed space');
    mkdirSync(allowed);
    data = join(lab.dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'file.txt'), 'hello borg\n'.repeat(1000));
  });
  after(async () => {
    await lab?.close();
  });

  test('the key runs borg inside its path (with a space) and is refused outside it', async () => {
    await lab.setAuthorizedKeys(authorizedKeysLine(lab, ['--restrict-to-path', allowed]));
    const repo = `ssh://${lab.host}${allowed}/repo one`;
    const init = await lab.run(['borg', 'init', '-e', 'none', repo], { timeoutMs: 60_000 });
    assert.equal(init.code, 0, text(init));
    const create = await lab.run(['borg', 'create', `${repo}::first`, data], { timeoutMs: 60_000 });
    assert.equal(create.code, 0, text(create));
    // The client's own --remote-path is ignored: the forced command decides what runs.
    const list = await lab.run(['borg', '--remote-path', '/nonexistent/borg', 'list', '--short', repo], { timeoutMs: 60_000 });
    assert.equal(list.code, 0, text(list));
    assert.equal(list.stdout.toString(), 'first\n');

    for (const name of ['outside', 'allowed spacex']) {
      const outside = lab.repoPath(name);
      const refused = await lab.run(['borg', 'init', '-e', 'none', `ssh://${lab.host}${outside}`], { timeoutMs: 60_000 });
      assert.equal(refused.code, 2, text(refused));
      assert.match(refused.stderr.toString(), /not allowed/i);
      assert.equal(existsSync(outside), false, `${outside} must not be created`);
    }
    const log = readFileSync(lab.sshdLog, 'utf8');
    assert.ok(log.includes(`forced-command (key-option) 'borg serve --restrict-to-path '${allowed}''`), 'sshd ran the forced command');
  });

  test('--restrict-to-repository allows that repository only', async () => {
    const repoPath = join(allowed, 'only this');
    await lab.setAuthorizedKeys(authorizedKeysLine(lab, ['--restrict-to-repository', repoPath]));
    const ok = await lab.run(['borg', 'init', '-e', 'none', `ssh://${lab.host}${repoPath}`], { timeoutMs: 60_000 });
    assert.equal(ok.code, 0, text(ok));
    const sibling = join(allowed, 'only this too');
    const refused = await lab.run(['borg', 'init', '-e', 'none', `ssh://${lab.host}${sibling}`], { timeoutMs: 60_000 });
    assert.equal(refused.code, 2, text(refused));
    assert.equal(existsSync(sibling), false);
  });

  test('the key never runs another command, gets no pty and no forwarding', async () => {
    await lab.setAuthorizedKeys(authorizedKeysLine(lab, ['--restrict-to-path', allowed]));
    const marker = join(lab.dir, 'marker');
    const id = await lab.run(lab.sshArgv('id'), { input: '', timeoutMs: 30_000 });
    assert.doesNotMatch(text(id), /uid=/);
    const touch = await lab.run(lab.sshArgv(`touch ${marker}`), { input: '', timeoutMs: 30_000 });
    assert.equal(existsSync(marker), false, text(touch));
    const shell = await lab.run([...lab.sshArgv().slice(0, -1), '-tt', lab.host], { input: `touch ${marker}\nexit\n`, timeoutMs: 30_000 });
    assert.match(shell.stderr.toString(), /PTY allocation request failed/);
    assert.equal(existsSync(marker), false, text(shell));
    // ssh -W: a direct-tcpip channel to sshd's own port. `restrict` forbids port forwarding.
    const forward = await lab.run([...lab.sshArgv().slice(0, -1), '-W', `127.0.0.1:${lab.port}`, lab.host], {
      input: '',
      timeoutMs: 30_000,
    });
    assert.notEqual(forward.code, 0);
    assert.match(forward.stderr.toString(), /administratively prohibited|open failed/);
  });

  test('sshd and the login shell hand borg serve exactly the argv and environment tborg meant', async () => {
    // A fake borg (path with a space) that prints its argv, SSH_ORIGINAL_COMMAND and the variable
    // set with --set-env; the path to restrict holds quotes, $, a backquote and a backslash.
    const fakeDir = join(lab.dir, 'fake borg');
    mkdirSync(fakeDir);
    const fake = join(fakeDir, 'borg serve.js');
    writeFileSync(
      fake,
      `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ argv: process.argv.slice(2), original: process.env.SSH_ORIGINAL_COMMAND ?? null, hostId: process.env.BORG_HOST_ID ?? null }));\n`,
    );
    chmodSync(fake, 0o755);
    const nasty = join(lab.dir, `it's "$HOME" \`id\` back\\slash`);
    const value = `x'y"z $USER \\`;
    await lab.setAuthorizedKeys(
      authorizedKeysLine(lab, ['--restrict-to-path', nasty, '--append-only', '--remote-path', fake, '--set-env', `BORG_HOST_ID=${value}`]),
    );
    for (const command of [['id'], ['borg', 'serve', '--umask=077'], []]) {
      const r = await lab.run(lab.sshArgv(...command), { input: '', timeoutMs: 30_000 });
      assert.equal(r.code, 0, text(r));
      assert.deepEqual(JSON.parse(r.stdout.toString()), {
        argv: ['serve', '--restrict-to-path', nasty, '--append-only'],
        original: command.length === 0 ? null : command.join(' '),
        hostId: value,
      });
    }
  });

  test('with --append-only a delete and compact leave every segment on the server', async () => {
    await lab.setAuthorizedKeys(authorizedKeysLine(lab, ['--restrict-to-path', allowed, '--append-only']));
    const repoPath = join(allowed, 'append only');
    const repo = `ssh://${lab.host}${repoPath}`;
    const init = await lab.run(['borg', 'init', '-e', 'none', repo], { timeoutMs: 60_000 });
    assert.equal(init.code, 0, text(init));
    const create = await lab.run(['borg', 'create', `${repo}::a1`, data], { timeoutMs: 60_000 });
    assert.equal(create.code, 0, text(create));
    const before = filesBelow(join(repoPath, 'data'));
    const del = await lab.run(['borg', 'delete', `${repo}::a1`], { timeoutMs: 60_000 });
    assert.equal(del.code, 0, text(del));
    const compact = await lab.run(['borg', 'compact', repo], { timeoutMs: 60_000 });
    assert.equal(compact.code, 0, text(compact));
    const afterFiles = filesBelow(join(repoPath, 'data'));
    for (const file of before) assert.ok(afterFiles.includes(file), `${file} was removed`);
    // The deletion itself is only a new transaction: the old ones are still in the repository,
    // which is what lets an admin roll it back (borg docs, append_only_mode).
    assert.ok(afterFiles.length > before.length);
  });
});
