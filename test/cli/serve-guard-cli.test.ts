import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRunning, waitFor } from '../lab/processes.js';

// README "The server half": installing the guard (tborg authorized-keys --guard / --print-guard) and
// the guard itself run by python3 as sshd would run it (SSH_ORIGINAL_COMMAND set), with a stand-in
// for borg serve that only sleeps: which earlier serve it ends, and which it leaves alone. Real borg
// over real sshd: test/e2e/server-guard-e2e.test.ts.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGaVjXQmXq7mJb4kT5m6b8zC4v2yqH0c3hR6S0pW1aB2 me@client';
const python = spawnSync('python3', ['--version']).status === 0;

function tborg(args: string[], home: string, input = `${KEY}\n`) {
  return spawnSync(process.execPath, [TBORG, ...args], { input, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } });
}

describe('tborg authorized-keys --guard', () => {
  let home: string;
  before(() => (home = mkdtempSync(join(tmpdir(), 'tborg-guard-home-'))));
  after(() => rmSync(home, { recursive: true, force: true }));

  test('writes the guard to ~/.local/bin once, executable, and prints the line that runs it', () => {
    const path = join(home, '.local', 'bin', 'tborg-serve-guard');
    const first = tborg(['authorized-keys', '--guard', '--restrict-to-path', '/srv/borg', '-'], home);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `command="${path} borg serve --restrict-to-path /srv/borg",restrict ${KEY}\n`);
    assert.match(first.stderr, /wrote the guard at /);
    assert.equal(statSync(path).mode & 0o777, 0o755);
    assert.equal(readFileSync(path, 'utf8'), tborg(['authorized-keys', '--print-guard'], home, '').stdout);
    const mtime = statSync(path).mtimeMs;
    const again = tborg(['authorized-keys', '--guard', '--restrict-to-path', '/srv/borg', '-'], home);
    assert.equal(again.stdout, first.stdout);
    assert.match(again.stderr, /kept \(already up to date\)/);
    assert.equal(statSync(path).mtimeMs, mtime, 'the same text is not written again');
    assert.deepEqual(readdirSync(join(home, '.local', 'bin')), ['tborg-serve-guard'], 'no temporary file left');
  });

  test('--guard-path alone names the guard without writing it; bad input writes nothing', () => {
    const r = tborg(['authorized-keys', '--guard-path', '/opt/g', '-'], home);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^command="\/opt\/g borg serve",restrict /);
    const other = join(home, 'other', 'guard');
    const refused = tborg(['authorized-keys', '--guard', '--guard-path', other, '--remote-path', 'borg2', '-'], home);
    assert.equal(refused.status, 2);
    assert.equal(refused.stdout, '');
    assert.throws(() => statSync(other));
    assert.equal(tborg(['authorized-keys', '--print-guard', '-'], home).status, 2);
  });
});

describe('the guard, run as sshd runs a forced command', { skip: python ? false : 'no python3' }, () => {
  let dir: string;
  let guard: string;
  let fake: string;
  let stubborn: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tborg-guard-run-'));
    assert.equal(tborg(['authorized-keys', '--guard', '-'], dir).status, 0);
    guard = join(dir, '.local', 'bin', 'tborg-serve-guard');
    fake = join(dir, 'borg');
    writeFileSync(fake, '#!/bin/sh\nexec sleep 600\n');
    chmodSync(fake, 0o755);
    // A serve that ignores SIGTERM: the guard must SIGKILL it after its grace.
    stubborn = join(dir, 'stubborn');
    writeFileSync(stubborn, "#!/bin/sh\ntrap '' TERM\nexec sleep 600\n");
    chmodSync(stubborn, 0o755);
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = (original: string | null, borg = fake): ChildProcess => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
    if (original !== null) env.SSH_ORIGINAL_COMMAND = original;
    const child = spawn(guard, [borg, 'serve', '--restrict-to-path', '/srv'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    return child;
  };
  // The guard has become the stand-in (exec: same pid).
  const serving = (child: ChildProcess, timeoutMs = 10_000): Promise<unknown> =>
    waitFor('the guard to exec borg serve', () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep'), timeoutMs);
  const token = (c: string): string => c.repeat(32);

  test('a second connection of the same token ends the first serve; other tokens, no token and malformed ones are left alone', async () => {
    const first = serve(`TBORG_RUN=${token('a')} borg serve --umask=077`);
    const other = serve(`TBORG_RUN=${token('b')} borg serve`);
    const none = serve('borg serve');
    const malformed = serve(`TBORG_RUN=${token('A')} borg serve`);
    const notServe = serve(`TBORG_RUN=${token('a')} borg list`);
    await Promise.all([first, other, none, malformed, notServe].map((c) => serving(c)));
    const second = serve(`BORG_HOSTNAME_IS_UNIQUE=no TBORG_RUN=${token('a')} borg serve --info`);
    await serving(second);
    await waitFor('the first serve to end', () => !isRunning(first.pid!), 5_000);
    for (const c of [other, none, malformed, notServe, second]) assert.ok(isRunning(c.pid!), `${c.pid} still serving`);
    assert.deepEqual(readdirSync(join(dir, '.cache', 'tborg-serve-guard')).sort(), [token('a'), token('b')]);
  });

  test('a serve that ignores SIGTERM gets SIGKILL after the grace, before the new one starts', async () => {
    const first = serve(`TBORG_RUN=${token('c')} borg serve`, stubborn);
    await serving(first);
    const started = Date.now();
    const second = serve(`TBORG_RUN=${token('c')} borg serve`);
    let err = '';
    second.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    await serving(second, 30_000);
    assert.equal(isRunning(first.pid!), false);
    assert.ok(Date.now() - started >= 9_000, 'the grace came first');
    assert.match(err, /did not end 10 s after SIGTERM: SIGKILL/);
  });

  test('--tborg-guard-probe with a token is answered by the guard alone', () => {
    const env = { PATH: process.env.PATH, HOME: dir, SSH_ORIGINAL_COMMAND: `TBORG_RUN=${token('d')} borg serve --tborg-guard-probe` };
    const r = spawnSync(guard, [fake, 'serve'], { env, encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'tborg-serve-guard 1\n');
  });
});
