import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runMainInProcess } from '../helpers/main-in-process.js';
import { splitLikePython } from '../../src/ssh/rsh.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// README "borg 2" through the real CLI: `tborg plan --json` with a borg2 that says it is 2.0.0b25, b22 or
// b19 (a two-line script answering --version; planning runs nothing else of borg's) and the real
// `ssh -G`. Every expected argv below is written out from borgstore's ssh_cmd and borg's
// rest_serve_command by hand (docs/facts.md "borg 2"). These rows are the real ssh's referee; the
// rows that need only the facts (compact, a user's keepalive, BORGSTORE_RSH, BORG_LOCK_WAIT, b19, b22)
// run with given facts in test/unit/plan-facts.test.ts.

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-borg2-plan-'));
  for (const version of ['2.0.0b25', '2.0.0b22', '2.0.0b19']) {
    const path = join(dir, `borg2-${version}`);
    writeFileSync(path, `#!/bin/sh\necho "borg2 ${version}"\n`);
    chmodSync(path, 0o755);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface PlanJson {
  borg: { argv: string[] };
  env: Record<string, string>;
  repository: { path: string; port: number | null } | null;
  ssh: null | {
    transport: string;
    argv: string[];
    rsh: { source: string; words: string[] };
    effective: { serverAliveInterval: number; serverAliveCountMax: number };
  };
  keepalive: string;
  lockWait: {
    seconds: number;
    userGiven: boolean;
    userSource: string | null;
    model: { kind: string; why: string } | null;
    attemptSeconds: number | null;
  };
}

async function plan(version: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<PlanJson> {
  // borgstore's own variables (BORGSTORE_RSH) steer borg2's ssh too.
  const env = inheritedEnv(['BORGSTORE_']);
  Object.assign(env, { XDG_CACHE_HOME: join(dir, 'cache'), TBORG_BORG: join(dir, `borg2-${version}`) }, extraEnv);
  // main() in-process: a plan is what tborg decides (test/helpers/main-in-process.ts).
  const r = await runMainInProcess(['plan', '--json', ...args], env);
  assert.equal(r.code, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString()) as PlanJson;
}

const REPO = 'ssh://root@127.0.0.1:2222/srv/repo';
const KEEP_30_3 = ['-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3'];

test('b25, port only in the URL, no RSH: borgstore default with -p 2222, nothing injected, store-lock wait >= 30 min', async () => {
  const p = await plan('2.0.0b25', ['-r', REPO, 'create', 'a1', '/data']);
  assert.deepEqual(p.env, {}, 'no BORG_RSH/BORGSTORE_RSH: borgstore keeps its own -p PORT');
  assert.equal(p.keepalive, 'configured');
  assert.equal(p.ssh?.transport, 'borg serve --rest');
  assert.deepEqual(p.ssh?.argv, [
    'ssh',
    ...KEEP_30_3,
    '-p',
    '2222',
    'root@127.0.0.1',
    'borg',
    'serve',
    '--rest',
    '--backend',
    `FILE:${p.repository!.path}`,
  ]);
  assert.deepEqual(p.ssh?.effective, { serverAliveInterval: 30, serverAliveCountMax: 3 });
  assert.equal(p.lockWait.model?.kind, 'store');
  assert.ok(p.lockWait.seconds >= 30 * 60, `${p.lockWait.seconds}`);
  assert.match(p.lockWait.model!.why, /shared lock/);
  // One lock wait per attempt: tborg's, first, once.
  assert.equal(p.borg.argv.filter((w) => w === '--lock-wait').length, 1);
  assert.deepEqual(p.borg.argv.slice(0, 2), ['--lock-wait', String(p.lockWait.attemptSeconds)]);
});

test("b25 with the user's BORG_RSH lacking a keepalive: injected into BORGSTORE_RSH on top of the user's words, BORG_RSH untouched, no -p added", async () => {
  const userRsh = 'ssh -F /dev/null -o BatchMode=no';
  const p = await plan('2.0.0b25', ['-r', REPO, 'repo-list'], { BORG_RSH: userRsh });
  assert.equal(p.keepalive, 'injected');
  assert.equal(p.env.BORG_RSH, undefined);
  const words = splitLikePython(p.env.BORGSTORE_RSH ?? '');
  assert.deepEqual(words, ['ssh', '-F', '/dev/null', '-o', 'BatchMode=no', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=30']);
  assert.deepEqual(p.ssh?.argv.slice(0, words.length + 1), [...words, 'root@127.0.0.1']);
  assert.ok(!p.ssh?.argv.includes('-p'), 'borgstore adds no -p to a user command, and neither does tborg');
});

test("b25 with a BORG_RSH that loses the URL's port: tborg keeps borg's behaviour and warns, naming the port ssh will use", async () => {
  const lost = await plan('2.0.0b25', ['-r', REPO, 'create', 'a1', '/data'], { BORG_RSH: 'ssh -F /dev/null -o ServerAliveInterval=5' });
  assert.deepEqual(lost.env, {});
  assert.ok(!lost.ssh?.argv.includes('-p'));
  const warnings = (lost as unknown as { warnings: string[] }).warnings;
  assert.ok(
    warnings.some((w) => /ssh will connect to port 22, not 2222; add "-p 2222" to BORG_RSH/.test(w)),
    warnings.join('\n'),
  );
  const kept = await plan('2.0.0b25', ['-r', REPO, 'create', 'a1', '/data'], {
    BORG_RSH: 'ssh -F /dev/null -o ServerAliveInterval=5 -p 2222',
  });
  assert.deepEqual((kept as unknown as { warnings: string[] }).warnings, []);
  // borgstore's own command has the port: no warning either.
  const own = await plan('2.0.0b25', ['-r', REPO, 'create', 'a1', '/data']);
  assert.deepEqual((own as unknown as { warnings: string[] }).warnings, []);
  // A refusal on the wrong port is the set-up, not a network coming up: no connect wait for it (stdin
  // is not a terminal here, so the others get the cron default).
  const connectWait = (p: PlanJson): number => (p as unknown as { retry: { connectWaitSeconds: number } }).retry.connectWaitSeconds;
  assert.equal(connectWait(lost), 0);
  assert.equal(connectWait(kept), 15 * 60);
  assert.equal(connectWait(own), 15 * 60);
});

test('each beta plans the commands it has: b22 key list, not find; b25 find, copy and key remove (src/borg/borg2-commands.ts betas)', async () => {
  type Facts = PlanJson & { retry: { noConnectionRetry: string | null; lockTimeouts: boolean } };
  const facts = async (version: string, args: string[]): Promise<Facts> => (await plan(version, args)) as Facts;
  // A command the beta has: its repository, the store-lock wait, its retry rule.
  const known = async (version: string, args: string[], refusal: RegExp | null): Promise<void> => {
    const p = await facts(version, args);
    // (b13+ read ssh://host/srv/repo as relative to the login directory: srv/repo.)
    assert.equal(p.repository?.path, 'srv/repo', `${version} ${args.join(' ')}`);
    assert.equal(p.lockWait.model?.kind, 'store');
    assert.equal(p.retry.lockTimeouts, true);
    if (refusal === null) assert.equal(p.retry.noConnectionRetry, null);
    else assert.match(p.retry.noConnectionRetry ?? '(retried)', refusal);
  };
  await known('2.0.0b22', ['key', 'list', '-r', REPO], /^key list writes its result to stdout/);
  await known('2.0.0b25', ['find', '-r', REPO, 'sh:**/*.jpg'], /^find writes its result to stdout/);
  await known('2.0.0b25', ['copy', '-r', REPO, 'a', 'b'], null);
  await known('2.0.0b25', ['key', 'remove', '--label', 'alice', '-r', REPO], null);
  await known('2.0.0b25', ['key', 'remove', '--passphrase', '-r', REPO], /^key remove --passphrase removes the key/);
  // b22 has no find (2.0.0b23+): borg2 b22 rejects the line, so tborg runs it once, untouched.
  const old = await facts('2.0.0b22', ['find', '-r', REPO, 'sh:**/*.jpg']);
  assert.equal(old.repository, null);
  assert.equal(old.lockWait.model, null);
});
