import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isRunning, runBuffered, sleep, waitFor, type RunResult } from '../lab/processes.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// The pass-through contract (README "What tborg does on a run"), checked against a fake borg (fixtures/fake-borg.mjs):
// argv, environment and streams byte for byte, borg's exit code, signals, and which borg is run.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');
const FAKE_BORG = join(ROOT, 'fixtures', 'fake-borg.mjs');
const NODE_DIR = dirname(process.execPath);

let work = '';
let fakeDir = ''; // holds `borg`, a wrapper for the fake (outside the package: tborg skips its own files)
let fakeBorg = '';
let linkDir = ''; // holds `borg -> bin/tborg.js`, as people install tborg in front of borg
let reports = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tborg-cli-test-'));
  fakeDir = join(work, 'fake');
  await mkdir(fakeDir);
  fakeBorg = join(fakeDir, 'borg');
  // exec: the fake keeps the wrapper's pid, so tborg's child *is* the fake borg.
  await writeFile(fakeBorg, `#!/bin/sh\nexec '${process.execPath}' '${FAKE_BORG}' "$@"\n`);
  await chmod(fakeBorg, 0o755);
  linkDir = join(work, 'link');
  await mkdir(linkDir);
  await symlink(TBORG, join(linkDir, 'borg'));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

function reportFile(): string {
  return join(work, `report-${++reports}.json`);
}

interface Report {
  argv: string[];
  env: Record<string, string>;
  pid: number;
  ppid: number;
  pgrp: number;
  stdin: { dev: number; ino: number; file: boolean } | null;
  stdout: { dev: number; ino: number; file: boolean } | null;
}

// The fake's last run (tborg may have asked it `--version` first).
async function readReport(file: string): Promise<Report> {
  const runs = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return JSON.parse(runs[runs.length - 1]!) as Report;
}

// tborg puts its own `--lock-wait N` first when borg opens a repository and the user gave none (the
// lock-wait feature); the user's words follow, byte for byte and in their positions.
function userArgv(argv: readonly string[]): string[] {
  if (argv[0] === '--lock-wait' && /^\d+$/.test(argv[1] ?? '')) return argv.slice(2);
  return [...argv];
}

// The test's own environment without anything that would steer tborg or borg, the fake first on PATH.
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...inheritedEnv(['FAKE_BORG_']),
    PATH: `${fakeDir}:${process.env.PATH ?? ''}`,
    XDG_CACHE_HOME: join(work, 'cache'),
    XDG_STATE_HOME: join(work, 'state'),
    ...extra,
  };
}

function tborg(args: readonly string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<RunResult> {
  return runBuffered([process.execPath, TBORG, ...args], { env, input: input ?? '', timeoutMs: 60_000 });
}

function lines(buffer: Buffer): string[] {
  return buffer
    .toString()
    .split('\n')
    .filter((l) => l !== '');
}

// A tborg started in the background whose stderr can be awaited line by line.
interface Running {
  child: ChildProcess;
  stderr(): string;
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  done: Promise<RunResult>;
}

function startTborg(
  t: TestContext,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { detached?: boolean; stdio?: StdioOptions } = {},
): Running {
  const child = spawn(process.execPath, [TBORG, ...args], {
    env,
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  // A failing test must not hang the file: kill tborg and, through its report, the fake borg's group.
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const report = env.FAKE_BORG_REPORT;
    if (report && existsSync(report)) {
      try {
        const runs = readFileSync(report, 'utf8').split('\n').filter(Boolean);
        process.kill(-(JSON.parse(runs[runs.length - 1]!) as Report).pgrp, 'SIGKILL');
      } catch {
        // Gone already, as it should be.
      }
    }
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
  const stderr = (): string => Buffer.concat(err).toString();
  return {
    child,
    stderr,
    waitForStderr: (text, timeoutMs = 15_000) =>
      waitFor(`tborg's stderr to show ${JSON.stringify(text)}`, () => stderr().includes(text), timeoutMs, 10).then(() => undefined),
    done,
  };
}

// Independent short runs: concurrently, as most of their time is process start-up.
const concurrent = { concurrency: 4 };

describe('argv and environment', concurrent, () => {
  test('borg gets exactly the arguments and environment it would get without tborg', async () => {
    const args = [
      'create',
      '--stats',
      '/srv/repo::archive-{now}',
      'path with spaces',
      '',
      'it\'s "quoted"',
      'back\\slash',
      'multi\nline',
      'ünïcödé 😀 日本',
      '$HOME',
      '*',
      '-',
      '--',
      '--tborg-quiet',
      '--help',
      '-x',
    ];
    const extra = { FOO: 'bar baz', UNICODE: 'ünï 😀', EMPTY: '', MULTI: 'a\nb', BORG_RSH: 'ssh -F "/x y/config"', BORG_REPO: '/r' };
    const directReport = reportFile();
    const viaReport = reportFile();
    const direct = await runBuffered([fakeBorg, ...args], { env: cleanEnv({ ...extra, FAKE_BORG_REPORT: directReport }) });
    const via = await tborg(args, cleanEnv({ ...extra, FAKE_BORG_REPORT: viaReport }));
    assert.equal(via.stderr.toString(), '');
    assert.equal(direct.code, 0, direct.stderr.toString());
    assert.equal(via.code, 0);
    const d = await readReport(directReport);
    const v = await readReport(viaReport);
    assert.deepEqual(userArgv(v.argv), args);
    assert.deepEqual(JSON.parse(via.stdout.toString()), v.argv);
    delete d.env.FAKE_BORG_REPORT;
    delete v.env.FAKE_BORG_REPORT;
    // One variable more: tborg's mark on the borg it starts (src/run/recursion-guard.ts), "PID DEPTH BORG".
    assert.match(v.env.TBORG_PARENT ?? '', new RegExp(`^${v.ppid} 1 ${fakeBorg}$`));
    delete v.env.TBORG_PARENT;
    assert.deepEqual(v.env, d.env);
    assert.equal(v.env.UNICODE, 'ünï 😀');
    assert.equal(v.env.EMPTY, '');
  });

  test("--tborg-* options are removed, everything after -- is borg's", async () => {
    const report = reportFile();
    const r = await tborg(
      ['--tborg-quiet', 'list', '--tborg-max-wait=5', 'repo', '--', '--tborg-quiet', '--tborg-nope'],
      cleanEnv({ FAKE_BORG_REPORT: report }),
    );
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(userArgv((await readReport(report)).argv), ['list', 'repo', '--', '--tborg-quiet', '--tborg-nope']);
  });

  test("with the user's own --lock-wait, borg's argv is exactly the user's", async () => {
    const report = reportFile();
    const args = ['--lock-wait', '7', 'create', '/srv/repo::a', 'path with spaces'];
    const r = await tborg(args, cleanEnv({ FAKE_BORG_REPORT: report }));
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual((await readReport(report)).argv, args);
  });

  for (const args of [['--help'], ['--version'], ['help', 'create'], ['serve', '--restrict-to-path', '/srv/repo'], ['-h'], ['-V']]) {
    test(`\`tborg ${args.join(' ')}\` is borg's`, async () => {
      const report = reportFile();
      const r = await tborg(args, cleanEnv({ FAKE_BORG_REPORT: report }));
      assert.equal(r.code, 0, r.stderr.toString());
      assert.equal(r.stderr.toString(), '');
      const bare = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
      assert.equal(r.stdout.toString(), bare ? 'borg 1.2.4\n' : `${JSON.stringify(args)}\n`);
      assert.deepEqual((await readReport(report)).argv, args);
    });
  }
});

describe('streams and exit codes', concurrent, () => {
  // Progress lines with \r, bytes that are not UTF-8, a NUL, and a prompt without a newline at the end.
  const stdoutBytes = Buffer.concat([
    Buffer.from('archive-1  Mon, 2024-01-01 00:00:00 [abc]\n'),
    Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]),
    Buffer.from('ünï\r\n'),
  ]);
  const stderrBytes = Buffer.concat([
    Buffer.from('  1.00 MB O 512 kB C 0 B D 3 N home/a\r  2.00 MB O 1.02 MB C 0 B D 9 N home/b\r'),
    Buffer.from([0xc3, 0x28, 0x0a]),
    Buffer.from('Warning: something\nEnter passphrase for key /root/.config/borg/keys/x: '),
  ]);
  // 73 (LockTimeout) from a command that opens a repository is what tborg retries (its lock-wait
  // feature), so here it comes from one that opens none.
  for (const [code, args] of [[0], [1], [2], [13], [130], [143], [255], [73, ['help', 'create']]] as Array<[number, string[]?]>) {
    test(`stdout and stderr byte for byte, exit code ${code}`, async () => {
      const r = await tborg(
        args ?? ['list', '/srv/repo'],
        cleanEnv({
          FAKE_BORG_MODE: 'streams',
          FAKE_BORG_EXIT: String(code),
          FAKE_BORG_STDOUT_B64: stdoutBytes.toString('base64'),
          FAKE_BORG_STDERR_B64: stderrBytes.toString('base64'),
        }),
      );
      assert.equal(r.code, code);
      assert.equal(r.signal, null);
      assert.deepEqual(r.stdout, stdoutBytes);
      assert.deepEqual(r.stderr, stderrBytes);
    });
  }

  // Pipe reads can end inside borg's lock message (lock-line-hold.ts). Split on purpose here: borg's
  // output before it passes, the message of a retried attempt is not shown, and an open line that only
  // began like it ("Fai") is passed on when borg ends.
  test('a lock message split across reads is still held back while tborg retries; output around it is intact', async () => {
    const counter = join(work, `counter-${++reports}`);
    const runs = [
      { stderr: ['Remote: hello\nFailed to create/acq', 'uire the lock /srv/repo/lock.exclusive (timeout).\n'], gapMs: 150, exit: 73 },
      {
        stderr: [
          '{"type": "log_',
          'message", "levelname": "ERROR", "message": "Failed to create/acquire the lock /srv/repo/lock.exclusive (timeout).", "msgid": "LockTimeout"}\n',
        ],
        gapMs: 150,
        exit: 73,
      },
      { stderr: ['second try works\nFai'], exit: 0 },
    ];
    const r = await tborg(
      ['--tborg-quiet', 'list', '/srv/repo'],
      cleanEnv({ FAKE_BORG_MODE: 'runs', FAKE_BORG_COUNTER: counter, FAKE_BORG_RUNS: JSON.stringify(runs) }),
    );
    const said = r.stderr.toString();
    assert.equal(r.code, 0, said);
    assert.equal(readFileSync(counter, 'utf8'), '3');
    assert.doesNotMatch(said, /Failed to create|acquire the lock|LockTimeout/, said);
    // borg's own bytes, in order, with tborg's timestamped lines between the attempts.
    const borgs = said
      .split('\n')
      .filter((l) => !/^\S+ tborg: /.test(l))
      .join('\n');
    assert.equal(borgs, 'Remote: hello\nsecond try works\nFai');
    assert.match(said, /tborg: .*attempt/);
  });

  // borg 1.4 with BORG_EXIT_CODES=modern (the default in borg 2) says what failed in its exit code
  // (helpers/errors.py, locking.py, remote.py exit_mcode). tborg reads the code as well as the
  // message, retries only a lock timeout (73) and a lost connection (80 ConnectionClosed, 87
  // ConnectionBrokenWithHint), and passes borg's own code through unchanged when it stops. 81 is
  // "Connection closed by remote host. Is borg working on the server?": before borg even started,
  // nothing to retry; 82-86 are RPC errors that another attempt would only repeat. Each row: borg's
  // stderr, its code, and how many times tborg runs borg (the fake answers the same every time).
  const MODERN: Array<[string, string, number, number]> = [
    ['LockTimeout, with its message', 'Failed to create/acquire the lock /srv/repo/lock.exclusive (timeout).\n', 73, 0],
    ['LockTimeout, no message (--log-json off, stderr elsewhere)', '', 73, 0],
    ['ConnectionClosed', 'Connection closed by remote host\n', 80, 2],
    [
      'ConnectionClosedWithHint: borg never started on the server',
      'Remote: ssh: connect to host h port 22: Connection refused\nConnection closed by remote host. Is borg working on the server?\n',
      81,
      1,
    ],
    ['InvalidRPCMethod', 'RPC method foo is not valid\n', 82, 1],
    ['PathNotAllowed', 'Repository path not allowed: /srv/repo\n', 83, 1],
    ['RPCServerOutdated', 'Borg server is too old for get_free_nonce. Required version 1.0.7\n', 84, 1],
    ['UnexpectedRPCDataFormatFromServer', 'Got unexpected RPC data format from server:\nxyz\n', 86, 1],
    ["ConnectionBrokenWithHint (borg 1.4's Broken Pipe)", 'Connection to remote host is broken. Broken Pipe\n', 87, 2],
    ['Repository.DoesNotExist', 'Repository ssh://h/srv/repo does not exist.\n', 13, 1],
    ['PassphraseWrong', 'Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.\n', 52, 1],
  ];
  for (const [name, stderr, code, runsExpected] of MODERN) {
    test(`modern exit code ${code} (${name}): ${runsExpected === 0 ? 'retried until the wait is spent' : runsExpected === 1 ? 'not retried' : 'retried once'}, and borg's ${code} is tborg's`, async () => {
      const counter = join(work, `counter-${++reports}`);
      const runs = [{ stderr: stderr === '' ? [] : [stderr], exit: code }];
      const r = await tborg(
        // compact: a command whose lost connection may be retried (connection-retry.ts); list may not.
        ['--tborg-max-wait', '5', '--tborg-connection-retries', '1', '--tborg-server-alive', '1x1', 'compact', 'ssh://h/srv/repo'],
        // No connect wait: 81's "connect to host ... refused" is retried under cron for up to 15 minutes
        // (connect-wait.ts, test/e2e/monitor-e2e.test.ts); this table is about the exit codes.
        cleanEnv({
          BORG_EXIT_CODES: 'modern',
          TBORG_CONNECT_WAIT: '0',
          FAKE_BORG_MODE: 'runs',
          FAKE_BORG_COUNTER: counter,
          FAKE_BORG_RUNS: JSON.stringify(runs),
        }),
      );
      const said = r.stderr.toString();
      assert.equal(r.code, code, said);
      const ran = Number(readFileSync(counter, 'utf8'));
      if (runsExpected === 0) {
        assert.ok(ran >= 2, `ran ${ran} times: ${said}`);
        assert.match(said, /tborg: gave up after waiting/);
      } else {
        assert.equal(ran, runsExpected, said);
      }
      if (runsExpected === 2) assert.match(said, /tborg: the connection to h was lost; retrying \(1 of 1\)/);
      // borg's own words reach the user once per attempt that was not a held-back lock timeout.
      if (stderr !== '') assert.equal(said.split(stderr.split('\n')[0]!).length - 1, runsExpected === 0 ? 1 : ran, said);
    });
  }

  for (const [signal, code] of [
    ['SIGKILL', 137],
    ['SIGTERM', 143],
    ['SIGSEGV', 139],
  ] as const) {
    test(`borg killed by ${signal}: tborg dies of ${signal} too (a shell sees ${code})`, async () => {
      const r = await tborg(['list', 'repo'], cleanEnv({ FAKE_BORG_MODE: 'streams', FAKE_BORG_KILL: signal }));
      assert.equal(r.signal, signal, `tborg ends by borg's signal, not exit code ${r.code}`);
      const viaShell = await runBuffered(['sh', '-c', `'${process.execPath}' '${TBORG}' list repo; echo "rc=$?"`], {
        env: cleanEnv({ FAKE_BORG_MODE: 'streams', FAKE_BORG_KILL: signal }),
      });
      assert.match(viaShell.stdout.toString(), new RegExp(`rc=${code}\n`));
    });
  }

  // Plain borg's last bytes wait in the pipe for a slow reader after borg died of a signal; through
  // tborg they wait in tborg's memory (src/cli/terminal.ts queues what the reader has not taken), so
  // tborg must hand them over before it dies of the same signal (src/run/exit-signal.ts).
  test("borg's last stderr bytes reach a reader that lags, when borg dies of a signal", async (t) => {
    // 90 KiB: more than the pipe to the reader holds (64 KiB), so tborg still holds some when borg dies.
    const data = Buffer.from(Array.from({ length: 90 * 1024 }, (_, i) => (i % 64 === 63 ? 10 : 97 + (i % 26))));
    const report = reportFile();
    const go = join(work, `go-${reports}`);
    const env = cleanEnv({
      FAKE_BORG_MODE: 'streams',
      FAKE_BORG_STDERR_B64: data.toString('base64'),
      FAKE_BORG_KILL: 'SIGTERM',
      FAKE_BORG_REPORT: report,
    });
    // A real pipe (node's 'pipe' is a socket pair with a larger buffer), read only once borg is gone.
    const script =
      'set -o pipefail; "$0" "$1" list repo 2>&1 >/dev/null | { while [ ! -e "$2" ]; do sleep 0.05; done; cat; }; echo "rc=${PIPESTATUS[0]}" >&2';
    const child = spawn('bash', ['-c', script, process.execPath, TBORG, go], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const closed = new Promise((resolve) => child.once('close', resolve));
    const borgPid = await waitFor(
      'the fake borg to start',
      () => {
        if (!existsSync(report)) return undefined;
        const runs = readFileSync(report, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Report);
        return runs.find((r) => r.argv.includes('list'))?.pid;
      },
      15_000,
    );
    await waitFor('the fake borg to die of SIGTERM', () => !isRunning(borgPid), 15_000);
    // The moment a tborg that does not wait would need to die with the bytes it holds.
    await sleep(1000);
    await writeFile(go, '');
    await closed;
    const got = Buffer.concat(out);
    assert.equal(got.length, data.length, `bytes that reached the reader (${err.trim()})`);
    assert.ok(got.equals(data));
    assert.match(err, /rc=143$/m, "tborg still dies of borg's signal");
  });

  test('stdin passes to borg', async () => {
    const input = Buffer.concat([Buffer.from('line one\nline two\r\n'), Buffer.from([0, 1, 2, 0xff]), Buffer.alloc(256 * 1024, 'x')]);
    const r = await tborg(['create', 'repo::a', '-'], cleanEnv({ FAKE_BORG_MODE: 'stdin' }), input);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(r.stdout, input);
  });

  test('stdin and stdout are inherited: borg gets the very same files, not copies', async (t) => {
    const inFile = join(work, 'stdin.txt');
    const outFile = join(work, 'stdout.txt');
    await writeFile(inFile, 'data\n');
    await writeFile(outFile, '');
    const inFd = openSync(inFile, 'r');
    const outFd = openSync(outFile, 'a');
    try {
      const report = reportFile();
      const running = startTborg(t, ['list', 'repo'], cleanEnv({ FAKE_BORG_REPORT: report }), { stdio: [inFd, outFd, 'pipe'] });
      const r = await running.done;
      assert.equal(r.code, 0, r.stderr.toString());
      const rep = await readReport(report);
      const inStat = fstatSync(inFd);
      const outStat = fstatSync(outFd);
      assert.deepEqual(rep.stdin, { dev: inStat.dev, ino: inStat.ino, file: true, fifo: false, socket: false });
      assert.deepEqual(rep.stdout, { dev: outStat.dev, ino: outStat.ino, file: true, fifo: false, socket: false });
      assert.deepEqual(userArgv(JSON.parse(readFileSync(outFile, 'utf8')) as string[]), ['list', 'repo']);
    } finally {
      closeSync(inFd);
      closeSync(outFd);
    }
  });

  test('a prompt without a newline reaches the user before borg reads the answer', async (t) => {
    const prompt = 'Enter passphrase for key ssh://lab/repo: ';
    const running = startTborg(t, ['list', 'repo'], cleanEnv({ FAKE_BORG_MODE: 'prompt', FAKE_BORG_PROMPT: prompt }));
    // If tborg held back a partial line, this would time out: borg waits for an answer to a prompt
    // the user never saw.
    await running.waitForStderr(prompt, 10_000);
    running.child.stdin!.end('hunter2\n');
    const r = await running.done;
    assert.equal(r.code, 0);
    assert.equal(r.stderr.toString(), prompt);
    assert.equal(r.stdout.toString(), 'answer: hunter2\n');
  });
});

describe('a big stream', () => {
  test('200 MiB on stdout and on stderr pass through intact; a stalled reader slows borg down, tborg stays small', {
    timeout: 90_000,
  }, async () => {
    const report = reportFile();
    const env = cleanEnv({ FAKE_BORG_MODE: 'big', FAKE_BORG_MB: '200', FAKE_BORG_REPORT: report });
    const child = spawn(process.execPath, [TBORG, 'create', '--list', 'repo::a', '/home'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const hashes = { stdout: createHash('sha256'), stderr: createHash('sha256') };
    const sizes = { stdout: 0, stderr: 0 };
    child.stdout.on('data', (b: Buffer) => {
      hashes.stdout.update(b);
      sizes.stdout += b.length;
    });
    // The reader of stderr stalls for 1.5 s (a terminal scrolled back, a pipe to a slow logger):
    // tborg must slow borg down rather than hold what the reader has not taken yet. borg (the fake)
    // writes each block to stdout and then to stderr, so the stdout that arrives during the stall
    // shows how far borg got meanwhile.
    let stalled: Promise<number> | undefined;
    child.stderr.on('data', (b: Buffer) => {
      hashes.stderr.update(b);
      sizes.stderr += b.length;
      if (stalled) return;
      child.stderr.pause();
      stalled = new Promise((resolve) =>
        setTimeout(() => {
          resolve(sizes.stdout);
          child.stderr.resume();
        }, 1500),
      );
    });
    const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
    assert.equal(code, 0);
    const big = JSON.parse(await readFile(`${report}.big.json`, 'utf8')) as {
      stdout: string;
      stderr: string;
      bytes: number;
      parentPeakKiB: number;
    };
    const rep = await readReport(report);
    assert.equal(rep.ppid, child.pid, "the fake borg's parent is tborg, so the peak it read is tborg's");
    assert.ok(big.bytes > 200 * 1000 * 1000);
    assert.equal(sizes.stdout, big.bytes);
    assert.equal(sizes.stderr, big.bytes);
    assert.equal(hashes.stdout.digest('hex'), big.stdout);
    assert.equal(hashes.stderr.digest('hex'), big.stderr);
    assert.ok(big.parentPeakKiB > 0 && big.parentPeakKiB < 150 * 1024, `tborg peak RSS ${big.parentPeakKiB} KiB`);
    const aheadDuringStall = (await stalled!) / (1 << 20);
    assert.ok(aheadDuringStall < 8, `borg wrote ${aheadDuringStall.toFixed(1)} MiB while nobody read tborg's stderr`);
  });
});

describe('signals', concurrent, () => {
  async function assertGone(report: string): Promise<void> {
    const rep = await readReport(report);
    const childPid = Number(await readFile(`${report}.child`, 'utf8'));
    // borg's own child (ssh, in real life) ends after borg, when its stdin closes.
    await waitFor('borg and its child to be gone', () => !isRunning(rep.pid) && !isRunning(childPid), 5_000);
  }

  for (const [signal, code] of [
    ['SIGTERM', 77],
    ['SIGHUP', 78],
    ['SIGINT', 79],
  ] as const) {
    test(`${signal} to tborg reaches borg once; tborg waits for borg's clean-up and exits with borg's code`, async (t) => {
      const report = reportFile();
      const running = startTborg(
        t,
        ['create', 'repo::a', '/home'],
        cleanEnv({ FAKE_BORG_MODE: 'trap', FAKE_BORG_REPORT: report, FAKE_BORG_CLEANUP_MS: '300' }),
      );
      await running.waitForStderr('fake-borg: ready\n');
      const rep = await readReport(report);
      assert.notEqual(rep.pgrp, process.pid, 'outside a terminal borg runs in a process group of its own');
      running.child.kill(signal);
      const r = await running.done;
      assert.equal(r.code, code, r.stderr.toString());
      assert.equal(r.stderr.toString(), `fake-borg: ready\nfake-borg: got ${signal}\nfake-borg: child alive\nfake-borg: cleaned up\n`);
      await assertGone(report);
    });
  }

  test("SIGTERM to tborg's whole process group (a service manager, a killed shell) reaches borg exactly once", async (t) => {
    const report = reportFile();
    const running = startTborg(
      t,
      ['create', 'repo::a', '/home'],
      cleanEnv({ FAKE_BORG_MODE: 'trap', FAKE_BORG_REPORT: report, FAKE_BORG_CLEANUP_MS: '300' }),
      { detached: true },
    );
    await running.waitForStderr('fake-borg: ready\n');
    process.kill(-running.child.pid!, 'SIGTERM');
    const r = await running.done;
    assert.equal(r.code, 77, r.stderr.toString());
    assert.equal(r.stderr.toString(), 'fake-borg: ready\nfake-borg: got SIGTERM\nfake-borg: child alive\nfake-borg: cleaned up\n');
    await assertGone(report);
  });
});

describe('which borg runs', concurrent, () => {
  test('a `borg -> tborg` symlink first on PATH still reaches the real borg further down PATH', async () => {
    const report = reportFile();
    // Run it the way a user does: by the name `borg`, found on PATH.
    const env = cleanEnv({ PATH: `${linkDir}:${fakeDir}:${NODE_DIR}`, FAKE_BORG_REPORT: report, FAKE_BORG_EXIT: '1' });
    // The shell by its path: PATH holds only the link, the fake borg and node's directory, which is
    // /usr/bin for Debian's node but not for a node in /usr/local/bin.
    const r = await runBuffered(['/bin/sh', '-c', 'exec borg list "$@"', 'sh', 'repo'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr.toString());
    assert.deepEqual(userArgv(JSON.parse(r.stdout.toString()) as string[]), ['list', 'repo']);
    assert.deepEqual(userArgv((await readReport(report)).argv), ['list', 'repo']);
  });

  for (const [name, target] of [
    ['TBORG_BORG', () => TBORG],
    ['TBORG_BORG (through a symlink)', () => join(linkDir, 'borg')],
  ] as const) {
    test(`${name} pointing at tborg itself is an error, not a loop`, async () => {
      const report = reportFile();
      const r = await tborg(['list', 'repo'], cleanEnv({ TBORG_BORG: target(), FAKE_BORG_REPORT: report }));
      assert.equal(r.code, 2);
      assert.equal(lines(r.stderr).length, 1, r.stderr.toString());
      assert.match(r.stderr.toString(), /tborg itself/);
      assert.equal(existsSync(report), false);
    });
  }

  test('TBORG_BORG picks the borg to run', async () => {
    const report = reportFile();
    const r = await tborg(['info', 'repo'], cleanEnv({ PATH: '/nonexistent', TBORG_BORG: fakeBorg, FAKE_BORG_REPORT: report }));
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(userArgv((await readReport(report)).argv), ['info', 'repo']);
  });

  test('no borg at all: exit 2 and one line saying how to install it', async () => {
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const r = await tborg(['list', 'repo'], cleanEnv({ PATH: empty }));
    assert.equal(r.code, 2);
    assert.equal(r.stdout.length, 0);
    assert.equal(lines(r.stderr).length, 1, r.stderr.toString());
    assert.match(r.stderr.toString(), /apt-get install borgbackup/);
  });

  test('an unknown --tborg- option: exit 2, one line, borg not run', async () => {
    const report = reportFile();
    const r = await tborg(['list', '--tborg-x', 'repo'], cleanEnv({ FAKE_BORG_REPORT: report }));
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1, r.stderr.toString());
    assert.match(r.stderr.toString(), /--tborg-x/);
    assert.equal(existsSync(report), false, 'borg must not run');
  });
});
