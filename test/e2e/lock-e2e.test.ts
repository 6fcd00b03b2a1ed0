import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkArgs, createArgs, initArgs, listArchivesArgs, withLockArgs } from '../lab/borgs.js';
import { describeEachLine, knownBorg2Gap, knownBorg2StaleLock } from '../lab/each-line.js';
import { assertAtOnce, guardedWaitMs } from '../lab/at-once.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { descendants, runBuffered, stopChild } from '../lab/processes.js';

// README "How long tborg waits for a lock" over the lab's real sshd, on every borg line of the version matrix (test/lab/borgs.ts):
// held locks, contention, the guide's failure (a connection black-holed mid-upload) and what must
// never be retried.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

function tborg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  return lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs });
}
function borg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  return lab.run([lab.line!.client, ...args], { env: lab.env(env), timeoutMs });
}
async function archives(lab: Lab, repo: string): Promise<string[]> {
  const r = await borg(lab, listArchivesArgs(lab.line, repo));
  assert.equal(r.code, 0, r.stderr.toString());
  return r.stdout.toString().split('\n').filter(Boolean).sort();
}
async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
function lockHeld(lab: Lab, name: string): boolean {
  return lab.lockHeld(name);
}

describeEachLine('locks over the lab sshd', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  let data: string;
  const init = (repo: string, encrypted = false): string[] => initArgs(line, repo, encrypted);
  const create = (repo: string, name: string, ...paths: string[]): string[] => createArgs(line, repo, name, ...paths);
  const withLock = (repo: string, ...command: string[]): string[] => [line.client, ...withLockArgs(line, repo, ...command)];
  before(async () => {
    // The server gives up on a dead client after (4+1) x 2 = 10 s, the client (TBORG_KEEPALIVE 1x3
    // below) after (3+1) x 1 = 4 s: the outage test's stale borg serve is there for certain when
    // the client notices. (With both at 1x3, OpenSSH 10.6's sshd could end the session first.)
    lab = await startLab({ clientAlive: { interval: 2, countMax: 4 }, line, name: `lock-${line.name}` });
    data = join(lab.dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 20; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(1000));
  });
  after(async () => lab?.close());

  test('a lock held by another client for 12 s is waited out and the backup lands', async () => {
    const repo = lab.repoUrl('held');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const holder = lab.spawn(withLock(repo, 'sleep', '12'), { env: lab.env() });
    const holderDone = new Promise<number | null>((r) => holder.once('exit', (code) => r(code)));
    await waitFor(() => lockHeld(lab, 'held'), 60_000);
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
      await waitFor(() => lockHeld(lab, 'spent'), 60_000);
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
      await waitFor(() => lockHeld(lab, 'modern'), 60_000);
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

  test('SIGTERM while waiting: tborg exits 143 at once (like plain borg), nothing left running', async () => {
    const repo = lab.repoUrl('term');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const holder = lab.spawn(withLock(repo, 'sleep', '600'), { env: lab.env() });
    await waitFor(() => lockHeld(lab, 'term'), 60_000);
    // Plain borg signalled the same way in this test: SIGTERM once its connection is up and it waits.
    const plain = lab.spawn([line.client, '--lock-wait', '600', ...create(repo, 'p', data)], { env: lab.env() });
    const plainExited = new Promise((r) => plain.once('exit', r));
    let connected = false;
    const watch = setInterval(() => {
      const mine = new Set(descendants(plain.pid!).map((p) => p.pid));
      void lab.clientConnections().then(
        (cs) => (connected ||= cs.some((c) => c.pid !== undefined && mine.has(c.pid))),
        () => undefined,
      );
    }, 100);
    await waitFor(() => connected, 60_000).finally(() => clearInterval(watch));
    const plainSent = Date.now();
    plain.kill('SIGTERM');
    await plainExited;
    const plainMs = Date.now() - plainSent;
    const waiter = lab.spawn([process.execPath, TBORG, ...create(repo, 't', data)], { env: lab.env() });
    const waiterExit = new Promise<number | null>((r) => waiter.once('exit', (c, s) => r(c ?? (s ? 128 + 15 : null))));
    let err = '';
    waiter.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    await waitFor(() => err.includes('tborg: waiting for the lock'), 30_000);
    // Not a terminal (cron): one plain timestamped line per wait, no spinner, no escape codes.
    // tborg's wait: 10m40s by the serve model, 31m0s by borg2's store-lock model (lock-wait.ts).
    const total = line.repoPrefix === 'repo-' ? '31m0s' : '10m40s';
    assert.match(
      err,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ tborg: waiting for the lock on ssh://lab/.*, \\d+s of ${total}, attempt 2$`,
        'm',
      ),
    );
    assert.doesNotMatch(err, /\x1b|\r/);
    // The running attempt's own --lock-wait: what a tborg that kept SIGTERM from borg would sit out.
    // (tborg says its line as the attempt starts: its borg may be a moment behind.)
    const attemptWait = () =>
      descendants(waiter.pid!)
        .map((p) => /--lock-wait[= ](\d+)/.exec(p.cmdline)?.[1])
        .find((w) => w !== undefined);
    await waitFor(() => attemptWait() !== undefined, 30_000).catch(() =>
      assert.fail(`no attempt with a --lock-wait: ${JSON.stringify(descendants(waiter.pid!))}`),
    );
    const guardedMs = Number(attemptWait()) * 1000;
    const sent = Date.now();
    waiter.kill('SIGTERM');
    const code = await waiterExit;
    // Typically ~0.3 s (borg handles SIGTERM at once; the remote side closes with the connection).
    assertAtOnce(Date.now() - sent, { plainMs, guardedMs });
    assert.equal(code, 143);
    await stopChild(holder);
    await waitFor(() => !lockHeld(lab, 'term'), 10_000);
    // The machine's pgrep sees every process, the line's root's included.
    const left = await runBuffered(['pgrep', '-af', `borg.*${lab.repoPath('term')}`]);
    assert.equal(left.stdout.toString().trim(), '', 'no borg left running');
  });

  test("the guide's failure: a backup cut off mid-upload rides out the stale borg serve and lands", async () => {
    const repo = lab.repoUrl('outage');
    assert.equal((await borg(lab, init(repo))).code, 0);
    const big = join(lab.dir, 'big');
    mkdirSync(big);
    // Incompressible and unique, so it really has to be uploaded (at the rate limit below).
    writeFileSync(join(big, 'blob'), randomBytes(3 * 1024 * 1024));
    const env = { TBORG_KEEPALIVE: '1x3', TBORG_SERVER_ALIVE: '1x3' };
    // Slow enough that the cut lands mid-upload, on every line (borg2 2.0.0b25 has no
    // --upload-ratelimit): the namespace's loopback itself is limited.
    await lab.limitRate(600);
    // (Lifted right after the cut below.)
    const child = lab.spawn([process.execPath, TBORG, ...create(repo, 'cut', big)], { env: lab.env(env) });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // Cut the live connection once the upload is under way.
    await waitFor(() => lockHeld(lab, 'outage'), 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const conns = await lab.clientConnections();
    assert.equal(conns.length, 1, JSON.stringify(conns));
    const cutAt = Date.now();
    await lab.dropConnection(conns[0]!.localPort);
    // Only the first attempt must be slow; the retry's keepalives must not queue behind its upload.
    await lab.limitRate(null);
    // The injected 1x3 keepalive ends the dead ssh within about (3+1) x 1 s ...
    // borg2 2.0.0b22+ talks to the server through borgstore's rest client, which reconnects by
    // itself ("rest: connection lost (...), trying to reconnect...", borgstore backends/rest.py);
    // the other lines end and tborg retries.
    const lost = line.rest
      ? /connection to lab was lost; retrying|^rest: connection lost .*trying to reconnect/m
      : /connection to lab was lost; retrying/;
    await waitFor(() => lost.test(err), 20_000).catch(() => assert.fail(`the lost connection was not reported within 20 s:\n${err}`));
    const noticedAfter = (Date.now() - cutAt) / 1000;
    // Before the server's sshd gives up on the dead client ((4+1) x 2 s, clientAlive above).
    assert.ok(noticedAfter < (4 + 1) * 2, `client noticed after ${noticedAfter}s`);
    // ... while the server's stale borg serve still holds the lock (until sshd's ClientAlive fires).
    assert.ok(lockHeld(lab, 'outage'), 'the stale borg serve still holds the lock');
    assert.ok((await lab.serverPids(/borg2? serve/)).length >= 1, 'the stale borg serve is still running');
    const code = await done;
    assert.equal(code, 0, err);
    assert.match(err, lost);
    if (process.env.TBORG_TEST_VERBOSE) console.error(err);
    assert.deepEqual(await archives(lab, repo), ['cut']);
    await lab.heal();
  });

  test('after the outage the repository passes borg check', { todo: knownBorg2StaleLock(line) }, async () => {
    const check = await borg(lab, checkArgs(line, lab.repoUrl('outage')));
    assert.equal(check.code, 0, check.stderr.toString());
  });
});
