import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createArgs, extractStdoutArgs, initArgs, listArchiveArgs, withLockArgs, type BorgLine } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab, type RunResult } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';

// What README "What tborg does on a run" promises, on every borg line of the version matrix (test/lab/borgs.ts), on a local
// repository and over the lab's real sshd: `tborg X` and `borg X` give byte-identical output and
// identical exit codes, `tborg create -` reads stdin, and SIGTERM during a create over ssh leaves
// nothing running and no lock behind.

const TBORG = fileURLToPath(new URL('../../../bin/tborg.js', import.meta.url));
const available = labAvailable({ matrix: true });
const skip = available.ok ? false : available.why;

describeEachLine('pass-through', { skip }, (line) => {
  let lab: Lab;

  before(async () => {
    lab = await startLab({ name: `e2e-${line.name}`, line });
    // Source files with fixed times, so archives of them list identically whoever made them.
    const data = join(lab.dir, 'data');
    await mkdir(join(data, 'sub dir'), { recursive: true });
    await mkdir(join(lab.dir, 'local'));
    await writeFile(join(data, 'hello.txt'), 'hello, borg\n');
    await writeFile(join(data, 'sub dir', 'ünïcödé 😀.bin'), randomBytes(70_000));
    await symlink('hello.txt', join(data, 'link'));
    const when = new Date('2024-05-01T12:00:00Z');
    for (const path of [join(data, 'hello.txt'), join(data, 'sub dir', 'ünïcödé 😀.bin'), join(data, 'sub dir'), data]) {
      await utimes(path, when, when);
    }
  });

  after(async () => {
    await lab?.close();
  });

  function borg(args: readonly string[], input?: string): Promise<RunResult> {
    return lab.run([line.client, ...args], { input: input ?? '', timeoutMs: 120_000, cwd: lab.dir });
  }

  function tborg(args: readonly string[], input?: string): Promise<RunResult> {
    return lab.run([process.execPath, TBORG, ...args], { input: input ?? '', timeoutMs: 120_000, cwd: lab.dir });
  }

  interface Same {
    code: number | null;
    stdout: Buffer;
    stderr: string;
  }

  // Runs `borg <args>` then `tborg <args>` (or each with its own arguments) and asserts the same exit
  // code, stdout and stderr. `swap` maps the text of borg's run onto tborg's (two repositories).
  async function assertSame(
    borgArgs: readonly string[],
    tborgArgs: readonly string[] = borgArgs,
    swap: [string, string] | undefined = undefined,
  ): Promise<Same> {
    const b = await borg(borgArgs);
    const t = await tborg(tborgArgs);
    const rewrite = (buf: Buffer): string => (swap ? buf.toString('latin1').replaceAll(swap[0], swap[1]) : buf.toString('latin1'));
    assert.equal(t.code, b.code, `exit code of ${tborgArgs.join(' ')}\nborg: ${b.stderr.toString()}\ntborg: ${t.stderr.toString()}`);
    assert.equal(t.stdout.toString('latin1'), rewrite(b.stdout), `stdout of ${tborgArgs.join(' ')}`);
    assert.equal(t.stderr.toString('latin1'), rewrite(b.stderr), `stderr of ${tborgArgs.join(' ')}`);
    return { code: t.code, stdout: t.stdout, stderr: t.stderr.toString() };
  }

  describe('tborg X and borg X give the same stdout, stderr and exit code', { skip, concurrency: 2 }, () => {
    for (const where of ['local', 'ssh'] as const) {
      describe(`${where} repository`, { concurrency: 1 }, () => {
        // borg's repository A, tborg's repository B: made the same way, so their contents match.
        const repo = (name: string): string => (where === 'ssh' ? lab.repoUrl(name) : join(lab.dir, 'local', name));
        const a = (): string => repo(`${where}-a`);
        const b = (): string => repo(`${where}-b`);

        test('init -e none', async () => {
          const same = await assertSame(initArgs(line, a()), initArgs(line, b()), [a(), b()]);
          assert.equal(same.code, 0, same.stderr);
        });

        test('create', async () => {
          // Relative source path: cwd is the lab's directory for both.
          const same = await assertSame(createArgs(line, a(), 'one', 'data'), createArgs(line, b(), 'one', 'data'), [a(), b()]);
          assert.equal(same.code, 0, same.stderr);
        });

        test('list ARCHIVE: the two archives hold the same files', async () => {
          // (Not --json-lines: borg 1.2 itself orders its keys differently from run to run.)
          const same = await assertSame(listArchiveArgs(line, a(), 'one'), listArchiveArgs(line, b(), 'one'));
          assert.equal(same.code, 0, same.stderr);
          assert.match(same.stdout.toString(), /data\/sub dir\/ünïcödé 😀\.bin/);
        });

        test('list REPOSITORY and list --json REPOSITORY', async () => {
          const same = await assertSame(repoList(line, a()));
          // borg 1 starts a line with the name; borg2 with the archive id, then the time and the name.
          assert.match(same.stdout.toString(), /^(\w{8} +)?(one +)?\w{3}, \d{4}-\d\d-\d\d [\d:]+ (\+0000 +one)?/);
          assert.match(same.stdout.toString(), /\bone\b/);
          const json = await assertSame(repoList(line, a(), '--json'));
          const parsed = JSON.parse(json.stdout.toString()) as { archives: Array<{ name: string }> };
          assert.deepEqual(
            parsed.archives.map((x) => x.name),
            ['one'],
          );
        });

        test('extract --stdout', async () => {
          const same = await assertSame(extractStdoutArgs(line, a(), 'one', 'data/hello.txt'));
          assert.equal(same.stdout.toString(), 'hello, borg\n');
        });

        test('errors: a missing repository (and, locally, an archive that exists already)', async () => {
          const missing = await assertSame(repoList(line, repo(`${where}-missing`)));
          // 2 with borg 1's legacy codes, 13 (RepositoryDoesNotExist) with borg2's modern ones.
          assert.ok(missing.code === 2 || missing.code === 13, String(missing.code));
          assert.match(missing.stderr, /does not exist/);
          if (where === 'ssh') return; // the next error is the same either way; spare the suite's time
          // borg2 2.0.0b25 keeps archives of one name as a series: a second "one" is no error there.
          const exists = await assertSame(createArgs(line, a(), 'one', 'data'));
          if (line.repoPrefix !== 'repo-') {
            assert.ok(exists.code === 2 || exists.code === 30, String(exists.code));
            assert.match(exists.stderr, /already exists/);
          }
        });

        // Over ssh only: the local run would show nothing more and costs suite time.
        if (where === 'ssh')
          test('echo data | tborg create REPO::a - archives the data', async () => {
            const r = await tborg(createArgs(line, b(), 'stdin', '-'), 'data\n');
            assert.equal(r.code, 0, r.stderr.toString());
            const back = await borg(extractStdoutArgs(line, b(), 'stdin'));
            assert.equal(back.code, 0, back.stderr.toString());
            assert.equal(back.stdout.toString(), 'data\n');
          });
      });
    }

    test('--version', async () => {
      const same = await assertSame(['--version']);
      assert.equal(same.stdout.toString(), `${line.client} ${line.version}\n`);
    });
  });

  describe('SIGTERM to tborg during a create over ssh', { skip }, () => {
    test("exits 143 (borg's), leaves no borg or ssh on either side, releases the lock", { timeout: 120_000 }, async () => {
      const url = lab.repoUrl('sigterm');
      const init = await borg(initArgs(line, url));
      assert.equal(init.code, 0, init.stderr.toString());
      // Nothing else runs in the lab now (the describe above has finished), so every process in it counts.
      assert.deepEqual(await lab.clientPids(), []);
      assert.deepEqual(await lab.serverPids(), []);

      const child = lab.spawn([process.execPath, TBORG, ...createArgs(line, url, 'big', '-')], { stdio: ['pipe', 'pipe', 'pipe'] });
      const stderr: Buffer[] = [];
      child.stderr!.on('data', (b: Buffer) => stderr.push(b));
      child.stdout!.resume();
      const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('close', (code, signal) => resolve([code, signal])),
      );
      // Feed incompressible data for as long as borg reads it.
      let fed = 0;
      let feeding = true;
      child.stdin!.on('error', () => {
        feeding = false;
      });
      void (async () => {
        while (feeding) {
          const chunk = randomBytes(1 << 20);
          fed += chunk.length;
          if (!child.stdin!.write(chunk)) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                child.stdin!.off('drain', done);
                child.stdin!.off('close', done);
                resolve();
              };
              child.stdin!.once('drain', done);
              child.stdin!.once('close', done);
            });
          }
          if (child.stdin!.destroyed || child.exitCode !== null) feeding = false;
        }
      })();

      // Mid-stream: the server holds the repository lock and borg has taken a good part of the input.
      await waitFor('the server-side lock', () => lab.lockHeld('sigterm'), 30_000);
      await waitFor('borg to read 16 MiB', () => fed > 16 << 20, 60_000);
      assert.ok((await lab.serverPids(/borg2? serve/)).length > 0, 'borg serve runs on the server');
      assert.ok((await lab.clientPids(/^ssh /)).length > 0, 'ssh runs on the client');

      child.kill('SIGTERM');
      const [code, signal] = await closed;
      feeding = false;
      assert.equal(signal, null);
      const said = Buffer.concat(stderr).toString();
      // The code must be borg's own. borg 1.2 normally unwinds SigTerm and exits 128+15 = 143. But a
      // SIGTERM can land between RemoteRepository's os.write() and its to_send.pop_front() (borg 1.2.4
      // remote.py, call_many.send_buffer): the rollback then resends bytes the server already has, the
      // server answers "Got unexpected RPC data format from client" or a traceback, and borg exits 2.
      // Plain borg, killed the same way in this lab, did so in 2 runs of 40 (one with exactly that message;
      // the lock was released both times). So 2 is borg's answer too, when it comes with borg's report from
      // the server and nothing from tborg; any other code fails. (That tborg signals borg alone and never
      // its ssh, whose death would also end in 2, is pinned down by passthrough-cli's signal tests.)
      // borg2 (modern exit codes by default) reports the same race as ConnectionClosed, 80, with its own
      // "Connection closed by remote host" (seen once on Debian 13's 2.0.0b19, in a CI root at load ~10).
      // Plain b19 does so too: killed the same way in this lab at load ~15, 25 runs each, plain borg2
      // ended 80 once (a ConnectionClosed traceback from remote.py call_many) and 143 24 times; through
      // tborg exactly the same.
      if (code !== 143) {
        if (line.major === 2 && code === 80) assert.match(said, /Connection closed by remote host/, said);
        else {
          assert.equal(code, 2, said);
          assert.match(said, /^Remote: /m, said);
        }
      }
      assert.doesNotMatch(said, /\btborg: /, said);

      await waitFor('no borg/ssh left on the client', async () => (await lab.clientPids()).length === 0, 10_000).catch(
        async (error: unknown) => {
          assert.fail(`${String(error)}: ${JSON.stringify(await lab.clientPids())}`);
        },
      );
      await waitFor('no borg serve left on the server', async () => (await lab.serverPids()).length === 0, 10_000).catch(
        async (error: unknown) => {
          assert.fail(`${String(error)}: ${JSON.stringify(await lab.serverPids())}`);
        },
      );
      assert.equal(lab.lockHeld('sigterm'), false, 'the lock is gone');
      const lock = await borg(['--lock-wait', '1', ...withLockArgs(line, url, 'true')]);
      assert.equal(lock.code, 0, lock.stderr.toString());
    });
  });
});

// The archives of a repository (`borg list REPO`, borg2's `rlist`/`repo-list`), with extra options.
function repoList(line: BorgLine, repo: string, ...options: string[]): string[] {
  return line.major === 2 ? [`${line.repoPrefix}list`, ...options, '-r', repo] : ['list', ...options, repo];
}
