import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { splitArguments } from '../../src/cli/tborg-options.js';
import { buildServeCommand, defaultAuthorizedKeysOptions } from '../../src/guide/authorized-keys.js';
import { addGuardFinding } from '../../src/guide/doctor/guard-probe.js';
import { buildServeGuardScript } from '../../src/guide/serve-guard-script.js';
import { computeGuardedLockWait } from '../../src/plan/guard-lock-wait.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { PlanInput } from '../../src/plan/plan-input.js';
import { composeRemotePath, findGuardObstacle, injectRunToken } from '../../src/plan/run-token.js';
import { readRsh, sshTarget } from '../../src/ssh/rsh.js';

// README "The server half", the pure parts: the key line with the guard, the token in the remote
// path, the plan with and without --tborg-server-guard, doctor's words.

const TOKEN = 'ab'.repeat(16);

function plan(args: string[], env: NodeJS.ProcessEnv, tborg: string[] = [], major: 1 | 2 = 1, version = '1.2.4') {
  const options = splitArguments(tborg, env).options;
  const commandLine = parseBorgCommandLine(args, env, major, { version });
  const loc = commandLine.repository!.location;
  const rsh = readRsh(commandLine.rsh?.value ?? null, env);
  const input: PlanInput = {
    args,
    env,
    options,
    borg: { path: '/usr/bin/borg', version, major },
    commandLine,
    ssh: loc.host
      ? {
          rsh,
          target: sshTarget(rsh.words, { user: loc.user, host: loc.host, port: loc.port }),
          configured: { interval: 0, countMax: 3 },
          hostBlock: null,
        }
      : null,
    nonSshRsh: null,
    runToken: TOKEN,
  };
  return buildPlan(input);
}

describe('the guard in the authorized_keys line', () => {
  test("the guard goes in front of today's borg serve argv, after the variables", () => {
    const options = { ...defaultAuthorizedKeysOptions(), restrictToPaths: ['/srv/borg'], setEnv: ['BORG_HOST_ID=nas'] };
    const today = buildServeCommand(options);
    assert.equal(
      buildServeCommand({ ...options, guardPath: '/home/b/.local/bin/tborg-serve-guard' }),
      today.replace('borg serve', '/home/b/.local/bin/tborg-serve-guard borg serve'),
    );
    assert.equal(
      buildServeCommand({ ...options, guardPath: "/home/it's/g" }),
      today.replace('borg serve', `'/home/it'\\''s/g' borg serve`),
    );
  });
  test('refused: a relative path, and borg2 serve --rest (no serve holds the lock there)', () => {
    assert.throws(
      () => buildServeCommand({ ...defaultAuthorizedKeysOptions(), guardPath: 'bin/g' }),
      /--guard-path "bin\/g" is not an absolute path/,
    );
    assert.throws(() => buildServeCommand({ ...defaultAuthorizedKeysOptions(), borg2: true, guardPath: '/g' }), /hold their own lock/);
  });
  test('the script has every placeholder filled and starts with its interpreter', () => {
    const script = buildServeGuardScript();
    assert.match(script, /^#!\/usr\/bin\/env python3\n/);
    assert.doesNotMatch(script, /@[A-Z_]+@/);
    assert.match(script, /^VERSION = 1$/m);
  });
});

describe('the run token in the remote path', () => {
  test("prefixes the user's --remote-path in place (separate and joined), else BORG_REMOTE_PATH, else borg", () => {
    const at = (argv: string[]) => parseBorgCommandLine(argv, {}, 1);
    const separate = ['--remote-path', '/opt/borg', 'list', 'ssh://h/r'];
    assert.deepEqual(injectRunToken(separate, at(separate).remotePathAt, '/opt/borg', {}, TOKEN), {
      argv: ['--remote-path', `TBORG_RUN=${TOKEN} /opt/borg`, 'list', 'ssh://h/r'],
      env: {},
    });
    const joined = ['list', '--remote-pa=/opt/borg', 'ssh://h/r'];
    assert.deepEqual(injectRunToken(joined, at(joined).remotePathAt, '/opt/borg', {}, TOKEN).argv, [
      'list',
      `--remote-pa=TBORG_RUN=${TOKEN} /opt/borg`,
      'ssh://h/r',
    ]);
    assert.deepEqual(injectRunToken(['list', 'ssh://h/r'], null, null, { BORG_REMOTE_PATH: 'borg-1.2' }, TOKEN).env, {
      BORG_REMOTE_PATH: `TBORG_RUN=${TOKEN} borg-1.2`,
    });
    assert.deepEqual(injectRunToken(['list', 'ssh://h/r'], null, null, {}, TOKEN).env, { BORG_REMOTE_PATH: `TBORG_RUN=${TOKEN} borg` });
    // An empty --remote-path is not borg's (remote.py: `args.remote_path or BORG_REMOTE_PATH`).
    const empty = ['--remote-path', '', 'list', 'ssh://h/r'];
    assert.deepEqual(injectRunToken(empty, at(empty).remotePathAt, '', { BORG_REMOTE_PATH: 'b' }, TOKEN), {
      argv: empty,
      env: { BORG_REMOTE_PATH: `TBORG_RUN=${TOKEN} b` },
    });
    assert.throws(() => composeRemotePath('XYZ', 'borg'), /bad run token/);
  });
  test('not applicable: no repository, no ssh, store locks, two repositories', () => {
    const facts = { opensRepository: true, ssh: true, rest: false, storeLock: false, otherRepository: false };
    assert.equal(findGuardObstacle(facts), null);
    assert.match(findGuardObstacle({ ...facts, opensRepository: false })!, /opens no repository/);
    assert.match(findGuardObstacle({ ...facts, ssh: false })!, /not reached through ssh/);
    assert.match(findGuardObstacle({ ...facts, rest: true })!, /store lock/);
    assert.match(findGuardObstacle({ ...facts, storeLock: true })!, /store lock/);
    assert.match(findGuardObstacle({ ...facts, otherRepository: true })!, /two repositories/);
  });
});

describe('the plan with --tborg-server-guard', () => {
  const args = ['create', 'ssh://u@h/srv/r::a', '/etc'];
  test('off (the default): nothing about the remote command changes', () => {
    const off = plan(args, {});
    assert.deepEqual(off.serverGuard, { on: false, sent: false, notApplicable: null });
    assert.equal(off.env.BORG_REMOTE_PATH, undefined);
    assert.deepEqual(off.baseArgv, args);
    assert.deepEqual(plan(args, { TBORG_SERVER_GUARD: 'off' }).env, off.env);
    assert.equal(off.lockWait.seconds, 640);
  });
  test("on: the token in BORG_REMOTE_PATH, the 10 x 6 keepalive, and a wait that no longer waits for the server's sshd", () => {
    const on = plan(args, { BORG_REMOTE_PATH: 'borg-1.2' }, ['--tborg-server-guard', 'on']);
    assert.deepEqual(on.serverGuard, { on: true, sent: true, notApplicable: null });
    assert.equal(on.env.BORG_REMOTE_PATH, `TBORG_RUN=${TOKEN} borg-1.2`);
    assert.equal(on.env.BORG_RSH, 'ssh -o ServerAliveInterval=10 -o ServerAliveCountMax=6');
    assert.equal(on.lockWait.model?.formula, '(6+1)x10 + 15 (guard) + 20 = 105 s');
    assert.equal(on.lockWait.seconds, 105);
    assert.ok(!on.warnings.some((w) => w.kind === 'server-alive-none'));
    // The user's keepalive stays the user's.
    const own = plan(args, {}, ['--tborg-server-guard', 'on', '--tborg-keepalive', '1x3']);
    assert.equal(own.lockWait.model?.formula, '(3+1)x1 + 15 (guard) + 20 = 39 s');
  });
  test('on, where no serve holds the lock: no token, and the plan says why', () => {
    const b19 = plan(['repo-list', '-r', 'ssh://u@h/srv/r'], {}, ['--tborg-server-guard', 'on'], 2, '2.0.0b19');
    assert.equal(b19.serverGuard?.sent, false);
    assert.match(b19.serverGuard!.notApplicable!, /store lock/);
    assert.equal(b19.env.BORG_REMOTE_PATH, undefined);
  });
  test('the guarded model in numbers', () => {
    const m = computeGuardedLockWait({ interval: 10, countMax: 6 }, 'why');
    assert.deepEqual([m.clientBound, m.serverBound, m.margin, m.seconds, m.kind], [70, 15, 20, 105, 'serve']);
  });
});

describe("doctor's words about the guard", () => {
  const server = { name: 'server' as const, status: 'ok' as const, detail: 'reachable in 0.3 s' };
  test('found and used, found and unused, missing and wanted, missing', () => {
    assert.match(addGuardFinding(server, 1, true, 'nas').detail, /runs tborg's guard 1: a lost connection's stale borg serve is ended/);
    assert.match(addGuardFinding(server, 1, false, 'nas').detail, /unused: add --tborg-server-guard on/);
    const wanted = addGuardFinding(server, null, true, 'nas');
    assert.equal(wanted.status, 'warn');
    assert.match(wanted.detail, /--tborg-server-guard is on, but nas runs no guard/);
    const missing = addGuardFinding(server, null, false, 'nas');
    assert.equal(missing.status, 'ok');
    assert.match(missing.detail, /no tborg guard on nas .*tborg authorized-keys --guard/);
  });
});
