import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../lab/processes.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// README "Signals" and "What is retried", the hand-over to borg (src/run/exec-shim.ts, src/run/borg-process.ts), against a fake borg in Python
// (fixtures/report-borg.py) that reports the bytes of its argv and environment, its descriptors, its
// signal dispositions and its process group: each compared with the same fake run without tborg.
// Also: 2>&1 keeps the order of borg's stdout and stderr, and a wrapper script named borg that runs
// tborg answers instead of starting tborg without end (src/run/recursion-guard.ts).

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');
const NODE_DIR = dirname(process.execPath);
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

let work = '';
let fakeDir = '';
let fakeBorg = '';
let reports = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tborg-shim-test-'));
  fakeDir = join(work, 'fake');
  await mkdir(fakeDir);
  fakeBorg = join(fakeDir, 'borg');
  // A copy, not a symlink: tborg never runs a file inside its own package.
  const source = await readFile(join(ROOT, 'fixtures', 'report-borg.py'), 'utf8');
  await writeFile(fakeBorg, source.replace(/^#!.*/, `#!${PYTHON === 'python3' ? '/usr/bin/env python3' : PYTHON}`));
  await chmod(fakeBorg, 0o755);
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Report {
  argv: string[];
  environ: string[];
  fds: Record<string, { target: string; first: string | null }>;
  sigIgn: string;
  sigBlk: string;
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
}

function reportFile(): string {
  return join(work, `report-${++reports}.json`);
}

async function readReports(file: string): Promise<Report[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Report);
}

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...inheritedEnv(['REPORT_BORG_']),
    PATH: `${fakeDir}:${NODE_DIR}:${process.env.PATH ?? ''}`,
    XDG_CACHE_HOME: join(work, 'cache'),
    ...extra,
  };
}

// tborg's own `--lock-wait N` goes first when borg opens a repository; the user's words follow.
function userArgv(hex: readonly string[]): string[] {
  const words = hex.map((h) => Buffer.from(h, 'hex').toString('latin1'));
  return words[0] === '--lock-wait' ? words.slice(2) : words;
}

// NAME=VALUE entries as latin1 strings (bytes 1:1), without tborg's own mark.
function environ(report: Report): string[] {
  return report.environ
    .map((h) => Buffer.from(h, 'hex').toString('latin1'))
    .filter((e) => !e.startsWith('TBORG_PARENT=') && !e.startsWith('REPORT_BORG_FILE='))
    .sort();
}

function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdio: StdioOptions = ['pipe', 'pipe', 'pipe'],
  detached = false,
): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env, stdio, detached });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

const concurrent = { concurrency: 4 };

describe('borg gets exactly what tborg was started with', concurrent, () => {
  test('every inherited descriptor, 3 to 30 and 40, at its own number', async () => {
    const fds: number[] = [];
    const stdio: Array<'pipe' | 'ignore' | number> = ['pipe', 'pipe', 'pipe'];
    const wanted = [...Array.from({ length: 28 }, (_, i) => i + 3), 40];
    for (const n of wanted) {
      const file = join(work, `fd-${n}.txt`);
      await writeFile(file, `exclude-${n}\n`);
      const fd = openSync(file, 'r');
      fds.push(fd);
      while (stdio.length < n) stdio.push('ignore');
      stdio[n] = fd;
    }
    try {
      const directFile = reportFile();
      const viaFile = reportFile();
      const direct = await run([fakeBorg, 'create', 'repo::a', 'x'], cleanEnv({ REPORT_BORG_FILE: directFile }), stdio);
      const via = await run([process.execPath, TBORG, 'create', 'repo::a', 'x'], cleanEnv({ REPORT_BORG_FILE: viaFile }), stdio);
      assert.equal(direct.code, 0, direct.stderr.toString());
      assert.equal(via.code, 0, via.stderr.toString());
      const [d] = await readReports(directFile);
      const [v] = await readReports(viaFile);
      // (The test runner's own non-close-on-exec descriptors may come along: in both runs alike.)
      for (const n of wanted) assert.ok(d!.fds[String(n)], `the fake itself sees ${n}`);
      assert.deepEqual(v!.fds, d!.fds);
      assert.equal(v!.fds['3']!.first, 'exclude-3');
      assert.equal(v!.fds['40']!.first, 'exclude-40');
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  test('argv and environment bytes that are not UTF-8', async () => {
    // sh passes bytes through: `exec env FOO=a\xffb PROGRAM ... x\xffy`.
    const script = join(work, 'raw.sh');
    await writeFile(
      script,
      `FOO="$(printf 'a\\377b')" BAR="$(printf '\\303\\251t\\351')" exec "$@" list "$(printf 'repo::x\\377y')" "$(printf 'dir/bad\\376\\377name')" "$(printf 'ok\\342\\202')"\n`,
    );
    const directFile = reportFile();
    const viaFile = reportFile();
    const direct = await run(['sh', script, fakeBorg], cleanEnv({ REPORT_BORG_FILE: directFile }));
    const via = await run(['sh', script, process.execPath, TBORG], cleanEnv({ REPORT_BORG_FILE: viaFile }));
    assert.equal(direct.code, 0, direct.stderr.toString());
    assert.equal(via.code, 0, via.stderr.toString());
    const [d] = await readReports(directFile);
    const [v] = await readReports(viaFile);
    assert.deepEqual(userArgv(v!.argv), userArgv(d!.argv));
    assert.deepEqual(userArgv(v!.argv), ['list', 'repo::x\xffy', 'dir/bad\xfe\xffname', 'ok\xe2\x82']);
    assert.deepEqual(environ(v!), environ(d!));
    assert.ok(environ(v!).includes('FOO=a\xffb'));
    assert.ok(environ(v!).includes('BAR=\xc3\xa9t\xe9'));
  });

  test("the signal dispositions and mask tborg was started with (nohup, a shell's &)", async () => {
    for (const trap of ['', "trap '' HUP INT QUIT USR2; "]) {
      const directFile = reportFile();
      const viaFile = reportFile();
      // bin/tborg.js run as a program (its sh line reads the dispositions); not `node bin/tborg.js`.
      await run(['sh', '-c', `${trap}exec "$0" list repo`, fakeBorg], cleanEnv({ REPORT_BORG_FILE: directFile }));
      const via = await run(['sh', '-c', `${trap}exec "$0" list repo`, TBORG], cleanEnv({ REPORT_BORG_FILE: viaFile }));
      assert.equal(via.code, 0, via.stderr.toString());
      const [d] = await readReports(directFile);
      const [v] = await readReports(viaFile);
      // Python (the fake) ignores SIGPIPE and SIGXFSZ itself, like borg: the rest is what it inherited.
      assert.equal(v!.sigIgn, d!.sigIgn, `SigIgn with "${trap}"`);
      assert.equal(v!.sigBlk, d!.sigBlk);
      if (trap) assert.equal(BigInt(`0x${v!.sigIgn}`) & 0x807n, 0x807n, 'HUP, INT, QUIT and USR2 stay ignored');
    }
  });

  test('without a terminal borg gets a process group of its own, not a session', async () => {
    const file = reportFile();
    // detached: tborg in a new session without a controlling terminal, as under cron.
    const via = await run([process.execPath, TBORG, 'list', 'repo'], cleanEnv({ REPORT_BORG_FILE: file }), ['pipe', 'pipe', 'pipe'], true);
    assert.equal(via.code, 0, via.stderr.toString());
    const [v] = await readReports(file);
    assert.equal(v!.pgid, v!.pid, 'borg leads its own process group');
    assert.notEqual(v!.sid, v!.pid, "but stays in tborg's session");
    assert.equal(v!.sid, v!.ppid, 'tborg (the session leader here) is its parent');
  });
});

describe("2>&1: borg's stdout and stderr keep their order", concurrent, () => {
  const expected = 'out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\n';

  for (const [what, redirect] of [
    ['into one file', '> "$LOG" 2>&1'],
    ['into one pipe', '2>&1 | cat > "$LOG"'],
  ] as const) {
    test(what, async () => {
      const direct = join(work, `direct-${++reports}.log`);
      const via = join(work, `via-${++reports}.log`);
      await run(['sh', '-c', `"$0" list repo ${redirect}`, fakeBorg], cleanEnv({ REPORT_BORG_MODE: 'alternate', LOG: direct }));
      await run(
        ['sh', '-c', `"$0" "$1" list repo ${redirect}`, process.execPath, TBORG],
        cleanEnv({ REPORT_BORG_MODE: 'alternate', LOG: via }),
      );
      assert.equal(readFileSync(direct, 'utf8'), expected, 'the fake itself');
      assert.equal(readFileSync(via, 'utf8'), expected);
    });
  }

  test('a retried lock timeout is still held back', async () => {
    const log = join(work, `retry-${++reports}.log`);
    const counter = join(work, `counter-${reports}`);
    const r = await run(
      ['sh', '-c', `"$0" "$1" --tborg-quiet list /srv/repo > "$LOG" 2>&1`, process.execPath, TBORG],
      cleanEnv({ REPORT_BORG_MODE: 'lock-then-alternate', REPORT_BORG_COUNTER: counter, LOG: log }),
    );
    assert.equal(r.code, 0);
    const text = readFileSync(log, 'utf8');
    assert.equal(readFileSync(counter, 'utf8'), '2');
    assert.doesNotMatch(text, /Failed to create/);
    assert.equal(
      text
        .split('\n')
        .filter((l) => !/ tborg: /.test(l))
        .join('\n'),
      expected.slice(0, -1) + '\n',
    );
  });
});

describe('a wrapper script named borg that runs tborg', concurrent, () => {
  let wrapDir = '';
  let execWrapper = '';
  let plainWrapper = '';
  before(async () => {
    wrapDir = join(work, 'wrap');
    await mkdir(wrapDir);
    execWrapper = join(wrapDir, 'borg');
    plainWrapper = join(wrapDir, 'borg-no-exec');
    await writeFile(execWrapper, `#!/bin/sh\nexec '${TBORG}' "$@"\n`);
    await writeFile(plainWrapper, `#!/bin/sh\n'${TBORG}' "$@"\n`);
    await chmod(execWrapper, 0o755);
    await chmod(plainWrapper, 0o755);
  });

  test('first on PATH: tborg runs the real borg behind it, once', async () => {
    const file = reportFile();
    const env = cleanEnv({ REPORT_BORG_FILE: file });
    env.PATH = `${wrapDir}:${env.PATH}`;
    const r = await run([execWrapper, 'list', 'repo'], env);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stderr.toString(), '');
    const runs = await readReports(file);
    assert.equal(runs.length, 1, 'borg ran once');
    assert.deepEqual(userArgv(runs[0]!.argv), ['list', 'repo']);
  });

  for (const which of ['exec', 'no-exec'] as const) {
    test(`TBORG_BORG naming it (${which} wrapper), and no other borg: one clear error`, async () => {
      const wrapper = which === 'exec' ? execWrapper : plainWrapper;
      // Only node on PATH: no borg anywhere but the wrapper.
      const onlyNode = join(work, `only-node-${which}`);
      await mkdir(onlyNode);
      await symlink(process.execPath, join(onlyNode, 'node'));
      const env = cleanEnv({ TBORG_BORG: wrapper, PATH: onlyNode });
      const r = await run([process.execPath, TBORG, 'list', 'repo'], env);
      assert.equal(r.code, 2);
      const lines = r.stderr.toString().split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr.toString());
      assert.match(lines[0]!, new RegExp(`^tborg: ${wrapper} starts tborg again .*TBORG_BORG`));
    });
  }

  test('TBORG_BORG naming it, a real borg on PATH: that borg answers', async () => {
    const file = reportFile();
    const r = await run([process.execPath, TBORG, '--version'], cleanEnv({ TBORG_BORG: plainWrapper, REPORT_BORG_FILE: file }));
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'borg 1.2.4\n');
  });

  test('a tborg that borg itself runs (borg with-lock REPO tborg ...) is a tborg of its own', async () => {
    const file = reportFile();
    const r = await run(
      [process.execPath, TBORG, 'with-lock', '/srv/repo', process.execPath, TBORG, 'list', '/srv/repo'],
      cleanEnv({ REPORT_BORG_FILE: file, REPORT_BORG_MODE: 'with-lock' }),
    );
    assert.equal(r.code, 0, r.stderr.toString());
    const runs = await readReports(file);
    assert.equal(runs.length, 2);
    const inner = runs.find((x) => userArgv(x.argv)[0] === 'list')!;
    // The inner tborg planned its run (its own --lock-wait) and marked its borg one level deeper.
    assert.equal(Buffer.from(inner.argv[0]!, 'hex').toString(), '--lock-wait');
    const mark = inner.environ.map((h) => Buffer.from(h, 'hex').toString()).find((e) => e.startsWith('TBORG_PARENT='));
    assert.match(mark ?? '', /^TBORG_PARENT=\d+ 2 /);
  });
});
