import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initArgs, listArchivesArgs } from '../lab/borgs.js';
import { describeEachLine, knownBorg2NoReachHint } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';

// README "A server that cannot be reached at start", over the lab's real sshd on every borg line:
// tborg recognises an unreachable server by its own TCP probe of ssh -G's host and port, not only by
// the ssh line borg may or may not relay; it waits the whole connect wait and always says when and
// why it stops; and a server that answered (a forced command /bin/false) is not "cannot reach".

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

describeEachLine('the connect wait', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  let repo: string;
  // --tborg-connect-wait, seconds: room for a few attempts (borg2 b22+'s rest client tries 3 more
  // times, 5 s apart, before it fails: ~20 s an attempt).
  const WAIT = line.rest ? 45 : 12;
  const tborg = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) =>
    lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs });
  const borg = (args: string[], env: NodeJS.ProcessEnv = {}) => lab.run([line.client, ...args], { env: lab.env(env), timeoutMs: 120_000 });
  const ownLines = (stderr: Buffer): string[] =>
    stderr
      .toString()
      .split('\n')
      .filter((l) => / tborg: /.test(l));

  before(async () => {
    lab = await startLab({ line, name: `connect-${line.name}` });
    repo = lab.repoUrl('r');
    assert.equal((await borg(initArgs(line, repo))).code, 0);
  });
  after(async () => lab?.close());

  test("server down at start, ssh says nothing (LogLevel QUIET): tborg's probe keeps the wait going to its end, then says so", {
    todo: knownBorg2NoReachHint(line),
  }, async () => {
    await lab.stopSshd();
    try {
      const env = { BORG_RSH: `${lab.rsh} -o LogLevel=QUIET` };
      // Plain borg beside tborg (both only read the stopped server's refusals): borg2 b22+'s own
      // reconnect tries are waited out once.
      const started = Date.now();
      const [plain, [t, elapsed]] = await Promise.all([
        borg(listArchivesArgs(line, repo), env),
        tborg(['--tborg-connect-wait', `${WAIT}s`, ...listArchivesArgs(line, repo)], env).then((r) => [r, Date.now() - started] as const),
      ]);
      assert.notEqual(plain.code, 0);
      assert.doesNotMatch(plain.stderr.toString(), /Connection refused/, 'ssh said nothing: borg has only its hint');
      const own = ownLines(t.stderr);
      assert.equal(t.code, plain.code, t.stderr.toString());
      // The whole connect wait, not a few attempts' worth.
      assert.ok(elapsed >= WAIT * 1000, `waited ${elapsed} ms of the ${WAIT} s connect wait:\n${t.stderr}`);
      assert.ok(
        own.some((l) => /cannot reach lab \(connect to host \S+ port \d+: Connection refused \(tborg's probe/.test(l)),
        t.stderr.toString(),
      );
      assert.match(
        own.at(-1)!,
        new RegExp(`tborg: gave up: lab could not be reached within ${WAIT}s \\(--tborg-connect-wait\\), over \\d+ attempts?$`),
      );
    } finally {
      await lab.startSshd();
    }
  });

  test('server down at start, four runs at once: every one waits to the end and says why it stopped', {
    todo: knownBorg2NoReachHint(line),
  }, async () => {
    await lab.stopSshd();
    try {
      const results = await Promise.all(
        [1, 2, 3, 4].map(async () => {
          const started = Date.now();
          const r = await tborg(['--tborg-connect-wait', `${WAIT}s`, ...listArchivesArgs(line, repo)]);
          return { r, elapsed: Date.now() - started };
        }),
      );
      for (const { r, elapsed } of results) {
        const own = ownLines(r.stderr);
        assert.notEqual(r.code, 0);
        assert.ok(elapsed >= WAIT * 1000, `waited ${elapsed} ms:\n${r.stderr}`);
        assert.match(own.at(-1) ?? '', /tborg: gave up: lab could not be reached within/, r.stderr.toString());
      }
    } finally {
      await lab.startSshd();
    }
  });

  test('a forced command /bin/false: the server answered, so it is not "cannot reach" and not retried', {
    todo: knownBorg2NoReachHint(line),
  }, async () => {
    const keys = `${lab.clientPublicKey}\n`;
    await lab.setAuthorizedKeys(`command="/bin/false",restrict ${lab.clientPublicKey}\n`);
    try {
      const plain = await borg(listArchivesArgs(line, repo));
      assert.notEqual(plain.code, 0);
      const wait = 120;
      const started = Date.now();
      const t = await tborg(['--tborg-connect-wait', `${wait}s`, ...listArchivesArgs(line, repo)]);
      const elapsed = Date.now() - started;
      const err = t.stderr.toString();
      assert.equal(t.code, plain.code, err);
      assert.doesNotMatch(err, /cannot reach/, err);
      assert.deepEqual(ownLines(t.stderr), [], "borg's answer alone, as from plain borg");
      // Well under the connect wait it would otherwise have spent.
      assert.ok(elapsed < (wait * 1000) / 4, `took ${elapsed} ms`);
    } finally {
      await lab.setAuthorizedKeys(keys);
    }
  });
});
