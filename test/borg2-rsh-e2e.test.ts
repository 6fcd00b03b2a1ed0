import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { initArgs } from './lab/borgs.js';
import type { RunResult } from './lab/processes.js';
import { borg2Available, borg2Lines, startBorg2Lab, type Borg2Lab } from './helpers/borg2-lab.js';

// Issue 13, "never worse than plain borg": the same with a BORG_RSH of the user's, which borgstore
// (b22+) runs verbatim, without the URL's port.

for (const line of borg2Lines()) {
  describe(`borg2 ${line.version} (${line.name}): rsh`, { skip: borg2Available.ok ? false : borg2Available.why }, () => {
    let b: Borg2Lab;
    before(async () => {
      b = await startBorg2Lab(line, 'rsh');
    });
    after(async () => b?.lab.close());

    test("port only in the URL with a BORG_RSH of the user's: tborg's exit code and borg's messages are plain borg2's", async () => {
      const repo = b.url('port-rsh');
      assert.equal((await b.borg2(initArgs(b.line, repo))).code, 0);
      // A BORG_RSH without the port: borgstore (b22+) then runs it verbatim, and plain borg2 reaches port
      // 22, where nothing listens; borg 1-style b5 adds -p itself and works. Either way tborg must match.
      // Two commands, one BORG_RSH: each failing b25 run costs borgstore's 3 reconnect tries, 5 s apart.
      for (const rsh of ['ssh -o ServerAliveInterval=5']) {
        for (const args of [['create', '-r', repo, `r-${rsh.length}`, b.data], ['check', '-r', repo]]) {
          const plain = await b.borg2(args, { BORG_RSH: rsh });
          const through = await b.tborg(args, { BORG_RSH: rsh });
          assert.equal(through.code, plain.code, `${rsh} ${args[0]}: plain ${plain.stderr.toString()} tborg ${through.stderr.toString()}`);
          assert.equal(through.stdout.toString(), plain.stdout.toString());
          const lastLine = (r: RunResult): string => r.stderr.toString().trim().split('\n').filter((l) => !l.startsWith('tborg:')).at(-1) ?? '';
          if (plain.code !== 0) assert.equal(lastLine(through), lastLine(plain));
        }
      }
    });

  });
}
