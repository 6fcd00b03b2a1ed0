import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createArgs, initArgs, listArchivesArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';
import { createPlaceholderResolver } from '../../src/borg/placeholders.js';
import { archiveAuthor, readLanded, type LandedCheck } from '../../src/plan/landed.js';

// README "What is retried": a create whose connection is cut after its commit and before borg's
// answer has landed; tborg finds that out before it would retry, and ends as the one clean run would
// have (exit 0, one archive, also with {now} in the name). The cut comes exactly there: the server's
// borg (a wrapper, as --remote-path) holds back its answer to the commit for a few seconds after the
// commit is on disk, and the test black-holes the connection then. Plain borg under the same cut is
// the reference for what the cut does. Lines whose server runs borg serve (borg 1.x, borg2 2.0.0b5).

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

describeEachLine(
  'a create cut after its commit',
  { skip: available.ok ? false : available.why, lines: (l) => l.major === 1 || l.repoPrefix === 'r' },
  (line) => {
    let lab: Lab;
    let repo: string;
    let data: string;
    let marks: string;
    const archives = async (): Promise<string[]> => {
      // After a cut the old borg serve holds the lock until the server's sshd lets it go (1 x 3 here).
      const r = await lab.run([line.client, '--lock-wait', '60', ...listArchivesArgs(line, repo)]);
      assert.equal(r.code, 0, r.stderr.toString());
      return r.stdout.toString().split('\n').filter(Boolean);
    };

    before(async () => {
      lab = await startLab({ line, name: `landed-${line.name}`, clientAlive: { interval: 1, countMax: 3 } });
      repo = lab.repoUrl('landed');
      assert.equal((await lab.run([line.client, ...initArgs(line, repo)])).code, 0);
      data = join(lab.dir, 'data');
      mkdirSync(data);
      for (let i = 0; i < 5; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(500));
      marks = join(lab.dir, 'marks');
      mkdirSync(marks);
    });
    after(async () => lab?.close());

    // A server-side borg whose first commit (of the run named `run`) is held: the commit is on disk,
    // a file in `marks` says so, and the answer waits 10 s, long enough to cut the connection.
    async function slowCommitBorg(run: string): Promise<string> {
      const path = join(lab.dir, `slow-commit-${run}`);
      await writeFile(
        path,
        [
          '#!/usr/bin/python3',
          'import os, sys, time',
          ...(line.major === 2 ? ['sys.path.insert(0, "/usr/lib/borgbackup2")'] : []),
          'from borg.repository import Repository',
          'real_commit = Repository.commit',
          'def held_commit(self, *args, **kwargs):',
          '    result = real_commit(self, *args, **kwargs)',
          `    mark = ${JSON.stringify(join(marks, run))}`,
          '    try:',
          '        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY))',
          '    except FileExistsError:',
          '        return result',
          '    time.sleep(10)',
          '    return result',
          'Repository.commit = held_commit',
          'from borg.archiver import main',
          'sys.exit(main())',
          '',
        ].join('\n'),
      );
      await chmod(path, 0o755);
      return path;
    }

    // Runs argv (a create with --remote-path set to the slow borg), cuts its connection once the commit
    // is on disk, and collects the result.
    async function runCut(argv: string[], env: NodeJS.ProcessEnv, run: string): Promise<{ code: number | null; stderr: string }> {
      const child = lab.spawn(argv, { env: lab.env(env) });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      await waitFor('the commit on disk', () => existsSync(join(marks, run)), 120_000);
      const conns = await lab.clientConnections();
      assert.equal(conns.length, 1, JSON.stringify(conns));
      await lab.dropConnection(conns[0]!.localPort);
      const code = await done;
      await lab.heal();
      return { code, stderr };
    }

    const KEEP = { TBORG_KEEPALIVE: '1x3', TBORG_SERVER_ALIVE: '1x3' };
    const withSlow = (name: string, remote: string): string[] => {
      const args = createArgs(line, repo, name, data);
      return [...args.slice(0, 1), '--remote-path', remote, ...args.slice(1)];
    };

    test('plain borg: the cut ends in an error although the archive landed (the reference)', async () => {
      const plain = await runCut(
        [line.client, ...withSlow('plain', await slowCommitBorg('plain'))],
        { BORG_RSH: `${lab.rsh} -o ServerAliveInterval=1 -o ServerAliveCountMax=3` },
        'plain',
      );
      assert.notEqual(plain.code, 0, plain.stderr);
      assert.ok((await archives()).includes('plain'), 'the archive landed');
    });

    test('tborg, a fixed name: ends 0 as the clean run would, the archive once, and says what it did', async () => {
      const t = await runCut([process.execPath, TBORG, ...withSlow('fixed', await slowCommitBorg('fixed'))], KEEP, 'fixed');
      assert.equal(t.code, 0, t.stderr);
      assert.doesNotMatch(t.stderr, /already exists/);
      assert.deepEqual(
        (await archives()).filter((a) => a === 'fixed'),
        ['fixed'],
      );
      assert.match(t.stderr, /the connection to lab was lost; retrying \(1 of 3\)/);
      assert.match(
        t.stderr,
        /tborg: the archive fixed had landed before the connection was lost .*: not running borg again; exit 0, as the clean run$/m,
      );
    });

    // The check's own question, put to this line's real borg over ssh: tborg's planned list (its
    // --format keys), read by tborg's reader with the author tborg expects. Another user's archive
    // whose name fits the pattern and that started after the attempt is not this run's (getpass, on
    // every line, takes LOGNAME first); this user's is.
    test("the landed check: an archive of the same name pattern by another user is not this run's, this user's is", async () => {
      const plan = await lab.run([process.execPath, TBORG, 'plan', '--json', ...createArgs(line, repo, 'series-{now}', data)], {
        env: lab.env(),
      });
      assert.equal(plan.code, 0, plan.stderr.toString());
      const check = (JSON.parse(plan.stdout.toString()) as { retry: { landedCheck: LandedCheck } }).retry.landedCheck;
      assert.equal(check.archive, 'series-{now}');
      const answer = async (since: number) => {
        const listed = await lab.run([line.client, ...check.listArgv], { env: lab.env() });
        assert.equal(listed.code, 0, listed.stderr.toString());
        const author = archiveAuthor(lab.env(), hostname(), userInfo().username);
        return readLanded(listed.stdout.toString(), check, createPlaceholderResolver(line.version), since, author);
      };
      const since = Date.now() - 2000;
      const other = await lab.run([line.client, ...createArgs(line, repo, 'series-{now}', data)], {
        env: lab.env({ LOGNAME: 'intruder' }),
      });
      assert.equal(other.code, 0, other.stderr.toString());
      assert.deepEqual(await answer(since), { landed: null });
      // borg 1 names are unique: this user's archive a second later, under a new {now}.
      await new Promise((r) => setTimeout(r, 1100));
      const own = await lab.run([line.client, ...createArgs(line, repo, 'series-{now}', data)], { env: lab.env() });
      assert.equal(own.code, 0, own.stderr.toString());
      const landed = await answer(since);
      assert.ok('landed' in landed && landed.landed?.startsWith('series-'), JSON.stringify(landed));
      assert.equal((await archives()).filter((a) => a.startsWith('series-')).length, 2);
    });

    test('tborg, {now} in the name: one archive, not a second one with a new timestamp', async () => {
      const before = (await archives()).filter((a) => a.startsWith('now-'));
      assert.deepEqual(before, []);
      const t = await runCut([process.execPath, TBORG, ...withSlow('now-{now}', await slowCommitBorg('now'))], KEEP, 'now');
      assert.equal(t.code, 0, t.stderr);
      assert.deepEqual((await archives()).filter((a) => a.startsWith('now-')).length, 1, `${await archives()}\n${t.stderr}`);
      assert.match(t.stderr, /tborg: the archive now-\S+ had landed before the connection was lost/);
    });
  },
);
