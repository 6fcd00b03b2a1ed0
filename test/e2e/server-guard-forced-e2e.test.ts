import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initArgs, listArchivesArgs, withLockArgs, type BorgLine } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';
import { keyLine, serveHoldsLock } from '../helpers/guard-lab.js';

// README "The server half": what the guard does NOT change. A request without a token, with a
// malformed one, or that is not borg serve gets what today's forced command (tborg authorized-keys
// without --guard) gives; and `tborg doctor` tells a guarded host from one without. Real borg over
// the lab's sshd (sshd defaults), on every line whose borg serve holds the lock.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });
const TOKEN = '0123456789abcdef0123456789abcdef';

describeEachLine(
  'the server guard leaves everything else as it was',
  { skip: available.ok ? false : available.why, lines: serveHoldsLock },
  (line: BorgLine) => {
    let lab: Lab;
    let guardPath: string;
    let today: string;
    let guarded: string;
    const borg = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      lab.run([line.client, ...args], { env: lab.env(env), timeoutMs: 120_000 });
    const remote = (prefix: string): NodeJS.ProcessEnv => ({ BORG_REMOTE_PATH: `${prefix} ${line.remotePath}` });
    before(async () => {
      lab = await startLab({ clientAlive: null, line, name: `guard-forced-${line.name}` });
      // `tborg authorized-keys --guard --guard-path P` on the server itself (the lab's server is this machine).
      guardPath = join(lab.dir, 'server-home', '.local', 'bin', 'tborg-serve-guard');
      const install = spawnSync(
        process.execPath,
        [
          TBORG,
          'authorized-keys',
          '--guard',
          '--guard-path',
          guardPath,
          '--remote-path',
          line.remotePath,
          ...(line.major === 2 ? ['--no-borg2'] : []),
          '-',
        ],
        {
          input: `${lab.clientPublicKey}\n`,
          encoding: 'utf8',
        },
      );
      assert.equal(install.status, 0, install.stderr);
      assert.match(readFileSync(guardPath, 'utf8'), /^#!\/usr\/bin\/env python3\n/);
      today = keyLine(lab, null);
      guarded = keyLine(lab, guardPath);
      assert.equal(guarded.replace(`${guardPath} `, ''), today, "the guarded line is today's with the guard in front");
      await lab.setAuthorizedKeys(today);
      assert.equal((await borg(initArgs(line, lab.repoUrl('r')))).code, 0);
    });
    after(async () => lab?.close());

    test("no token, a malformed token, a non-serve command: the same result as today's forced command", async () => {
      const repo = lab.repoUrl('r');
      const cases: Array<[string, () => Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }>]> = [
        ['ssh id', () => lab.run(lab.sshArgv('id'), { timeoutMs: 30_000 })],
        ['ssh with a malformed token', () => lab.run(lab.sshArgv('TBORG_RUN=xyz', line.remotePath, 'serve'), { timeoutMs: 30_000 })],
        ['borg, no token', () => borg(listArchivesArgs(line, repo))],
        ['borg, a malformed token', () => borg(listArchivesArgs(line, repo), remote('TBORG_RUN=not-a-token'))],
        ['borg, two tokens', () => borg(listArchivesArgs(line, repo), remote(`TBORG_RUN=${TOKEN} TBORG_RUN=${TOKEN}`))],
        ['borg, a token with a non-serve command', () => lab.run(lab.sshArgv(`TBORG_RUN=${TOKEN}`, 'id'), { timeoutMs: 30_000 })],
      ];
      const results = async (): Promise<string[]> => {
        const out: string[] = [];
        for (const [name, run] of cases) {
          const r = await run();
          out.push(JSON.stringify({ name, code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() }));
        }
        return out;
      };
      await lab.setAuthorizedKeys(today);
      const before = await results();
      await lab.setAuthorizedKeys(guarded);
      const withGuard = await results();
      assert.deepEqual(withGuard, before);
      // And the guard ran for them: sshd started it as the forced command.
      const forced = readFileSync(lab.sshdLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('forced-command (key-option)'));
      assert.ok(
        forced.some((l) => l.includes(`${guardPath} ${line.remotePath} serve`)),
        `sshd ran the guard:\n${forced.slice(-2).join('\n')}`,
      );
    });

    test('a malformed token is no token: two connections with the same one leave each other alone', async () => {
      await lab.setAuthorizedKeys(guarded);
      const repo = lab.repoUrl('r');
      const bad = remote('TBORG_RUN=not-a-token');
      const holder = lab.run([line.client, ...withLockArgs(line, repo, 'sleep', '6')], { env: lab.env(bad), timeoutMs: 60_000 });
      await waitFor('the holder to take the lock', () => lab.lockHeld('r'), 30_000);
      const waiter = await borg(['--lock-wait', '30', ...listArchivesArgs(line, repo)], bad);
      const held = await holder;
      assert.equal(held.code, 0, held.stderr.toString());
      assert.equal(waiter.code, 0, waiter.stderr.toString());
    });

    test('tborg doctor tells a guarded host from one without, and says how to turn it on', async () => {
      const repo = lab.repoUrl('r');
      const doctor = async (env: NodeJS.ProcessEnv = {}): Promise<string> => {
        const r = await lab.run([process.execPath, TBORG, 'doctor', repo], {
          env: lab.env({ TBORG_KEEPALIVE: '10x30', ...env }),
          timeoutMs: 60_000,
        });
        return r.stdout.toString();
      };
      await lab.setAuthorizedKeys(today);
      assert.match(await doctor(), /server .*no tborg guard on lab .*tborg authorized-keys --guard, then --tborg-server-guard on/);
      assert.match(await doctor({ TBORG_SERVER_GUARD: 'on' }), /^warn {2}server .*--tborg-server-guard is on, but lab runs no guard/m);
      await lab.setAuthorizedKeys(guarded);
      assert.match(await doctor(), /server .*runs tborg's guard 1, unused: add --tborg-server-guard on/);
      const on = await doctor({ TBORG_SERVER_GUARD: 'on' });
      assert.match(on, /^ok {4}server .*runs tborg's guard 1: a lost connection's stale borg serve is ended by the next attempt/m);
      assert.match(on, /lock-wait .*\(guard\)/);
    });
  },
);

describeEachLine('the server guard leaves everything else as it was (store-lock lines)', { lines: (l) => !serveHoldsLock(l) }, (line) => {
  test('not applicable', {
    skip: `borg2 ${line.version}: the client holds the store lock; no borg serve holds it for the guard to end`,
  }, () => {});
});
