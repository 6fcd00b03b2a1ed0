import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readProcStat } from '../../src/process/proc-stat.js';
import {
  describeChildFailure,
  KILL_GRACE_MS,
  runBufferedChild,
  runBufferedChildSync,
  type BufferedChildResult,
} from '../../src/process/buffered-child.js';
import { sshStderrLine, sshStderrLines } from '../../src/ssh/ssh-settings.js';

// Gone, or a zombie its new parent has not reaped yet (a container's pid 1 may never reap).
function isRunning(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z';
}

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ONLY: 'this' };
const engines = [
  ['async (execa)', (file: string, args: string[], timeoutMs = 10_000) => runBufferedChild(file, args, { env, timeoutMs })],
  ['sync (spawnSync)', async (file: string, args: string[], timeoutMs = 10_000) => runBufferedChildSync(file, args, { env, timeoutMs })],
] as const;

for (const [name, run] of engines) {
  test(`buffered child, ${name}: exit code, both streams whole, the caller's env only, stdin closed`, async () => {
    const r = await run('sh', ['-c', 'printf "out\\n"; printf "err\\r\\n" >&2; cat; printf "%s" "$ONLY:${HOME-unset}"; exit 3']);
    assert.equal(r.exitCode, 3);
    assert.equal(r.signal, null);
    assert.equal(r.stdout, 'out\nthis:unset');
    assert.equal(r.stderr, 'err\r\n');
    assert.equal(r.timedOut, false);
    assert.equal(r.aborted, false);
    assert.equal(r.spawnError, undefined);
  });

  test(`buffered child, ${name}: a child that cannot start is a result, not an exception`, async () => {
    const r = await run('/nonexistent/tborg-no-such-program', []);
    assert.equal(r.exitCode, null);
    assert.match(r.spawnError ?? '', /ENOENT/);
    assert.match(describeChildFailure(r, '', 1000) ?? '', /ENOENT/);
  });

  test(`buffered child, ${name}: the time limit stops a child that hangs`, async () => {
    const r = await run('sleep', ['30'], 300);
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(r.durationMs < 10_000, `took ${r.durationMs} ms`);
    assert.equal(describeChildFailure(r, '', 300), 'no answer after 0 s');
  });
}

test('buffered child, async: a timeout reaches the whole process group (what the child started), SIGTERM first', async () => {
  // The child traps SIGTERM to say it was asked; its grandchild (pid on stdout) holds no pipe of ours,
  // and ignores SIGTERM, so only the group SIGKILL after the child ended can reach it.
  const r = await runBufferedChild(
    'sh',
    ['-c', 'trap "echo term >&2; exit 143" TERM; (trap "" TERM; exec sleep 30) >/dev/null 2>&1 & echo $! ; wait'],
    { env, timeoutMs: 500 },
  );
  assert.equal(r.timedOut, true);
  assert.match(r.stderr, /term/);
  assert.ok(r.durationMs < KILL_GRACE_MS, `SIGTERM ended it (${r.durationMs} ms), no SIGKILL needed`);
  const grandchild = Number(r.stdout.trim());
  assert.ok(grandchild > 0);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!isRunning(grandchild), 'the grandchild must be gone');
});

test('buffered child, async: an abort stops the child and says so', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const r = await runBufferedChild('sleep', ['30'], { env, timeoutMs: 20_000, signal: controller.signal });
  assert.equal(r.aborted, true);
  assert.equal(r.timedOut, false);
  assert.equal(describeChildFailure(r, '', 20_000), 'stopped');
});

const base: BufferedChildResult = { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, durationMs: 1 };
const failures: Array<[string, BufferedChildResult, string, string | null]> = [
  ['exit 0', base, 'ignored', null],
  ['what the child said wins', { ...base, exitCode: 255 }, 'ssh: Could not resolve hostname x', 'ssh: Could not resolve hostname x'],
  ['else its exit code', { ...base, exitCode: 255 }, '', 'exit code 255'],
  ['else the signal', { ...base, exitCode: null, signal: 'SIGSEGV' }, '', 'killed by SIGSEGV'],
  ['a timeout with what was said', { ...base, exitCode: null, timedOut: true }, 'half a line', 'no answer after 10 s (half a line)'],
];
for (const [name, result, said, expected] of failures) {
  test(`describeChildFailure: ${name}`, () => assert.equal(describeChildFailure(result, said, 10_000), expected));
}

const stderrs: Array<[string, string, string[]]> = [
  [
    'CRLF lines and blanks',
    'ssh: connect to host h port 22: Connection refused\r\n\r\n',
    ['ssh: connect to host h port 22: Connection refused'],
  ],
  [
    'the pseudo-terminal notice',
    'Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n/x line 3: Bad configuration option: nope\n',
    ['/x line 3: Bad configuration option: nope'],
  ],
  [
    '-v chatter and the host-key note',
    "OpenSSH_9.2p1 Debian-2, OpenSSL 3.0\ndebug1: Reading configuration data /x\nWarning: Permanently added '[h]:22' (ED25519) to the list of known hosts.\nPermission denied (publickey).\n",
    ['Permission denied (publickey).'],
  ],
  [
    'a borg --log-json line',
    '{"type": "log_message", "message": "Repository /r does not exist.", "levelname": "ERROR"}\n',
    ['Repository /r does not exist.'],
  ],
  [
    "borg's LockTimeout keeps its msgid",
    '{"type": "log_message", "message": "Failed to create/acquire the lock /r/lock.exclusive (timeout).", "msgid": "LockTimeout"}\n{"message": "x", "msgid": "LockTimeout"}\n',
    ['Failed to create/acquire the lock /r/lock.exclusive (timeout).', 'x (LockTimeout)'],
  ],
  ['a brace that is no JSON stays', '{not json\n', ['{not json']],
];
for (const [name, stderr, lines] of stderrs) {
  test(`sshStderrLines: ${name}`, () => {
    assert.deepEqual(sshStderrLines(stderr), lines);
    assert.equal(sshStderrLine(stderr), lines.join('; '));
  });
}
