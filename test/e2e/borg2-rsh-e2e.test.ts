import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initArgs } from '../lab/borgs.js';
import type { RunResult } from '../lab/processes.js';
import { describeEachBorg2Line } from '../helpers/borg2-lab.js';

// README "borg 2", "never worse than plain borg": the same with a BORG_RSH of the user's, which borgstore
// (b22+) runs verbatim, without the URL's port.

describeEachBorg2Line('borg2: rsh', { lab: 'rsh' }, (b) => {
  test("port only in the URL with a BORG_RSH of the user's: tborg's exit code and borg's messages are plain borg2's", async () => {
    const repos = { plain: b.url('rsh-plain'), tborg: b.url('rsh-tborg') };
    for (const repo of Object.values(repos)) assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
    // A BORG_RSH without the port: borgstore (b22+) then runs it verbatim, and plain borg2 reaches port
    // 22, where nothing listens; borg 1-style b5 adds -p itself and works. Either way tborg must match.
    // Two commands: each failing b25 run costs borgstore's 3 reconnect tries, 5 s apart.
    const rsh = 'ssh -o ServerAliveInterval=5';
    const steps: Array<(repo: string) => string[]> = [(repo) => ['create', '-r', repo, 'r1', b.data], (repo) => ['check', '-r', repo]];
    const lastLine = (r: RunResult): string =>
      r.stderr
        .toString()
        .trim()
        .split('\n')
        .filter((l) => !l.includes('tborg:'))
        .at(-1)
        ?.replaceAll('rsh-tborg', 'rsh-plain') ?? '';
    for (const step of steps) {
      // Side by side (two repositories, nothing shared): b25's reconnect tries are waited out once.
      // No connect wait: the refused port 22 is the user's own misconfiguration that plain borg2 shows
      // at once; under cron tborg would retry it for 15 minutes (connect-wait.ts), which is not this test.
      const [plain, through] = await Promise.all([
        b.borg2(step(repos.plain), { BORG_RSH: rsh }),
        b.tborg(step(repos.tborg), { BORG_RSH: rsh, TBORG_CONNECT_WAIT: '0' }),
      ]);
      const what = `${step('R').join(' ')}: plain ${plain.stderr.toString()} tborg ${through.stderr.toString()}`;
      assert.equal(through.code, plain.code, what);
      assert.equal(through.stdout.toString(), plain.stdout.toString());
      if (plain.code !== 0) assert.equal(lastLine(through), lastLine(plain), what);
      // b25 really loses the port (borgstore adds no -p to a BORGSTORE_RSH), b5 keeps it.
      assert.equal(plain.code === 0, !b.restOverSsh, what);
    }
  });
});
