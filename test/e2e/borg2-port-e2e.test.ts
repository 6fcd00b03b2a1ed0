import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initArgs } from '../lab/borgs.js';
import { describeEachBorg2Line } from '../helpers/borg2-lab.js';

// README "borg 2", "never worse than plain borg": a repository whose port is only in its ssh:// URL, through
// tborg exactly as through plain borg2 (test/helpers/borg2-lab.ts has the lab).

describeEachBorg2Line('borg2: port', { lab: 'port' }, (b) => {
  test('port only in the URL, no BORG_RSH: create, list, check through tborg as through plain borg2', async () => {
    const repos = { plain: b.url('port-plain'), tborg: b.url('port-tborg') };
    for (const repo of Object.values(repos)) {
      const r = await b.borg2(initArgs(b.line, repo));
      assert.equal(r.code, 0, r.stderr.toString());
    }
    const steps: Array<(repo: string) => string[]> = [
      (repo) => ['create', '-r', repo, 'a1', b.data],
      (repo) => b.repoListArgs(repo),
      (repo) => ['check', '-r', repo],
    ];
    for (const step of steps) {
      const plain = await b.borg2(step(repos.plain));
      const through = await b.tborg(step(repos.tborg));
      assert.equal(plain.code, 0, `plain ${step('R').join(' ')}: ${plain.stderr.toString()}`);
      assert.equal(through.code, plain.code, `tborg ${step('R').join(' ')}: ${through.stderr.toString()}`);
      assert.equal(through.stdout.toString(), plain.stdout.toString());
    }
    // b25: what tborg will run is borgstore's own command, the URL's port in it.
    if (b.restOverSsh) {
      const p = await b.tborg(['plan', '--json', '-r', repos.tborg, 'create', 'a2', b.data]);
      const plan = JSON.parse(p.stdout.toString()) as { env: Record<string, string>; ssh: { argv: string[] } };
      assert.deepEqual(plan.env, {});
      assert.deepEqual(plan.ssh.argv.slice(0, 7), [
        'ssh',
        '-o',
        'ServerAliveInterval=30',
        '-o',
        'ServerAliveCountMax=3',
        '-p',
        String(b.lab.port),
      ]);
    }
  });
});
