import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, initArgs, withLockArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { sleep, waitFor } from '../lab/processes.js';

// README "How long tborg waits for a lock", on a real terminal (a pty) over the lab's real sshd: while
// the first attempt waits for a lock another client holds, the spinner appears within a second or
// two of borg sitting still, before that attempt's own lock wait is over (before, it appeared only
// once the attempt had timed out).

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TBORG = join(ROOT, 'bin', 'tborg.js');
const DRIVER = join(ROOT, 'fixtures', 'pty-spinner.py');
const available = labAvailable({ matrix: true });

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

describeEachLine('the spinner on a terminal', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ line, name: `spinner-${line.name}` });
  });
  after(async () => lab?.close());

  test("appears while the first attempt waits for a held lock, before that attempt's lock wait is over", {
    timeout: 300_000,
  }, async (context) => {
    const name = 'spin';
    const repo = lab.repoUrl(name);
    assert.equal((await lab.run([line.client, ...initArgs(line, repo)])).code, 0);
    const holder = lab.spawn([line.client, ...withLockArgs(line, repo, 'sleep', '120')], { stdio: 'ignore' });
    try {
      await waitFor("the holder's lock", () => lab.lockHeld(name), 60_000);
      await sleep(500);
      const before = new Set(await lab.clientPids());
      // BORG_PASSPHRASE (the lab's env sets it) rules out a passphrase prompt, so a spinner may run
      // while borg does (spinner-safety.ts spinnerSafeDuringAttempts).
      const servesBefore = new Set(await lab.serverPids(/serve/));
      const started = Date.now();
      let asked: number | undefined;
      const driving = lab.run(['python3', DRIVER, '25', 'waiting for ', TBORG, ...createArgs(line, repo, 'a', ROOT + '/package.json')], {
        timeoutMs: 120_000,
      });
      let lockWaitS: number | undefined;
      await waitFor(
        'the first attempt',
        async () => {
          for (const pid of await lab.clientPids()) {
            if (before.has(pid)) continue;
            const wait = /python3?\S* \S*borg2? --lock-wait (\d+) create/.exec(cmdline(pid));
            if (wait) lockWaitS = Number(wait[1]);
          }
          // borg asks for the lock once its `borg serve` runs: its lock wait starts about then.
          if (asked === undefined && (await lab.serverPids(/serve/)).some((p) => !servesBefore.has(p))) asked = Date.now() - started;
          return lockWaitS !== undefined && asked !== undefined;
        },
        90_000,
      );
      const r = await driving;
      assert.equal(r.code, 0, r.stderr.toString());
      const out = JSON.parse(r.stdout.toString()) as { first: number | null; transcript: string };
      const report = `spinner after ${out.first} ms; borg asked for the lock after ${asked} ms and waits ${lockWaitS} s`;
      context.diagnostic(report);
      assert.notEqual(out.first, null, out.transcript);
      // Before, the spinner came only after that wait had timed out: at asked + lock wait, or later.
      assert.ok(out.first! < asked! + lockWaitS! * 1000, `${report}:\n${out.transcript}`);
    } finally {
      holder.kill('SIGTERM');
    }
  });
});
