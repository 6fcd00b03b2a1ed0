import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { listArchivesArgs } from '../lab/borgs.js';
import { describeEachLine, knownBorg2Gap } from '../lab/each-line.js';
import { assertAtOnce, guardedWaitMs } from '../lab/at-once.js';
import { labAvailable, type Lab } from '../lab/lab.js';
import { stopChild, waitFor } from '../lab/processes.js';
import { archives, borg, tborg, useLockLab } from '../helpers/lock-lab.js';

// README "How long tborg waits for a lock" over the lab's real sshd, on every borg line of the version matrix (test/lab/borgs.ts):
// held locks, contention and what must never be retried. A stop while tborg waits and the guide's
// failure (a connection black-holed mid-upload) are in test/e2e/lock-outage-e2e.test.ts.

const available = labAvailable({ matrix: true });

describeEachLine('locks over the lab sshd', { skip: available.ok ? false : available.why }, (line) => {
  const fixture = useLockLab(line, 'lock');
  let lab: Lab;
  let data: string;
  const { init, create, withLock, lockHeld } = fixture;
  before(() => {
    lab = fixture.lab();
    data = fixture.data();
  });

  test('a lock held by another client for 12 s is waited out and the backup lands', async () => {
    const repo = lab.repoUrl('held');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const holder = lab.spawn(withLock(repo, 'sleep', '12'), { env: lab.env() });
    const holderDone = new Promise<number | null>((r) => holder.once('exit', (code) => r(code)));
    await waitFor('the holder to take the lock', () => lockHeld('held'), 60_000);
    const started = Date.now();
    const r = await tborg(lab, create(repo, 'a1', data));
    const elapsed = (Date.now() - started) / 1000;
    assert.equal(await holderDone, 0);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.ok(elapsed > 8, `tborg must have waited for the holder (took ${elapsed}s)`);
    // Far less than W (640 s): tborg noticed the release instead of waiting its whole budget. How
    // soon it notices is measured by the benchmark (npm run bench, hand-off), not asserted here.
    assertAtOnce(elapsed * 1000, { guardedMs: await guardedWaitMs(lab, create(repo, 'a1', data)) }, 'the hand-off after the release');
    // borg's own create prints nothing here; anything on stderr is tborg's (plain lines, if any).
    assert.doesNotMatch(r.stderr.toString(), /\x1b|\r/);
    assert.deepEqual(await archives(lab, repo), ['a1']);
  });

  test("when the wait is spent: borg's exit code, borg's message once, then tborg's explanation", async () => {
    const repo = lab.repoUrl('spent');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const holder = lab.spawn(withLock(repo, 'sleep', '600'), { env: lab.env() });
    try {
      await waitFor('the holder to take the lock', () => lockHeld('spent'), 60_000);
      // Plain borg's code for a lock it could not get: 2 (borg 1's legacy codes), 73 (LockTimeout,
      // borg2 2.0.0b25's modern codes by default).
      const plain = await borg(lab, ['--lock-wait', '1', ...listArchivesArgs(line, repo)]);
      assert.notEqual(plain.code, 0, plain.stderr.toString());
      const r = await tborg(lab, ['--tborg-max-wait', '4', ...listArchivesArgs(line, repo)]);
      const err = r.stderr.toString();
      assert.equal(r.code, plain.code, err);
      assert.equal(err.split('Failed to create/acquire the lock').length, 2, err);
      // The lock's path when borg names it (borg 1, borg2 2.0.0b5: ".../lock.exclusive"); borgstore's
      // lock message names only the repository.
      const what = line.repoPrefix === 'repo-' ? String.raw`\S.*` : String.raw`\S*lock\.exclusive`;
      assert.match(
        err,
        new RegExp(String.raw`tborg: gave up after waiting \d+s over \d+ attempts?: the repository lock ${what} on lab is still held\.`),
      );
      assert.match(err, /tborg: Next: tborg doctor ssh:\/\/lab\//);
      assert.match(err, /borg break-lock .* is safe only when no borg process uses the repository/);
      assert.equal(r.stdout.length, 0);
    } finally {
      await stopChild(holder);
    }
  });

  // borg 1.4 with BORG_EXIT_CODES=modern (the default in borg 2) says "lock timeout" in its exit code,
  // 73, also for a remote repository from 1.4.0 on (measured: Debian 13's 1.4.0 over ssh); borg 1.2
  // has no modern codes and says 2. Whichever borg this is, tborg waits, then ends with plain borg's
  // own code and borg's message once.
  test('BORG_EXIT_CODES=modern: when the wait is spent, tborg exits with the code plain borg gives (73 from borg 1.4+ and 2, 2 from 1.2)', async () => {
    const repo = lab.repoUrl('modern');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const [major, minor] = line.version.split('.').map(Number) as [number, number];
    // borg2 2.0.0b5 still exits 2 (measured in this lab); b19+ and borg 1.4+ give LockTimeout's 73.
    const modernCodes = major > 1 ? line.repoPrefix === 'repo-' : minor >= 4;
    const holder = lab.spawn(withLock(repo, 'sleep', '600'), { env: lab.env() });
    try {
      await waitFor('the holder to take the lock', () => lockHeld('modern'), 60_000);
      const env = { BORG_EXIT_CODES: 'modern' };
      const plain = await borg(lab, [...listArchivesArgs(line, repo), '--lock-wait', '1'], env);
      assert.match(plain.stderr.toString(), /Failed to create\/acquire the lock .*\(timeout\)/);
      assert.equal(plain.code, modernCodes ? 73 : 2, `plain borg ${line.version}`);
      const r = await tborg(lab, ['--tborg-max-wait', '4', ...listArchivesArgs(line, repo)], env);
      const err = r.stderr.toString();
      assert.equal(r.code, plain.code, err);
      assert.match(err, /tborg: gave up after waiting \d+s over \d+ attempts?/);
      assert.equal(err.split('Failed to create/acquire the lock').length, 2, err);
    } finally {
      await stopChild(holder);
    }
  });

  // borg2 2.0.0b19 itself loses this race now and then: five plain `borg2 create` started together
  // on one repository over this lab's sshd, 4 rounds, beside five through tborg (same lab, same
  // data): plain 1 of 20 creates exited 63 "Cache is newer than repository - do you have multiple,
  // independently updated repos with same ID?" (1 round of 4), tborg 1 of 20 alike; 2.0.0b25 lost
  // none either way. tborg passes borg's error and exit code through, as it must.
  const b19CacheRace =
    line.version === '2.0.0b19' &&
    knownBorg2Gap(line, 'five creates at once: one may end 63 "Cache is newer than repository", plain borg2 alike');
  test('five tborg creates started together all land', { todo: b19CacheRace }, async () => {
    const repo = lab.repoUrl('five');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const runs = await Promise.all([1, 2, 3, 4, 5].map((i) => tborg(lab, create(repo, `c${i}`, data))));
    for (const r of runs) assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(await archives(lab, repo), ['c1', 'c2', 'c3', 'c4', 'c5']);
  });

  test("a missing repository fails like plain borg, at once, with borg's exit code", async () => {
    const repo = lab.repoUrl('does-not-exist');
    let started = Date.now();
    const plain = await borg(lab, listArchivesArgs(line, repo));
    const plainMs = Date.now() - started;
    started = Date.now();
    const r = await tborg(lab, listArchivesArgs(line, repo));
    const ms = Date.now() - started;
    assert.equal(r.code, plain.code);
    assert.notEqual(r.code, 0);
    assertAtOnce(ms, { plainMs, guardedMs: await guardedWaitMs(lab, listArchivesArgs(line, repo)) });
    assert.doesNotMatch(r.stderr.toString(), /tborg: waiting|retrying/);
  });

  test('a wrong passphrase is not retried', async () => {
    const repo = lab.repoUrl('secret');
    assert.equal((await borg(lab, init(repo, true), { BORG_PASSPHRASE: 'right' })).code, 0);
    const plain = await borg(lab, listArchivesArgs(line, repo), { BORG_PASSPHRASE: 'wrong' });
    const r = await tborg(lab, listArchivesArgs(line, repo), { BORG_PASSPHRASE: 'wrong' });
    // borg's own code (2, or 52 for PassphraseWrong under BORG_EXIT_CODES=modern) and borg's own words.
    assert.equal(r.code, plain.code);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.toString(), /passphrase supplied in BORG_PASSPHRASE.* is incorrect/i);
    assert.doesNotMatch(r.stderr.toString(), /tborg:/);
  });
});
