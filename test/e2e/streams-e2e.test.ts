import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, extractStdoutArgs, initArgs, listArchivesArgs, withLockArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab, type RunResult } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';

// README "Signals" and "What tborg does on a run" over the lab's real sshd, plain borg run the same
// way in the same test: a reader that goes away (`| head -c 10`) stops borg as it stops plain borg,
// with or without 2>&1, and is no lost connection; stdin, stdout or stderr closed (`<&-`, `>&-`,
// `2>&-`) is closed for borg too, not node's /dev/null; and with --log-json borg's lines and tborg's
// come in the order they were written.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

describeEachLine('streams like plain borg', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  let repo: string;
  before(async () => {
    lab = await startLab({ line, name: `streams-${line.name}` });
    repo = lab.repoUrl('streams');
    const init = await lab.run([line.client, ...initArgs(line, repo)]);
    assert.equal(init.code, 0, init.stderr.toString());
    // An archive far larger than a pipe's buffer: a borg that is not stopped reads all of it.
    const create = await lab.run(
      ['sh', '-c', 'head -c 64M /dev/urandom | "$@"', 'sh', line.client, ...createArgs(line, repo, 'big', '-')],
      { timeoutMs: 300_000 },
    );
    assert.equal(create.code, 0, create.stderr.toString());
  });
  after(async () => lab?.close());

  // bash -c SCRIPT with "$@" = borg's or tborg's argv (bin/tborg.js itself: its sh line sees the
  // descriptors); the script prints the exit code it cares about last, on stderr, as "rc=N".
  async function both(
    script: string,
    args: string[],
  ): Promise<{ borg: RunResult & { rc: string; ms: number }; tborg: RunResult & { rc: string; ms: number } }> {
    const run = async (argv: string[]): Promise<RunResult & { rc: string; ms: number }> => {
      const started = Date.now();
      const r = await lab.run(['bash', '-c', script, 'bash', ...argv], { timeoutMs: 300_000 });
      return { ...r, ms: Date.now() - started, rc: /rc=(\d+)\n$/.exec(r.stderr.toString())?.[1] ?? `none: ${r.stderr.toString()}` };
    };
    return { borg: await run([line.client, ...args]), tborg: await run([TBORG, ...args]) };
  }

  for (const merged of [true, false]) {
    test(`extract --stdout ARCHIVE ${merged ? '2>&1 ' : ''}| head -c 10: borg stops on the broken pipe, as plain borg does, and no lost connection is reported`, {
      timeout: 600_000,
    }, async (context) => {
      const script = `"$@" ${merged ? '2>&1 ' : '2>"$TMPDIR_ERR" '}| head -c 10 >/dev/null; rc=\${PIPESTATUS[0]}; cat "$TMPDIR_ERR" >&2 2>/dev/null; echo "rc=$rc" >&2`;
      const r = await both(script.replaceAll('$TMPDIR_ERR', `${lab.dir}/err-${merged}`), extractStdoutArgs(line, repo, 'big'));
      context.diagnostic(`plain borg: rc ${r.borg.rc} in ${r.borg.ms} ms; tborg: rc ${r.tborg.rc} in ${r.tborg.ms} ms`);
      assert.notEqual(r.borg.rc, '0', 'plain borg fails on the broken pipe');
      assert.equal(r.tborg.rc, r.borg.rc, r.tborg.stderr.toString());
      assert.doesNotMatch(r.tborg.stderr.toString(), /tborg: /);
    });
  }

  test('list REPO >&- and list REPO 2>&-: borg fails as plain borg does, without its stdout or stderr', async () => {
    for (const redirect of ['>&-', '2>&-']) {
      const r = await both(`"$@" ${redirect}; echo "rc=$?" >&2`, listArchivesArgs(line, repo));
      assert.equal(r.tborg.rc, r.borg.rc, `${redirect}: ${r.tborg.stderr.toString()}`);
      assert.equal(r.tborg.stdout.toString(), r.borg.stdout.toString(), redirect);
    }
  });

  test('create REPO::a - <&-: borg finds stdin closed, as plain borg does, not an empty /dev/null', async () => {
    const r = await both('"$@" <&-; echo "rc=$?" >&2', createArgs(line, repo, 'closed-stdin', '-'));
    assert.equal(r.tborg.rc, r.borg.rc, `tborg: ${r.tborg.stderr.toString()}\nborg: ${r.borg.stderr.toString()}`);
    const list = await lab.run([line.client, ...listArchivesArgs(line, repo)]);
    // Plain borg's archive (if any) has the name tborg's would have: at most one of them.
    assert.ok(
      list.stdout
        .toString()
        .split('\n')
        .filter((l) => l === 'closed-stdin').length <= 1,
      list.stdout.toString(),
    );
  });

  test("--log-json: borg's held lock message comes before tborg's later lines; times never run backwards", {
    timeout: 300_000,
  }, async () => {
    const name = 'json-held';
    const held = lab.repoUrl(name);
    assert.equal((await lab.run([line.client, ...initArgs(line, held)])).code, 0);
    const holder = lab.spawn([line.client, ...withLockArgs(line, held, 'sleep', '60')], { stdio: 'ignore' });
    try {
      await waitFor("the holder's lock", () => lab.lockHeld(name), 60_000);
      // A --lock-wait shorter than the server bound: tborg warns about it when the wait is over.
      const r = await lab.run([process.execPath, TBORG, '--log-json', '--lock-wait', '2', ...listArchivesArgs(line, held)], {
        timeoutMs: 120_000,
      });
      assert.notEqual(r.code, 0);
      const lines = r.stderr.toString().split('\n').filter(Boolean);
      const parsed = lines.map((l) => JSON.parse(l) as { time?: number; name?: string; msgid?: string });
      assert.ok(
        parsed.some((p) => p.name === 'tborg'),
        r.stderr.toString(),
      );
      const times = parsed.map((p) => p.time).filter((t): t is number => typeof t === 'number');
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `line ${i} runs backwards:\n${r.stderr.toString()}`);
    } finally {
      holder.kill('SIGTERM');
    }
  });
});
