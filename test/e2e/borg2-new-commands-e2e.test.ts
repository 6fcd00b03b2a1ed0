import assert from 'node:assert/strict';
import { test } from 'node:test';
import { borg2Generation } from '../../src/borg/location.js';
import { describeEachBorg2Line } from '../helpers/borg2-lab.js';
import { assertAtOnce } from '../lab/at-once.js';
import { initArgs } from '../lab/borgs.js';
import { type RunResult, stopChild, waitFor } from '../lab/processes.js';

// The commands borg2 2.0.0b22..b24 added (find, copy, key list; src/borg/borg2-commands.ts) through
// tborg over the lab's sshd, against plain borg2 in the same run: tborg plans them as borg2 runs them
// (the repository, the store-lock wait, which of them a lost connection may repeat), waits out a
// held lock that makes plain borg2 give up, and hands borg2's own output through byte for byte.
// Only the borg2 lines that have these commands (find: 2.0.0b23+; the lab's b25).

interface PlanJson {
  repository: { path: string } | null;
  keepalive: string;
  lockWait: { seconds: number; model: { kind: string } | null };
  retry: { lockTimeouts: boolean; noConnectionRetry: string | null };
}

describeEachBorg2Line('borg2: the commands of b22..b24', { lab: 'newcmds', lines: (l) => borg2Generation(l.version) >= 24 }, (b) => {
  test('tborg plans find, copy and key list with the repository, the store-lock wait and their retry rule', async () => {
    const repo = b.url('plan');
    const plan = async (args: string[]): Promise<PlanJson> => {
      const r = await b.tborg(['plan', '--json', ...args]);
      assert.equal(r.code, 0, r.stderr.toString());
      return JSON.parse(r.stdout.toString()) as PlanJson;
    };
    for (const [args, refusal] of [
      [['find', '-r', repo, 'sh:**/f1'], /^find writes its result to stdout/],
      [['key', 'list', '-r', repo], /^key list writes its result to stdout/],
      [['copy', '-r', repo, 'a', 'a-copy'], null],
    ] as const) {
      const p = await plan([...args]);
      const what = args.join(' ');
      assert.equal(p.repository?.path, b.lab.repoPath('plan'), what);
      assert.equal(p.lockWait.model?.kind, 'store', what);
      // The store-lock model: longer than the 30 minutes a vanished client's lock lasts.
      assert.ok(p.lockWait.seconds > 1800, `${what}: ${p.lockWait.seconds}`);
      assert.equal(p.retry.lockTimeouts, true, what);
      if (refusal === null) assert.equal(p.retry.noConnectionRetry, null, what);
      else assert.match(p.retry.noConnectionRetry ?? '(retried)', refusal, what);
    }
  });

  test('find, key list and copy wait out an exclusive lock that plain borg2 gives up on, then do what plain borg2 does', async (t) => {
    const repo = b.url('held');
    assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
    assert.equal((await b.borg2(['create', '-r', repo, 'a', b.data])).code, 0);
    // Archive a only: the copies made side by side must not change what find sees.
    const find = ['find', '-a', 'name:a', '--format', '{archivename} {path}{NL}', '-r', repo, 'sh:**/f1*'];
    const keyList = ['key', 'list', '-r', repo];
    const holder = b.lab.spawn(b.withHome([b.line.client, 'with-lock', '-r', repo, 'sleep', '25']), { env: b.userEnv() });
    const released = new Promise<number>((r) => holder.once('exit', () => r(Date.now())));
    try {
      await waitFor('the holder to take its lock', () => b.lab.lockHeld('held'), 60_000);
      // Side by side: plain borg2 find with its own lock wait (BORG_LOCK_WAIT or 10 s), and tborg.
      const started = Date.now();
      const timed = async (run: Promise<RunResult>): Promise<RunResult & { ms: number }> => ({ ...(await run), ms: Date.now() - started });
      const [plain, found, keys, copied] = await Promise.all([
        timed(b.borg2(find)),
        timed(b.tborg(find)),
        timed(b.tborg(keyList)),
        timed(b.tborg(['copy', '-r', repo, 'a', 'by-tborg'])),
      ]);
      const releasedMs = (await released) - started;
      assert.notEqual(plain.code, 0, `plain borg2 find gives up on the held lock: ${plain.stderr.toString()}`);
      const planned = await b.tborg(['plan', '--json', ...find]);
      const waitMs = (JSON.parse(planned.stdout.toString()) as PlanJson).lockWait.seconds * 1000;
      for (const [what, r] of [
        ['find', found],
        ['key list', keys],
        ['copy', copied],
      ] as const) {
        assert.equal(r.code, 0, `tborg ${what}: ${r.stderr.toString()}`);
        assert.ok(r.ms >= releasedMs, `tborg ${what} ended after the holder released the lock`);
        assertAtOnce(r.ms - releasedMs, { guardedMs: waitMs }, `tborg ${what}'s hand-off after the release`);
      }
      t.diagnostic(
        `plain borg2 find: exit ${String(plain.code)} after ${plain.ms} ms; lock released after ${releasedMs} ms; ` +
          `tborg find, key list, copy: exit 0 after ${found.ms}, ${keys.ms}, ${copied.ms} ms`,
      );
      // What plain borg2 prints and makes, now that nothing holds the lock.
      const plainFind = await b.borg2(find);
      assert.equal(plainFind.code, 0, plainFind.stderr.toString());
      assert.match(plainFind.stdout.toString(), /^a \S*\/f1\n/m);
      assert.deepEqual(found.stdout, plainFind.stdout, "tborg find's stdout is plain borg2 find's");
      const plainKeys = await b.borg2(keyList);
      assert.match(plainKeys.stdout.toString(), /KEY ID/);
      assert.deepEqual(keys.stdout, plainKeys.stdout, "tborg key list's stdout is plain borg2 key list's");
      const plainCopy = await b.borg2(['copy', '-r', repo, 'a', 'by-borg2']);
      assert.equal(plainCopy.code, 0, plainCopy.stderr.toString());
      assert.deepEqual(copied.stdout, plainCopy.stdout, 'copy prints nothing to stdout, through tborg either');
      const names = (await b.borg2(b.repoListArgs(repo))).stdout.toString().trim().split('\n').sort();
      assert.deepEqual(names, ['a', 'by-borg2', 'by-tborg']);
    } finally {
      await stopChild(holder);
    }
  });
});
