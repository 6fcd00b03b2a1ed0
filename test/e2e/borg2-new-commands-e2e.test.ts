import assert from 'node:assert/strict';
import { test } from 'node:test';
import { borg2Generation } from '../../src/borg/location.js';
import { describeEachBorg2Line } from '../helpers/borg2-lab.js';
import { assertAtOnce } from '../lab/at-once.js';
import { initArgs } from '../lab/borgs.js';
import { stopChild, waitFor } from '../lab/processes.js';

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

  test('find waits out an exclusive lock that plain borg2 find gives up on, then prints what plain borg2 prints', async (t) => {
    const repo = b.url('held');
    assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
    assert.equal((await b.borg2(['create', '-r', repo, 'a', b.data])).code, 0);
    const find = ['find', '--format', '{archivename} {path}{NL}', '-r', repo, 'sh:**/f1*'];
    const holder = b.lab.spawn(b.withHome([b.line.client, 'with-lock', '-r', repo, 'sleep', '25']), { env: b.userEnv() });
    const released = new Promise<number>((r) => holder.once('exit', () => r(Date.now())));
    try {
      await waitFor('the holder to take its lock', () => b.lab.lockHeld('held'), 60_000);
      // Side by side: plain borg2 with its own lock wait (BORG_LOCK_WAIT or 10 s) and tborg.
      const started = Date.now();
      let plainMs = 0;
      const [plain, through] = await Promise.all([b.borg2(find).finally(() => (plainMs = Date.now() - started)), b.tborg(find)]);
      const done = Date.now();
      assert.notEqual(plain.code, 0, `plain borg2 find gives up on the held lock: ${plain.stderr.toString()}`);
      assert.equal(through.code, 0, through.stderr.toString());
      const releasedAt = await released;
      assert.ok(done >= releasedAt, 'tborg ended after the holder released the lock');
      const planned = await b.tborg(['plan', '--json', ...find]);
      const waitMs = (JSON.parse(planned.stdout.toString()) as PlanJson).lockWait.seconds * 1000;
      t.diagnostic(
        `plain borg2 find: exit ${String(plain.code)} after ${plainMs} ms; tborg find: exit 0 after ${done - started} ms, ${done - releasedAt} ms after the release`,
      );
      assertAtOnce(done - releasedAt, { guardedMs: waitMs }, 'the hand-off after the release');
      const again = await b.borg2(find);
      assert.equal(again.code, 0, again.stderr.toString());
      assert.match(again.stdout.toString(), /^a \S*\/f1\n/m);
      assert.deepEqual(through.stdout, again.stdout, "tborg find's stdout is plain borg2 find's");
    } finally {
      await stopChild(holder);
    }
  });

  test('key list and copy through tborg: the output and the archive plain borg2 gives', async () => {
    const repo = b.url('same');
    assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
    assert.equal((await b.borg2(['create', '-r', repo, 'a', b.data])).code, 0);
    const plainKeys = await b.borg2(['key', 'list', '-r', repo]);
    const tborgKeys = await b.tborg(['key', 'list', '-r', repo]);
    assert.equal(plainKeys.code, 0, plainKeys.stderr.toString());
    assert.equal(tborgKeys.code, plainKeys.code, tborgKeys.stderr.toString());
    assert.match(plainKeys.stdout.toString(), /KEY ID/);
    assert.deepEqual(tborgKeys.stdout, plainKeys.stdout);
    const plainCopy = await b.borg2(['copy', '-r', repo, 'a', 'by-borg2']);
    const tborgCopy = await b.tborg(['copy', '-r', repo, 'a', 'by-tborg']);
    assert.equal(plainCopy.code, 0, plainCopy.stderr.toString());
    assert.equal(tborgCopy.code, 0, tborgCopy.stderr.toString());
    assert.deepEqual(tborgCopy.stdout, plainCopy.stdout, 'copy prints nothing to stdout, through tborg either');
    const names = (await b.borg2(b.repoListArgs(repo))).stdout.toString().trim().split('\n').sort();
    assert.deepEqual(names, ['a', 'by-borg2', 'by-tborg']);
  });
});
