import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, initArgs, listArchivesArgs, lockHeld as borgsLockHeld, withLockArgs } from '../lab/borgs.js';
import { describeEachLine, knownBorg2StaleLock, knownBorg2StoreLockSigterm } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { descendants, type ProcessInfo, sleep, waitFor } from '../lab/processes.js';

// README "Signals" over the lab's real sshd, plain borg measured beside tborg in the same test:
// a service's `timeout 5 tborg create` stops like `timeout 5 borg create` (INVOCATION_ID set, no
// terminal), a systemd-style SIGTERM to every process of the run ends like plain borg's, and a
// SIGTERM or SIGINT while tborg waits for a lock held elsewhere ends it well within the attempt's
// lock wait, with nothing of its run left behind and the lock free for the next client.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stderr: string;
  // When it ran past its limit: its processes as they were then (for the failure's message).
  stuck?: string;
}

// Runs argv in the lab; resolves at its exit (not at the close of its pipes: a borg left behind
// would keep them open) or SIGKILLs it after `limitMs`, saying first where each of its processes was.
function runUntilExit(lab: Lab, argv: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<Ended> {
  const [file, ...args] = lab.command(argv);
  const started = Date.now();
  const child = spawn(file!, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let stuck: string | undefined;
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => {
    stuck = child.pid === undefined ? undefined : describeProcesses(descendants(child.pid));
    child.kill('SIGKILL');
    // What it left running would keep the lab busy: the rest of its processes too.
    for (const line of (stuck ?? '').split('\n')) {
      const pid = Number(line.split(' ')[0]);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    }
  }, limitMs);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stderr, ...(stuck === undefined ? {} : { stuck }) });
    });
  });
}

// "PID STATE WCHAN SigIgn=... SigBlk=... CMDLINE", a line per process: where a run that did not end sat.
function describeProcesses(list: readonly ProcessInfo[]): string {
  const field = (status: string, name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '?';
  return list
    .map((p) => {
      let status = '';
      let wchan = '?';
      try {
        status = readFileSync(`/proc/${p.pid}/status`, 'latin1');
        wchan = readFileSync(`/proc/${p.pid}/wchan`, 'latin1') || '-';
      } catch {
        // Gone meanwhile.
      }
      return `${p.pid} ${p.state} ${wchan} SigIgn=${field(status, 'SigIgn')} SigBlk=${field(status, 'SigBlk')} SigCgt=${field(status, 'SigCgt')} ${p.cmdline}`;
    })
    .join('\n');
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

describeEachLine('stopping tborg like plain borg', { skip: available.ok ? false : available.why }, (line) => {
  let lab: Lab;
  const borgArgv = (args: string[]): string[] => [line.client, ...args];
  const tborgArgv = (args: string[]): string[] => [TBORG, ...args];
  before(async () => {
    lab = await startLab({ line, name: `stop-${line.name}` });
    await mkdir(join(lab.dir, 'data'));
    await writeFile(join(lab.dir, 'data', 'f'), 'some data\n');
  });
  after(async () => lab?.close());

  async function init(name: string): Promise<string> {
    const repo = lab.repoUrl(name);
    const r = await lab.run(borgArgv(initArgs(line, repo)));
    assert.equal(r.code, 0, r.stderr.toString());
    return repo;
  }
  async function archives(repo: string): Promise<string[]> {
    const r = await lab.run(borgArgv(listArchivesArgs(line, repo)));
    assert.equal(r.code, 0, r.stderr.toString());
    return r.stdout.toString().split('\n').filter(Boolean);
  }

  test('under a service (INVOCATION_ID, no terminal) `timeout 5 tborg create` stops when `timeout 5 borg create` does', {
    timeout: 300_000,
  }, async (context) => {
    // stdin that never ends, slowly: the create runs until a signal stops it. setsid: no controlling
    // terminal, as in a systemd unit; bin/tborg.js itself, as a unit's ExecStart runs it.
    const script = 'while :; do echo x; sleep 0.1; done | timeout 5 "$@"; echo "rc=$?" >&2';
    const env = lab.env({ INVOCATION_ID: '0123456789abcdef0123456789abcdef' });
    const plainRepo = await init('timeout-plain');
    const plain = await runUntilExit(
      lab,
      ['setsid', '-w', 'sh', '-c', script, 'sh', ...borgArgv(createArgs(line, plainRepo, 'a', '-'))],
      env,
      120_000,
    );
    assert.match(plain.stderr, /rc=124\n$/, plain.stderr);
    const repo = await init('timeout-tborg');
    const t = await runUntilExit(
      lab,
      ['setsid', '-w', 'sh', '-c', script, 'sh', ...tborgArgv(createArgs(line, repo, 'a', '-'))],
      env,
      4 * plain.ms + 20_000,
    );
    context.diagnostic(`timeout 5: plain borg ${plain.ms} ms, tborg ${t.ms} ms`);
    assert.equal(t.signal, null, `tborg ran on past four times plain borg's ${plain.ms} ms; its processes then:\n${t.stuck}\n${t.stderr}`);
    assert.match(t.stderr, /rc=124\n$/, t.stderr);
    assert.ok(t.ms < 2 * plain.ms, `tborg took ${t.ms} ms, plain borg ${plain.ms} ms`);
    assert.deepEqual(await archives(repo), await archives(plainRepo), 'the stopped create committed what plain borg committed');
    await waitFor('no borg or ssh left', async () => (await lab.clientPids()).length === 0, 10_000);
  });

  test('SIGTERM to every process of the run at once (systemd KillMode=control-group) ends as for plain borg', {
    timeout: 300_000,
  }, async (context) => {
    // A local repository: borg's own answer to two SIGTERMs (its and tborg's), without ssh's death.
    const local = join(lab.dir, 'local');
    await mkdir(local, { recursive: true });
    const results: Record<'borg' | 'tborg', Ended> = {} as Record<'borg' | 'tborg', Ended>;
    for (const who of ['borg', 'tborg'] as const) {
      const repo = join(local, who);
      const r = await lab.run(borgArgv(initArgs(line, repo)));
      assert.equal(r.code, 0, r.stderr.toString());
      const argv = who === 'borg' ? borgArgv(createArgs(line, repo, 'a', '-')) : tborgArgv(createArgs(line, repo, 'a', '-'));
      const running = runUntilExit(
        lab,
        ['setsid', '-w', 'sh', '-c', 'while :; do echo x; sleep 0.1; done | "$@"', 'sh', ...argv],
        lab.env(),
        120_000,
      );
      // tborg, borg and ssh: not the shell pipeline around them (its sh has them in its argv too).
      const lockHeld = (): boolean => borgsLockHeld(line, repo);
      const ours = async (): Promise<number[]> =>
        (await lab.clientPids()).filter(
          (p) => /tborg\.js|borg2? .*create|^ssh /.test(cmdline(p)) && !/^(\S*\/)?(sh|setsid) /.test(cmdline(p)),
        );
      // Inside the create (its lock taken: borg's signal handlers are installed long before).
      await waitFor('borg to take the lock', lockHeld, 90_000);
      await sleep(1000);
      for (const pid of await ours()) process.kill(pid, 'SIGTERM');
      results[who] = await running;
      const ended = results[who];
      assert.equal(
        ended.stuck,
        undefined,
        `${who} did not end within 120 s of the SIGTERMs; its processes then:\n${ended.stuck}\n${ended.stderr}`,
      );
      await waitFor('the lock to be released', () => !lockHeld(), 30_000);
      assert.deepEqual(await archives(repo), [], `${who}: no archive`);
    }
    context.diagnostic(`plain borg ${results.borg.code} in ${results.borg.ms} ms, tborg ${results.tborg.code} in ${results.tborg.ms} ms`);
    assert.equal(results.tborg.code, results.borg.code, `tborg: ${results.tborg.stderr}\nborg: ${results.borg.stderr}`);
    assert.equal(results.tborg.stderr, results.borg.stderr);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} while the first attempt waits for a lock held elsewhere: over well within the attempt's lock wait, nothing left, the lock free`, {
      timeout: 300_000,
      // b19: SIGTERM's wait as slow as plain borg's; either stop can leave the stopped session's store
      // lock behind, which blocks the exclusive with-lock at the end for 30 minutes (seen once in two runs).
      todo: knownBorg2StoreLockSigterm(line, signal) || knownBorg2StaleLock(line),
    }, async (context) => {
      const name = `held-${signal}`;
      const repo = await init(name);
      const holder = lab.spawn(borgArgv(withLockArgs(line, repo, 'sleep', '120')), { stdio: 'ignore' });
      const holderPids = new Set<number>();
      try {
        await waitFor("the holder's lock", () => lab.lockHeld(name), 60_000);
        await waitFor("the holder's command", async () => (await lab.clientPids()).some((p) => /^sleep 120/.test(cmdline(p))), 30_000);
        for (const pid of await lab.clientPids()) holderPids.add(pid);
        const stop = async (argv: string[]): Promise<{ ended: Ended; lockWaitS: number; run: number[] }> => {
          const servesBefore = new Set(await lab.serverPids(/serve/));
          const running = runUntilExit(lab, argv, lab.env(), 200_000);
          const attempt = async (): Promise<number | undefined> =>
            (await lab.clientPids()).find((p) => !holderPids.has(p) && / create /.test(cmdline(p)) && !/tborg\.js/.test(cmdline(p)));
          // The borg and its own --lock-wait, read in one look: a second look may find the process
          // list between two states on a loaded machine.
          const { borgPid, lockWaitS } = await waitFor(
            'borg to start',
            async () => {
              const pid = await attempt();
              const wait = pid === undefined ? undefined : /--lock-wait (\d+)/.exec(cmdline(pid))?.[1];
              return pid === undefined || wait === undefined ? undefined : { borgPid: pid, lockWaitS: Number(wait) };
            },
            30_000,
          );
          // Connected and asking for the lock: its `borg serve` runs on the server (borg's self test
          // and start-up, slow on a loaded machine, are over), and a second later it still waits.
          await waitFor('its borg serve', async () => (await lab.serverPids(/serve/)).some((p) => !servesBefore.has(p)), 90_000);
          await sleep(1000);
          const run = (await lab.clientPids()).filter((p) => !holderPids.has(p));
          const top = run.find((p) => /tborg\.js/.test(cmdline(p))) ?? borgPid;
          const sent = Date.now();
          process.kill(top, signal);
          const ended = await running;
          return { ended: { ...ended, ms: Date.now() - sent }, lockWaitS, run };
        };
        const plain = await stop(borgArgv(['--lock-wait', '10', ...createArgs(line, repo, 'plain', join(lab.dir, 'data'))]));
        const t = await stop(tborgArgv(createArgs(line, repo, 'tborg', join(lab.dir, 'data'))));
        const report = `tborg ${t.ended.ms} ms (attempt lock wait ${t.lockWaitS} s), plain borg --lock-wait 10: ${plain.ended.ms} ms`;
        context.diagnostic(report);
        // Well within the attempt's lock wait (a third of it), after borg's own answer to the signal
        // where plain borg gives one before its lock wait is over (borg2 2.0.0b25 ends a SIGTERM'd
        // lock wait itself, in 2.4 s on a loaded machine): tborg hands the signal on, it cannot end
        // before borg does. Where plain borg waits its lock wait out (1.x's SIGTERM, every SIGINT),
        // the third alone.
        const borgsOwnMs = plain.ended.ms < plain.lockWaitS * 1000 ? plain.ended.ms : 0;
        assert.ok(t.ended.ms < borgsOwnMs + (t.lockWaitS * 1000) / 3, report);
        if (signal === 'SIGTERM')
          assert.equal(t.ended.code, plain.ended.code, `${report}\ntborg: ${t.ended.stderr}\nborg: ${plain.ended.stderr}`);
        // Plain borg notes a first SIGINT and acts on it after its lock wait (exit 2, the lock
        // timeout); tborg's waiting borg gets the second one at once: borg's "Keyboard interrupt", 130.
        else assert.equal(t.ended.code, 130, `${report}\ntborg: ${t.ended.stderr}\nborg: ${plain.ended.stderr}`);
        assert.doesNotMatch(t.ended.stderr, /tborg: /);
        // Nothing of tborg's run is left on the client: no tborg, borg or ssh.
        const left = t.run.filter((p) => cmdline(p) !== '');
        assert.deepEqual(left.map(cmdline), [], report);
      } finally {
        holder.kill('SIGTERM');
      }
      // The lock is free as soon as the holder lets go: no serve of the stopped run took it.
      await waitFor('the holder to let go', () => !lab.lockHeld(name), 30_000);
      const next = await lab.run(borgArgv(['--lock-wait', '1', ...withLockArgs(line, repo, 'true')]));
      assert.equal(next.code, 0, next.stderr.toString());
      assert.deepEqual(await archives(repo), []);
      // A serve that waited for the lock ends with its own lock wait, at the latest.
      await waitFor(
        'no serve left',
        async () => (await lab.serverPids(/serve/)).length === 0 && (await lab.clientPids()).length === 0,
        60_000,
      ).catch(async (error: unknown) => {
        const left = [...(await lab.serverPids()), ...(await lab.clientPids())].map(cmdline);
        assert.fail(`${String(error)}: ${JSON.stringify(left)}`);
      });
    });
  }
});
