import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { encodeShimSpec, planStdio, SHIM_CODE } from '../../src/run/exec-shim.js';
import { recordBorgEnd, signalToDieOf } from '../../src/run/exit-signal.js';
import { parseClosedStdio, parseStartSignals, selectInherited } from '../../src/run/process-start.js';
import { encodeArgv, encodeEnv, type RawArgs } from '../../src/run/raw-bytes.js';
import { parseMarker } from '../../src/process/child-marker.js';
import { MAX_DEPTH, startedAsBorg } from '../../src/run/recursion-guard.js';

// Tables for the pure parts of the hand-over to borg (README "Signals"). The CLI and real-borg behaviour is in
// test/cli/exec-shim-cli.test.ts and test/e2e/exec-shim-e2e.test.ts.

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
// What node makes of raw bytes: UTF-8 decoding with U+FFFD.
const decode = (b: Buffer): string => b.toString('utf8');

describe("selectInherited: inherited descriptors vs node's own", () => {
  const O_RDONLY = 0;
  const O_WRONLY = 1;
  const CLOEXEC = 0o2000000;
  const NONBLOCK = 0o4000;
  const rows: Array<[string, Array<{ fd: number; target: string; flags: number }>, Array<{ fd: number; closeOnExec: boolean }>]> = [
    [
      "nothing inherited: node's epoll, eventfd and self-pipes only",
      [
        { fd: 4, target: 'anon_inode:[eventpoll]', flags: CLOEXEC },
        { fd: 5, target: 'pipe:[100]', flags: O_RDONLY | CLOEXEC | NONBLOCK },
        { fd: 6, target: 'pipe:[100]', flags: O_WRONLY | CLOEXEC | NONBLOCK },
        { fd: 11, target: 'anon_inode:[eventfd]', flags: CLOEXEC },
      ],
      [],
    ],
    [
      'a file at 3, a pipe end at 7, a socket at 40 without close-on-exec',
      [
        { fd: 3, target: '/etc/hostname', flags: O_RDONLY | CLOEXEC },
        { fd: 4, target: 'anon_inode:[eventpoll]', flags: CLOEXEC },
        { fd: 7, target: 'pipe:[200]', flags: O_RDONLY | CLOEXEC },
        { fd: 40, target: 'socket:[300]', flags: 2 },
      ],
      [
        { fd: 3, closeOnExec: true },
        { fd: 7, closeOnExec: true },
        { fd: 40, closeOnExec: false },
      ],
    ],
    [
      'the same pipe end twice (3>&1 on a pipe) is inherited',
      [
        { fd: 3, target: 'pipe:[400]', flags: O_WRONLY | CLOEXEC },
        { fd: 9, target: 'pipe:[400]', flags: O_WRONLY | CLOEXEC },
      ],
      [
        { fd: 3, closeOnExec: true },
        { fd: 9, closeOnExec: true },
      ],
    ],
    [
      'stdio is never listed',
      [
        { fd: 0, target: '/dev/null', flags: 0 },
        { fd: 2, target: '/dev/pts/1', flags: 2 },
      ],
      [],
    ],
  ];
  for (const [what, facts, expected] of rows) {
    test(what, () => assert.deepEqual(selectInherited(facts), expected));
  }
});

describe("encodeArgv: the user's bytes for the words that came from the user", () => {
  const userRaw = [latin1('create'), latin1('R::x\xffy'), latin1('--tborg-quiet'), latin1('dir/bad\xfe\xffname'), latin1('\xff')];
  const user: RawArgs = { raw: userRaw, decoded: userRaw.map(decode) };
  const rows: Array<[string, string[], Buffer[]]> = [
    [
      "tborg's --lock-wait first, --tborg-quiet removed",
      ['--lock-wait', '10', ...[0, 1, 3].map((i) => decode(userRaw[i]!))],
      [latin1('--lock-wait'), latin1('10'), userRaw[0]!, userRaw[1]!, userRaw[3]!],
    ],
    ['UTF-8 words are their own encoding', ['ünï', 'create'], [Buffer.from('ünï'), latin1('create')]],
    ['a word with U+FFFD that no user word decodes to: UTF-8', ['zz\uFFFD'], [Buffer.from('zz\uFFFD')]],
    [
      "two words with the same decoding take the user's in order",
      [decode(latin1('\xff')), decode(userRaw[1]!)],
      [userRaw[4]!, Buffer.from(decode(userRaw[1]!))],
    ],
  ];
  for (const [what, argv, expected] of rows) {
    test(what, () => assert.deepEqual(encodeArgv(argv, user), expected));
  }
  test('without the raw arguments: UTF-8 of the strings', () => {
    assert.deepEqual(encodeArgv(['a\uFFFD'], undefined), [Buffer.from('a\uFFFD')]);
  });
});

describe('encodeEnv: unchanged variables keep their bytes', () => {
  const original = [latin1('FOO=a\xffb'), latin1('PLAIN=x'), latin1('BORG_RSH=ssh \xff')];
  const env = Object.fromEntries(original.map((e) => decode(e).split(/=(.*)/s).slice(0, 2)));
  test('a variable tborg passes on unchanged', () => {
    assert.deepEqual(encodeEnv({ FOO: env.FOO, PLAIN: 'x' }, original), [original[0]!, latin1('PLAIN=x')]);
  });
  test("a variable tborg changed (BORG_RSH with keepalive options) is tborg's string", () => {
    const changed = `${env.BORG_RSH} -o ServerAliveInterval=10`;
    assert.deepEqual(encodeEnv({ BORG_RSH: changed }, original), [Buffer.from(`BORG_RSH=${changed}`)]);
  });
  test('undefined values are left out', () => {
    assert.deepEqual(encodeEnv({ A: undefined, B: '1' }, original), [latin1('B=1')]);
  });
});

describe('planStdio', () => {
  test('stdio, inherited close-on-exec descriptors at their numbers, the spec pipe at the lowest free one', () => {
    const plan = planStdio({
      inherited: [
        { fd: 3, closeOnExec: true },
        { fd: 5, closeOnExec: true },
        { fd: 4, closeOnExec: false },
      ],
      merge: false,
      shim: true,
    });
    assert.deepEqual(plan.stdio, ['inherit', 'inherit', 'pipe', 3, 'ignore', 5, 'pipe']);
    assert.equal(plan.specFd, 6);
  });
  test("2>&1: one pipe at 1, 2 left to the shim's dup2; no shim, no spec pipe", () => {
    assert.deepEqual(planStdio({ inherited: [], merge: true, shim: true }), { stdio: ['inherit', 'pipe', 'ignore', 'pipe'], specFd: 3 });
    assert.deepEqual(planStdio({ inherited: [{ fd: 3, closeOnExec: true }], merge: false, shim: false }), {
      stdio: ['inherit', 'inherit', 'pipe', 3],
      specFd: undefined,
    });
  });
});

const PY = '/usr/bin/python3';

describe('the shim itself (python3)', { skip: spawnSync(PY, ['-c', '0']).status === 0 ? false : `no ${PY}` }, () => {
  test("execs the spec's program with raw argv and environment, in a new process group, mask and dispositions set", () => {
    // The program is python too (sh would reset the mask at start-up): it prints what it got.
    const report = [
      'import os, sys',
      'st = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)',
      'os.write(1, sys.argv[1].encode("utf8", "surrogateescape") + b"|" + os.environb[b"FOO"] + b"\\n")',
      'print(st["SigIgn"].strip(), st["SigBlk"].strip(), os.getpgid(0) == os.getpid())',
    ].join('\n');
    const spec = (parentPid: number): Buffer =>
      encodeShimSpec({
        path: PY,
        argv: [latin1('python3'), latin1('-I'), latin1('-S'), latin1('-c'), latin1(report), latin1('x\xffy')],
        env: [latin1('FOO=a\xffb')],
        deathSignal: 15,
        parentPid,
        newProcessGroup: true,
        mergeStderrIntoStdout: false,
        startSignals: { ignored: 0x1n, blocked: 0x200n },
      });
    const refused = spawnSync(PY, ['-I', '-S', '-c', SHIM_CODE, '0'], { input: spec(1) });
    assert.equal(refused.status, 128 + 15, 'no borg when the parent is not the one named (tborg died already)');
    const r = spawnSync(PY, ['-I', '-S', '-c', SHIM_CODE, '0'], { input: spec(process.pid) });
    assert.equal(r.status, 0, r.stderr.toString());
    const [bytes, facts] = r.stdout.toString('latin1').split('\n');
    assert.equal(bytes, 'x\xffy|a\xffb', 'argv and environment bytes');
    // SIGHUP as the spec says; SIGPIPE and SIGXFSZ the reporting python ignores itself.
    assert.equal(facts, '0000000001001001 0000000000000200 True');
  });
  test('a failed exec: one line and 127', () => {
    const spec = encodeShimSpec({
      path: '/nonexistent/borg',
      argv: [latin1('borg')],
      env: [],
      deathSignal: 0,
      parentPid: process.pid,
      newProcessGroup: false,
      mergeStderrIntoStdout: false,
      startSignals: undefined,
    });
    const r = spawnSync(PY, ['-I', '-S', '-c', SHIM_CODE, '0'], { input: spec });
    assert.equal(r.status, 127);
    assert.match(r.stderr.toString(), /^tborg: cannot run \/nonexistent\/borg: No such file or directory\n$/);
  });
});

describe("start-up signals from bin/tborg.js's sh line", () => {
  const rows: Array<[string | undefined, ReturnType<typeof parseStartSignals>]> = [
    ['0000000000000001 0000000000000000', { ignored: 1n, blocked: 0n }],
    ['0000000001001003 0000000000000200', { ignored: 0x1001003n, blocked: 0x200n }],
    [' ', undefined], // /proc unreadable: both empty
    [undefined, undefined],
    ['zz 00', undefined],
  ];
  for (const [value, expected] of rows) test(JSON.stringify(value), () => assert.deepEqual(parseStartSignals(value), expected));
  test('the closed ones of stdin, stdout and stderr: the third word', () => {
    assert.deepEqual(parseStartSignals('0000000000000001 0000000000000000 1'), { ignored: 1n, blocked: 0n });
    assert.deepEqual(parseClosedStdio('0000000000000000 0000000000000000 '), []);
    assert.deepEqual(parseClosedStdio('0000000000000000 0000000000000000 1'), [1]);
    assert.deepEqual(parseClosedStdio('0000000000000000 0000000000000000 012'), [0, 1, 2]);
    // Unknown (no /proc, `node bin/tborg.js`, an odd word): nothing is closed for borg.
    assert.deepEqual(parseClosedStdio('  '), []);
    assert.deepEqual(parseClosedStdio(undefined), []);
    assert.deepEqual(parseClosedStdio('0 0 3'), []);
  });
  test('the shim spec names them', () => {
    const head = (closedStdio?: number[]): string =>
      encodeShimSpec({
        path: '/b',
        argv: [],
        env: [],
        deathSignal: 15,
        parentPid: 7,
        newProcessGroup: false,
        mergeStderrIntoStdout: false,
        startSignals: undefined,
        ...(closedStdio ? { closedStdio } : {}),
      })
        .toString('latin1')
        .split('\n')[0]!;
    assert.equal(head(), '15 7 0 0 0 0 - 0 0');
    assert.equal(head([0, 1]), '15 7 0 0 0 0 01 0 0');
  });
});

describe('recursion guard: which tborg was started as borg by a tborg', () => {
  const facts = (table: Record<number, { ppid: number; exe: string }>) => ({
    ppid: (pid: number) => table[pid]?.ppid,
    exe: (pid: number) => table[pid]?.exe,
  });
  const env = (value: string): NodeJS.ProcessEnv => ({ TBORG_PARENT: value });
  const rows: Array<[string, NodeJS.ProcessEnv, { pid: number; ppid: number }, Record<number, { ppid: number; exe: string }>, boolean]> = [
    ['no mark: a tborg of its own', {}, { pid: 50, ppid: 10 }, {}, false],
    ["the wrapper exec'd tborg: its parent is the marking tborg", env('10 1 /home/u/bin/borg'), { pid: 50, ppid: 10 }, {}, true],
    [
      'a wrapper without exec: a shell between',
      env('10 1 /home/u/bin/borg'),
      { pid: 60, ppid: 50 },
      { 50: { ppid: 10, exe: '/usr/bin/dash' } },
      true,
    ],
    [
      'borg with-lock REPO tborg: borg (python) between',
      env('10 1 /usr/bin/borg'),
      { pid: 60, ppid: 50 },
      { 50: { ppid: 10, exe: '/usr/bin/python3.11' } },
      false,
    ],
    [
      'a mark from further up: a tborg of its own',
      env('10 1 /usr/bin/borg'),
      { pid: 60, ppid: 50 },
      { 50: { ppid: 40, exe: '/usr/bin/bash' } },
      false,
    ],
  ];
  for (const [what, e, self, table, expected] of rows) {
    test(what, () => assert.equal(startedAsBorg(e, self, facts(table)) !== undefined, expected));
  }
  test(`nested ${MAX_DEPTH} deep: one clear error whatever the parents`, () => {
    assert.throws(
      () => startedAsBorg(env(`10 ${MAX_DEPTH} /x/borg`), { pid: 2, ppid: 1 }, facts({})),
      /started 8 times inside itself .*TBORG_BORG/,
    );
  });
  test('parseMarker', () => {
    assert.deepEqual(parseMarker('12 3 /a b/borg'), { pid: 12, depth: 3, borgPath: '/a b/borg' });
    assert.equal(parseMarker('x 1 /b'), undefined);
  });
});

describe('signalToDieOf', () => {
  const rows: Array<[NodeJS.Signals | null, number, NodeJS.Signals | undefined]> = [
    ['SIGTERM', 143, 'SIGTERM'],
    ['SIGKILL', 137, 'SIGKILL'],
    ['SIGTERM', 2, undefined], // tborg's own answer, not borg's death
    [null, 143, undefined], // borg exited 143 itself
  ];
  for (const [signal, code, expected] of rows) {
    test(`borg ended by ${signal}, main returned ${code}`, () => {
      recordBorgEnd(signal);
      assert.equal(signalToDieOf(code), expected);
    });
  }
});
