import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/processes.js';

// A connection cut while a command's result goes to stdout, with real borg 1.2 over the lab's sshd,
// tborg beside plain borg under the same cut: no second attempt (it would write the result again),
// borg's own error and exit code, and stdout a prefix of the real result. Both sides run with a
// 1 x 3 ssh keepalive (tborg injects it, plain borg gets it in BORG_RSH), so a dead connection ends
// within seconds.

const TBORG = fileURLToPath(new URL('../../../bin/tborg.js', import.meta.url));
const available = labAvailable();
const skip = available.ok ? false : available.why;

let lab: Lab;
let repo: string;
let content: Buffer;
let slowBorg: string;
let slowOpens: string;
let keyed: string;

const KEEPALIVE = { TBORG_KEEPALIVE: '1x3', TBORG_SERVER_ALIVE: '1x3' };

before(async () => {
  if (skip) return;
  lab = await startLab({ name: 'streamcut', clientAlive: { interval: 1, countMax: 3 } });
  repo = lab.repoUrl('streams');
  const data = join(lab.dir, 'data');
  mkdirSync(data);
  // Incompressible, in small chunks (64 KiB on average) so that borg cannot have fetched the whole
  // file ahead when the connection goes.
  content = randomBytes(24 * 1024 * 1024);
  writeFileSync(join(data, 'big.bin'), content);
  for (const args of [
    ['init', '-e', 'none', repo],
    ['create', '--chunker-params', 'buzhash,10,23,16,4095', `${repo}::a`, 'big.bin'],
  ]) {
    const r = await lab.run(['borg', ...args], { cwd: data, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr.toString());
  }
  // key export needs a key: a repokey repository of its own.
  keyed = lab.repoUrl('keyed');
  const init = await lab.run(['borg', 'init', '-e', 'repokey', keyed], { env: lab.env({ BORG_PASSPHRASE: 'secret' }), timeoutMs: 120_000 });
  assert.equal(init.code, 0, init.stderr.toString());
  // The server's borg, answering the repository's `open` call 6 s late (after the negotiation): a
  // client that is connected and waiting for an answer, the moment to cut for commands whose result
  // is printed at the end. It leaves a file in slowOpens when the pause starts.
  slowOpens = join(lab.dir, 'slow-opens');
  mkdirSync(slowOpens);
  slowBorg = join(lab.dir, 'slow-borg');
  await writeFile(
    slowBorg,
    [
      '#!/usr/bin/python3',
      'import os, sys, time',
      'from borg.remote import RepositoryServer',
      'real_open = RepositoryServer.open',
      'def slow_open(self, *args, **kwargs):',
      `    with open(os.path.join(${JSON.stringify(slowOpens)}, str(os.getpid())), 'w'):`,
      '        pass',
      '    time.sleep(6)',
      '    return real_open(self, *args, **kwargs)',
      'RepositoryServer.open = slow_open',
      'from borg.archiver import main',
      'sys.exit(main())',
      '',
    ].join('\n'),
  );
  await chmod(slowBorg, 0o755);
});

after(async () => {
  await lab?.close();
});

interface Cut {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

// Runs argv inside the lab with stdout read by the test, cuts its connection when `when` says so,
// and collects everything. 'stream': once 1 MiB of stdout arrived, stop reading (borg blocks on the
// full pipe), cut, read on. 'start': cut while the server's (slow) borg holds back its answer to `open`.
async function runCut(argv: string[], env: NodeJS.ProcessEnv, when: 'stream' | 'start'): Promise<Cut> {
  // The slow borg of an earlier run may still sleep on the server: only this run's counts.
  const earlier = new Set(readdirSync(slowOpens));
  const child = lab.spawn(argv, { env: lab.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let outBytes = 0;
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<number | null>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  let cut: Promise<void>;
  const cutNow = async (): Promise<void> => {
    const connections = await lab.clientConnections();
    assert.equal(connections.length, 1, JSON.stringify(connections));
    await lab.dropConnection(connections[0]!.localPort);
  };
  if (when === 'stream') {
    cut = new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer): void => {
        out.push(c);
        outBytes += c.length;
        if (outBytes < 1024 * 1024) return;
        child.stdout!.off('data', onData);
        child.stdout!.pause();
        cutNow()
          .then(() => new Promise((r) => setTimeout(r, 1000)))
          .then(() => {
            child.stdout!.on('data', (d: Buffer) => out.push(d));
            child.stdout!.resume();
            resolve();
          }, reject);
      };
      child.stdout!.on('data', onData);
    });
  } else {
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    cut = waitFor("the server's slow open", () => readdirSync(slowOpens).some((f) => !earlier.has(f)), 60_000).then(cutNow);
  }
  await cut;
  const code = await done;
  await lab.heal();
  return { code, stdout: Buffer.concat(out), stderr: err };
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

// The class of an exit code: 0 success, 1 warning, otherwise an error (2, or a modern 80-87 code).
function codeClass(code: number | null): string {
  return code === 0 ? 'success' : code === 1 ? 'warning' : 'error';
}

describe('a connection cut while the result goes to stdout', { skip }, () => {
  const cases: Array<{ name: string; args: () => string[]; when: 'stream' | 'start'; reason: RegExp; reference: () => Promise<Buffer> }> = [
    {
      name: 'extract --stdout',
      args: () => ['extract', '--stdout', `${repo}::a`, 'big.bin'],
      when: 'stream',
      reason: /^extract --stdout writes its result to stdout; a second attempt would write it again$/,
      reference: async () => content,
    },
    {
      name: 'export-tar ... -',
      args: () => ['export-tar', `${repo}::a`, '-'],
      when: 'stream',
      reason: /^export-tar to - writes its result to stdout/,
      reference: async () => (await lab.run(['borg', 'export-tar', `${repo}::a`, '-'], { timeoutMs: 120_000 })).stdout,
    },
    {
      name: 'list --json',
      args: () => ['list', '--json', '--remote-path', slowBorg, repo],
      when: 'start',
      reason: /^list writes its result to stdout/,
      reference: async () => (await lab.run(['borg', 'list', '--json', repo], { timeoutMs: 120_000 })).stdout,
    },
    {
      name: 'key export ... -',
      args: () => ['key', 'export', '--remote-path', slowBorg, keyed, '-'],
      when: 'start',
      reason: /^key export to - writes its result to stdout/,
      reference: async () => (await lab.run(['borg', 'key', 'export', keyed, '-'], { timeoutMs: 120_000 })).stdout,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: borg's error and exit code, once, and no byte written twice`, async () => {
      const reference = await c.reference();
      assert.ok(reference.length > 0);
      const plain = await runCut(
        ['borg', ...c.args()],
        { BORG_RSH: `${lab.rsh} -o ServerAliveInterval=1 -o ServerAliveCountMax=3` },
        c.when,
      );
      const t = await runCut([process.execPath, TBORG, ...c.args()], KEEPALIVE, c.when);
      // Plain borg fails under this cut; tborg ends the same way, with borg's code.
      assert.equal(codeClass(plain.code), 'error', plain.stderr);
      assert.equal(codeClass(t.code), codeClass(plain.code), t.stderr);
      assert.equal(t.code, plain.code, t.stderr);
      // One attempt: no retry line, one line saying why not, after borg's own error.
      assert.doesNotMatch(t.stderr, /; retrying \(/);
      const own = t.stderr.split('\n').filter((l) => / tborg: /.test(l));
      assert.equal(own.length, 1, t.stderr);
      assert.match(own[0]!.replace(/^\S+ tborg: not retrying the lost connection: /, ''), c.reason);
      assert.match(t.stderr, /Connection closed by remote host|Remote: Timeout|Broken ?pipe|not responding/i);
      // stdout: a prefix of the real result, never more (a second attempt would have written it again).
      assert.ok(t.stdout.length < reference.length, `${t.stdout.length} of ${reference.length} bytes`);
      assert.equal(sha(t.stdout), sha(reference.subarray(0, t.stdout.length)), 'stdout is a prefix of the real result');
      assert.ok(plain.stdout.length < reference.length);
      assert.equal(sha(plain.stdout), sha(reference.subarray(0, plain.stdout.length)));
      if (c.when === 'stream') assert.ok(t.stdout.length >= 1024 * 1024, 'the cut came mid-stream');
    });
  }
});
