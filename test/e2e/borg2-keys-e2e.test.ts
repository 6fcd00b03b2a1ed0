import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { initArgs } from '../lab/borgs.js';
import { b2SkipNoRest, describeEachBorg2Line, TBORG, type Borg2Lab } from '../helpers/borg2-lab.js';
import { stopChild } from '../lab/processes.js';

// README "borg 2": `tborg doctor` on a borg2 rest-over-ssh repository, and `tborg authorized-keys --borg2` in a real sshd of borg2 2.0.0b25's root (OpenSSH 10.6)
// with a real borg2 on both ends. A write-only key may back up but not delete, and only in its
// repository. Only borg2 lines with `borg serve --rest` (b22+; the lab's b25).

function keyLine(b: Borg2Lab, args: string[]): string {
  const r = spawnSync(process.execPath, [TBORG, 'authorized-keys', ...args, '-'], {
    input: `${b.lab.clientPublicKey}\n`,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describeEachBorg2Line('borg2: authorized-keys --borg2', { lab: 'keys', lines: (l) => !b2SkipNoRest(l) }, (b, line) => {
  test('a write-only key backs up into its repository, cannot delete, and reaches no other repository', async () => {
    const repo = b.url('wo');
    const other = b.url('other');
    for (const r of [repo, other]) assert.equal((await b.borg2(initArgs(b.line, r))).code, 0);
    const unrestricted = `${b.lab.clientPublicKey}\n`;
    const restricted = keyLine(b, [
      '--remote-path',
      line.remotePath,
      '--restrict-to-repository',
      b.lab.repoPath('wo'),
      '--permissions',
      'write-only',
    ]);
    assert.match(restricted, /^command="\S*borg2 serve --rest --restrict-to-repository \S+ --permissions write-only",restrict /);
    await b.lab.setAuthorizedKeys(restricted);
    try {
      const create = await b.tborg(['create', '-r', repo, 'kept', b.data]);
      assert.equal(create.code, 0, create.stderr.toString());
      const del = await b.borg2(['delete', '-r', repo, 'kept']);
      assert.notEqual(del.code, 0, `a write-only key must not delete: ${del.stderr.toString()}`);
      const elsewhere = await b.borg2(['create', '-r', other, 'x', b.data]);
      assert.notEqual(elsewhere.code, 0, 'another repository is refused');
    } finally {
      await b.lab.setAuthorizedKeys(unrestricted);
    }
    const list = await b.borg2(b.repoListArgs(repo));
    assert.equal(list.code, 0, list.stderr.toString());
    assert.match(list.stdout.toString(), /^kept$/m);
    assert.doesNotMatch((await b.borg2(b.repoListArgs(other))).stdout.toString(), /^x$/m);
  });

  test("doctor on a b25 ssh:// repository: the server's borg2, the store-lock model, and who holds an exclusive lock", async () => {
    const repo = b.url('doc');
    assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
    type Doctor = { checks: Array<{ name: string; status: string; detail: string }> };
    const doctor = async (): Promise<Doctor> => {
      const r = await b.tborg(['doctor', '--json', repo]);
      return JSON.parse(r.stdout.toString()) as Doctor;
    };
    const check = (d: Doctor, name: string) => d.checks.find((c) => c.name === name)!;
    const free = await doctor();
    assert.equal(check(free, 'server').status, 'ok', check(free, 'server').detail);
    assert.match(check(free, 'server').detail, new RegExp(`borg2? ${line.version.replaceAll('.', '\\.')}`));
    assert.equal(check(free, 'repository').status, 'ok', check(free, 'repository').detail);
    assert.match(check(free, 'lock-wait').detail, /store-lock model/);
    assert.match(check(free, 'lock-wait').detail, /30m0s old/);
    const holder = b.lab.spawn(b.withHome([b.line.client, 'with-lock', '-r', repo, 'sleep', '600']), { env: b.userEnv() });
    try {
      const end = Date.now() + 60_000;
      while (!b.lab.lockHeld('doc') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      const held = await doctor();
      assert.equal(check(held, 'lock').status, 'warn', check(held, 'lock').detail);
      assert.match(check(held, 'lock').detail, /exclusive lock on host \S+, pid \d+/);
      assert.match(check(held, 'lock').detail, /30m0s old/);
    } finally {
      await stopChild(holder);
    }
  });
});
