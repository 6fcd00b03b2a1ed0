import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, initArgs, listArchivesArgs, sshUrl } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';

// README "Monitoring" on every borg line of the version matrix (test/lab/borgs.ts): a backup that
// failed (a wrong passphrase) stays failed in `tborg status` after compact, a read and a dry run,
// and the repository is one record whether its URL names the user and port or not.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

interface StatusJson {
  repositories: Array<{ repository: string; kind: string; state: string; exitCode: number; lastSuccess: string | null }>;
}

describeEachLine('a failed backup stays failed', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  let data: string;
  before(async () => {
    lab = await startLab({ line, name: `monitor-${line.name}` });
    data = join(lab.dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 3; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(200));
  });
  after(async () => lab?.close());

  test('after compact, a read and a dry run; one record for two spellings', async () => {
    const tborg = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      lab.run([process.execPath, TBORG, ...args], { env: lab.env({ TBORG_CONNECT_WAIT: '0', ...env }), timeoutMs: 180_000 });
    const status = async () => {
      const r = await tborg(['status', '--json', '--max-age', '1h']);
      return { code: r.code, json: JSON.parse(r.stdout.toString()) as StatusJson };
    };
    const repo = lab.repoUrl('failed');
    // The same repository with the user and the port written out.
    const spelled = sshUrl(line, `${userInfo().username}@${lab.host}:${lab.port}`, lab.repoPath('failed'));
    const init = await lab.run([line.client, ...initArgs(line, repo, true)]);
    assert.equal(init.code, 0, init.stderr.toString());
    const good = await tborg(createArgs(line, repo, 'a1', data));
    assert.equal(good.code, 0, good.stderr.toString());
    assert.equal((await status()).code, 0);
    const bad = await tborg(createArgs(line, spelled, 'a2', data), { BORG_PASSPHRASE: 'not the passphrase' });
    assert.notEqual(bad.code, 0);
    assert.notEqual(bad.code, 1);
    const repoArgs = line.major === 2 ? ['-r', repo] : [repo];
    const dry = line.major === 2 ? ['create', '--dry-run', '-r', repo, 'dry', data] : ['create', '--dry-run', `${repo}::dry`, data];
    for (const args of [['compact', ...repoArgs], listArchivesArgs(line, repo), dry]) {
      const r = await tborg(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr.toString()}`);
      const after = await status();
      assert.equal(after.code, 1, `after ${args[0]}: ${JSON.stringify(after.json)}`);
      const backups = after.json.repositories.filter((x) => x.kind === 'backup');
      assert.deepEqual(
        backups.map((x) => [x.state, x.exitCode]),
        [['failed', bad.code]],
        `after ${args[0]}: one record, failed`,
      );
      assert.notEqual(backups[0]!.lastSuccess, null);
    }
  });
});
