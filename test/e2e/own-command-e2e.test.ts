import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initArgs, listArchivesArgs, withLockArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { stopChild, waitFor } from '../lab/processes.js';

// README "What is retried": a command of yours (with-lock's, and --content-from-command's,
// --paths-from-command's and --tar-filter's alike) runs once, whatever it prints or returns; borg
// waits for the lock itself, before it starts the command. Real borg over the lab's sshd, on every
// borg line, plain borg measured beside tborg.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

describeEachLine('a command of yours runs once', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  let counts: string;
  const tborg = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000) =>
    lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs });
  const borg = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) =>
    lab.run([line.client, ...args], { env: lab.env(env), timeoutMs });
  const runs = (name: string): number =>
    existsSync(join(counts, name)) ? readFileSync(join(counts, name), 'utf8').split('\n').filter(Boolean).length : 0;
  // A command that notes each run in counts/NAME, then does `rest`.
  const counted = (name: string, rest: string): string[] => ['sh', '-c', `echo run >> ${join(counts, name)}; ${rest}`];

  before(async () => {
    lab = await startLab({ line, name: `owncmd-${line.name}`, clientAlive: { interval: 2, countMax: 4 } });
    counts = join(lab.dir, 'counts');
    mkdirSync(counts);
    for (const name of ['a', 'b', 'c']) assert.equal((await borg(initArgs(line, lab.repoUrl(name)))).code, 0);
  });
  after(async () => lab?.close());

  test('with-lock: a nested borg that times out on another lock makes tborg run your command once, like plain borg', async () => {
    // Repository b is held; the command of with-lock on a runs a borg that waits 1 s for b's lock.
    const holder = lab.spawn([line.client, ...withLockArgs(line, lab.repoUrl('b'), 'sleep', '600')], { env: lab.env() });
    try {
      await waitFor('b locked', () => lab.lockHeld('b'), 60_000);
      const nested = `exec ${line.client} --lock-wait 1 ${listArchivesArgs(line, lab.repoUrl('b')).join(' ')}`;
      const plain = await borg(withLockArgs(line, lab.repoUrl('a'), ...counted('plain-nested', nested)));
      assert.equal(runs('plain-nested'), 1);
      assert.match(
        plain.stderr.toString(),
        /^Failed to create\/acquire the lock .*\(timeout\)\./m,
        "the nested borg said borg's own lock message",
      );
      // A bound of 30 s: without the fix tborg ran the command again and again until it was spent.
      const t = await tborg(['--tborg-max-wait', '30', ...withLockArgs(line, lab.repoUrl('a'), ...counted('tborg-nested', nested))]);
      const err = t.stderr.toString();
      assert.equal(runs('tborg-nested'), 1, err);
      assert.equal(t.code, plain.code, err);
      assert.equal(err.split('Failed to create/acquire the lock').length, 2, `the nested borg's message, once:\n${err}`);
      assert.doesNotMatch(err, /tborg: /, "tborg adds nothing: the message was the command's");
    } finally {
      await stopChild(holder);
    }
  });

  test("with-lock: a command that prints borg's lock line and exits 2 or 73 runs once", async () => {
    for (const code of [2, 73]) {
      const script = `echo 'Failed to create/acquire the lock /srv/x/lock.exclusive (timeout).' >&2; exit ${code}`;
      const plain = await borg(withLockArgs(line, lab.repoUrl('a'), ...counted(`plain-${code}`, script)));
      const t = await tborg(['--tborg-max-wait', '30', ...withLockArgs(line, lab.repoUrl('a'), ...counted(`tborg-${code}`, script))]);
      assert.equal(runs(`plain-${code}`), 1);
      assert.equal(runs(`tborg-${code}`), 1, t.stderr.toString());
      assert.equal(t.code, plain.code, t.stderr.toString());
      assert.equal(t.code, code);
    }
  });

  test('with-lock on a held lock: one attempt, borg waits for the lock itself and runs your command once after the release', async () => {
    const holder = lab.spawn([line.client, ...withLockArgs(line, lab.repoUrl('c'), 'sleep', '8')], { env: lab.env() });
    const holderDone = new Promise<number | null>((r) => holder.once('exit', (c) => r(c)));
    await waitFor('c locked', () => lab.lockHeld('c'), 60_000);
    const marker = join(lab.dir, 'c-held-while-running');
    // The command checks that the lock is held while it runs (borg took it first).
    const check =
      line.repoPrefix === 'repo-'
        ? `ls ${lab.repoPath('c')}/locks | grep -q . && touch ${marker}`
        : `test -e ${lab.repoPath('c')}/lock.roster && touch ${marker}`;
    const started = Date.now();
    const t = await tborg(withLockArgs(line, lab.repoUrl('c'), ...counted('held', check)));
    const elapsed = Date.now() - started;
    assert.equal(await holderDone, 0);
    assert.equal(t.code, 0, t.stderr.toString());
    assert.equal(runs('held'), 1);
    assert.ok(existsSync(marker), 'the command ran with the lock held');
    assert.ok(elapsed > 4000, `waited for the holder (${elapsed} ms)`);
    assert.doesNotMatch(t.stderr.toString(), /tborg: waiting for the lock/, 'one attempt: borg waited, not tborg');
    writeFileSync(join(counts, 'done'), '');
  });
});
