import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePlan, toJson } from '../../src/cli/commands/plan-command.js';
import { buildPlan } from '../../src/plan/plan.js';
import { defaults, planFor } from '../helpers/doctor-fixtures.js';

// The plan's retry rules that README "What is retried" and "How long tborg waits for a lock" promise:
// a line that runs a command of the user's gets one attempt with the whole wait as borg's own
// --lock-wait; a bound of the user's bounds the whole wait (lost connections included) and plan shows
// it; the remote command is the one borg sends (--remote-path, BORG_REMOTE_PATH).

const KEEP = { interval: 10, countMax: 30 };
const REPO = 'ssh://backup/srv/repo';

interface Row {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  major?: 1 | 2;
  maxWait?: number;
  expect: {
    argv: string[];
    lockTimeouts: boolean;
    connectionRetries: number;
    connectWait?: number;
    userCommand: RegExp | null;
    boundSource: string;
    boundSeconds: number;
  };
}

const ROWS: Row[] = [
  {
    name: 'with-lock: one attempt, borg waits the whole 640 s itself',
    args: ['with-lock', REPO, 'sh', '-c', 'echo hi'],
    expect: {
      argv: ['--lock-wait', '640', 'with-lock', REPO, 'sh', '-c', 'echo hi'],
      lockTimeouts: false,
      connectionRetries: 0,
      connectWait: 0,
      userCommand: /^with-lock runs your command$/,
      boundSource: 'model',
      boundSeconds: 640,
    },
  },
  {
    name: 'with-lock with --tborg-max-wait 90: borg waits 90 s itself',
    args: ['with-lock', REPO, 'true'],
    maxWait: 90,
    expect: {
      argv: ['--lock-wait', '90', 'with-lock', REPO, 'true'],
      lockTimeouts: false,
      connectionRetries: 0,
      connectWait: 0,
      userCommand: /^with-lock/,
      boundSource: '--tborg-max-wait',
      boundSeconds: 90,
    },
  },
  {
    name: "with-lock with the user's --lock-wait: untouched, one attempt",
    args: ['--lock-wait', '30', 'with-lock', REPO, 'true'],
    expect: {
      argv: ['--lock-wait', '30', 'with-lock', REPO, 'true'],
      lockTimeouts: false,
      connectionRetries: 0,
      userCommand: /^with-lock/,
      boundSource: '--lock-wait',
      boundSeconds: 30,
    },
  },
  {
    name: 'borg2 with-lock -r: one attempt',
    args: ['with-lock', '-r', REPO, 'true'],
    major: 2,
    expect: {
      argv: ['--lock-wait', '640', 'with-lock', '-r', REPO, 'true'],
      lockTimeouts: false,
      connectionRetries: 0,
      userCommand: /^with-lock/,
      boundSource: 'model',
      boundSeconds: 640,
    },
  },
  {
    name: 'create --paths-from-command: one attempt',
    args: ['create', '--paths-from-command', `${REPO}::a`, '--', 'find', '/etc'],
    expect: {
      argv: ['--lock-wait', '640', 'create', '--paths-from-command', `${REPO}::a`, '--', 'find', '/etc'],
      lockTimeouts: false,
      connectionRetries: 0,
      userCommand: /^create --paths-from-command runs your command$/,
      boundSource: 'model',
      boundSeconds: 640,
    },
  },
  {
    name: 'export-tar --tar-filter: one attempt',
    args: ['export-tar', '--tar-filter', 'xz', `${REPO}::a`, '/tmp/a.tar.xz'],
    expect: {
      argv: ['--lock-wait', '640', 'export-tar', '--tar-filter', 'xz', `${REPO}::a`, '/tmp/a.tar.xz'],
      lockTimeouts: false,
      connectionRetries: 0,
      userCommand: /^export-tar --tar-filter/,
      boundSource: 'model',
      boundSeconds: 640,
    },
  },
  {
    name: 'import-tar --tar-filter: one attempt',
    args: ['import-tar', '--tar-filter', 'zstd -d', `${REPO}::a`, '/tmp/a.tar.zst'],
    expect: {
      argv: ['--lock-wait', '640', 'import-tar', '--tar-filter', 'zstd -d', `${REPO}::a`, '/tmp/a.tar.zst'],
      lockTimeouts: false,
      connectionRetries: 0,
      userCommand: /^import-tar --tar-filter/,
      boundSource: 'model',
      boundSeconds: 640,
    },
  },
  {
    name: "export-tar without a filter of the user's is retried as before",
    args: ['export-tar', `${REPO}::a`, '/tmp/a.tar.gz'],
    expect: {
      argv: ['--lock-wait', '10', 'export-tar', `${REPO}::a`, '/tmp/a.tar.gz'],
      lockTimeouts: true,
      connectionRetries: 3,
      userCommand: null,
      boundSource: 'model',
      boundSeconds: 640 + 3 * 640,
    },
  },
  {
    name: "create under tborg's model: each lost connection starts the wait over",
    args: ['create', `${REPO}::a`, '/data'],
    expect: {
      argv: ['--lock-wait', '10', 'create', `${REPO}::a`, '/data'],
      lockTimeouts: true,
      connectionRetries: 3,
      connectWait: 900,
      userCommand: null,
      boundSource: 'model',
      boundSeconds: 640 + 3 * 640,
    },
  },
  {
    name: 'create --tborg-max-wait 90: 90 s in all',
    args: ['create', `${REPO}::a`, '/data'],
    maxWait: 90,
    expect: {
      argv: ['--lock-wait', '10', 'create', `${REPO}::a`, '/data'],
      lockTimeouts: true,
      connectionRetries: 3,
      userCommand: null,
      boundSource: '--tborg-max-wait',
      boundSeconds: 90,
    },
  },
  {
    name: 'create --lock-wait 60: 60 s in all',
    args: ['create', '--lock-wait', '60', `${REPO}::a`, '/data'],
    expect: {
      argv: ['create', '--lock-wait', '60', `${REPO}::a`, '/data'],
      lockTimeouts: true,
      connectionRetries: 3,
      userCommand: null,
      boundSource: '--lock-wait',
      boundSeconds: 60,
    },
  },
  {
    name: 'borg2 BORG_LOCK_WAIT=45: 45 s in all',
    args: ['create', '-r', REPO, 'a', '/data'],
    env: { BORG_LOCK_WAIT: '45' },
    major: 2,
    expect: {
      argv: ['create', '-r', REPO, 'a', '/data'],
      lockTimeouts: true,
      connectionRetries: 3,
      userCommand: null,
      boundSource: 'BORG_LOCK_WAIT',
      boundSeconds: 45,
    },
  },
];

for (const row of ROWS) {
  test(`plan retry rules: ${row.name}`, () => {
    const { plan } = planFor(row.args, row.env ?? {}, KEEP, row.major ?? 1, { ...defaults, maxWait: row.maxWait });
    const e = row.expect;
    assert.deepEqual(plan.borg.argv, e.argv, 'argv');
    assert.equal(plan.retry.lockTimeouts, e.lockTimeouts, 'lockTimeouts');
    assert.equal(plan.retry.connectionRetries, e.connectionRetries, 'connectionRetries');
    if (e.connectWait !== undefined) assert.equal(plan.retry.connectWaitSeconds, e.connectWait, 'connectWaitSeconds');
    if (e.userCommand === null) assert.equal(plan.retry.userCommand, null);
    else assert.match(plan.retry.userCommand ?? '', e.userCommand);
    assert.equal(plan.retry.boundSource, e.boundSource, 'boundSource');
    assert.equal(plan.retry.boundSeconds, e.boundSeconds, 'boundSeconds');
    // plan --json carries them; the text says the bound.
    const json = toJson(plan) as { retry: Record<string, unknown> };
    assert.equal(json.retry.boundSeconds, e.boundSeconds);
    const text = describePlan(plan);
    if (e.userCommand) assert.match(text, /^retry: +none: .*runs your command, so it gets one attempt/m);
    else if (e.boundSource !== 'model') assert.match(text, new RegExp(`lost connections included \\(${e.boundSource}\\)`));
    else assert.match(text, /each lost connection starts the wait over: at most \d/);
  });
}

// borg 1.x and 2 remote.py borg_cmd: [args.remote_path or BORG_REMOTE_PATH or "borg", "serve"].
const REMOTE: Array<[string, string[], NodeJS.ProcessEnv, 1 | 2, string[]]> = [
  ['the default', ['list', REPO], {}, 1, ['borg', 'serve']],
  ['--remote-path', ['list', '--remote-path', '/opt/borg-1.4/borg', REPO], {}, 1, ['/opt/borg-1.4/borg', 'serve']],
  ['BORG_REMOTE_PATH', ['list', REPO], { BORG_REMOTE_PATH: 'borg-1.2' }, 1, ['borg-1.2', 'serve']],
  ['--remote-path beats BORG_REMOTE_PATH', ['list', '--remote-path=borgA', REPO], { BORG_REMOTE_PATH: 'borgB' }, 1, ['borgA', 'serve']],
  [
    'an empty --remote-path falls back to BORG_REMOTE_PATH',
    ['list', '--remote-path', '', REPO],
    { BORG_REMOTE_PATH: 'borgB' },
    1,
    ['borgB', 'serve'],
  ],
  ['borg2 b5 BORG_REMOTE_PATH', ['rlist', '-r', REPO], { BORG_REMOTE_PATH: 'borg2' }, 2, ['borg2', 'serve']],
];
for (const [name, args, env, major, expected] of REMOTE) {
  test(`plan remote command: ${name}`, () => {
    const { plan } = planFor(args, env, KEEP, major);
    assert.deepEqual(plan.ssh?.remoteCommand, expected);
    assert.deepEqual((toJson(plan) as { ssh: { remoteCommand: string[] } }).ssh.remoteCommand, expected);
    assert.match(describePlan(plan), new RegExp(`^ssh argv: .* backup ${expected.join(' ')} \\.\\.\\.$`, 'm'));
  });
}

// With the server guard on, the remote path carries the run's token (run-token.ts): the plan shows
// that command, and the landed check lists through the same remote path.
for (const [name, args, env] of [
  ['BORG_REMOTE_PATH', ['create', `${REPO}::a`, '/data'], { BORG_REMOTE_PATH: 'borg-1.2' }],
  ['--remote-path', ['create', '--remote-path', '/opt/borg', `${REPO}::a`, '/data'], {}],
] as const) {
  test(`plan remote command with the server guard: ${name}`, () => {
    const { commandLine } = planFor([...args], { ...env }, KEEP);
    const { plan } = planWithToken([...args], { ...env });
    const sent = plan.env.BORG_REMOTE_PATH ?? plan.borg.argv[plan.borg.argv.indexOf('--remote-path') + 1]!;
    assert.notEqual(sent, commandLine.remotePath ?? env.BORG_REMOTE_PATH, 'the token is in it');
    assert.deepEqual(plan.ssh?.remoteCommand, [sent, 'serve']);
    const list = plan.retry.landedCheck?.listArgv ?? [];
    if (commandLine.remotePath) assert.equal(list[list.indexOf('--remote-path') + 1], sent);
  });
}

function planWithToken(args: string[], env: NodeJS.ProcessEnv) {
  const made = planFor(args, env, KEEP, 1, { ...defaults, serverGuard: true });
  return { ...made, plan: buildPlan({ ...made.input, runToken: '0123456789abcdef0123456789abcdef' }) };
}
