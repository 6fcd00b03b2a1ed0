import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, initArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';

// README "How long tborg waits for a lock": a bound you give (--tborg-max-wait) bounds the whole
// wait, lost connections included, and `tborg plan` shows it. The lab's sshd has no ClientAlive*, so
// the stale borg serve of a cut connection holds the lock for hours (TCP keepalive), and tborg's own
// model would wait its whole server bound after the cut. Lines whose lock is the server's borg serve
// (borg 1.x, borg2 2.0.0b5); store locks (b19+) have their own rules (README "borg 2").

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });
const CAP = 20;

describeEachLine(
  'a wait you bound',
  { skip: available.ok ? false : available.why, lines: (l) => l.major === 1 || l.repoPrefix === 'r' },
  (line) => {
    let lab: Lab;
    before(async () => {
      lab = await startLab({ line, name: `bound-${line.name}`, clientAlive: null });
    });
    after(async () => lab?.close());

    test(`--tborg-max-wait ${CAP}: after a lost connection tborg waits what is left of ${CAP} s, not the server bound`, async () => {
      const repo = lab.repoUrl('cut');
      assert.equal((await lab.run([line.client, ...initArgs(line, repo)])).code, 0);
      const big = join(lab.dir, 'big');
      mkdirSync(big);
      writeFileSync(join(big, 'blob'), randomBytes(3 * 1024 * 1024));
      const env = { TBORG_KEEPALIVE: '1x3' };
      const args = ['--tborg-max-wait', String(CAP), ...createArgs(line, repo, 'a', big)];
      // What plan promises for this line: the bound, lost connections included; tborg's own model
      // (for comparison) waits its server bound again after each lost connection.
      const plan = JSON.parse(
        (await lab.run([process.execPath, TBORG, 'plan', '--json', ...args], { env: lab.env(env) })).stdout.toString(),
      );
      assert.equal(plan.retry.boundSource, '--tborg-max-wait');
      assert.equal(plan.retry.boundSeconds, CAP);
      const modelWait: number = plan.lockWait.seconds;
      assert.ok(modelWait > 10 * CAP, `the model's wait (${modelWait} s) is what the bound guards against`);

      await lab.limitRate(600);
      const child = lab.spawn([process.execPath, TBORG, ...args], { env: lab.env(env) });
      let err = '';
      child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      await waitFor('the lock', () => lab.lockHeld('cut'), 60_000);
      await new Promise((r) => setTimeout(r, 1500));
      const conns = await lab.clientConnections();
      assert.equal(conns.length, 1, JSON.stringify(conns));
      const cutAt = Date.now();
      await lab.dropConnection(conns[0]!.localPort);
      await lab.limitRate(null);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([done, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), (modelWait / 4) * 1000)))]);
      clearTimeout(timer);
      if (code === 'late') child.kill('SIGTERM');
      const afterCut = (Date.now() - cutAt) / 1000;
      await lab.heal();
      assert.notEqual(code, 'late', `still waiting ${afterCut} s after the cut:\n${err}`);
      // The client notices the cut within its keepalive (~4 s); then at most the bound, plus one
      // attempt's poll and start-up.
      assert.ok(afterCut < CAP + 15, `ended ${afterCut} s after the cut (bound ${CAP} s):\n${err}`);
      assert.notEqual(code, 0, err);
      assert.match(err, /the connection to lab was lost; retrying \(1 of 3\), waiting at most \d+s more \(--tborg-max-wait\)/);
      assert.match(err, /tborg: gave up after waiting \d+s over \d+ attempts?: the repository lock \S* on lab is still held\./);
      assert.ok(lab.lockHeld('cut'), 'the stale borg serve still holds the lock: the bound, not a release, ended the wait');
    });
  },
);
