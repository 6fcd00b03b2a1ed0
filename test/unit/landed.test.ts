import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { archiveAuthor, archivePattern, planLandedCheck, readLanded, type LandedCheck } from '../../src/plan/landed.js';
import { afterLandedCheck, startAttempt, startRun, type EndedAttempt, type RunState } from '../../src/run/next-step.js';
import { StderrScanner } from '../../src/borg/words/stderr-scanner.js';

// The landed check (README "What is retried"): which list tells whether a lost create or rename
// landed, how its answer is read, and how the run ends on each answer.

const resolve = (name: string): string | undefined =>
  (({ hostname: 'laptop', user: 'ann', fqdn: 'laptop.lan' }) as Record<string, string>)[name] ?? 'x';

const PLANS: Array<[name: string, argv: string[], major: 1 | 2, version: string, expected: LandedCheck | null]> = [
  [
    'borg 1 create',
    ['create', 'ssh://h/srv/r::a-{now}', '/data'],
    1,
    '1.2.4',
    {
      kind: 'create',
      listArgv: ['list', '--json', '--format', '{hostname}{username}', '--last', '20', 'ssh://h/srv/r'],
      archive: 'a-{now}',
      old: null,
    },
  ],
  [
    'borg 1 create with --rsh and --remote-path',
    ['--rsh', 'ssh -F /c', 'create', '--remote-path', '/opt/borg', 'h:r::a', '/data'],
    1,
    '1.2.4',
    {
      kind: 'create',
      listArgv: [
        '--rsh',
        'ssh -F /c',
        '--remote-path',
        '/opt/borg',
        'list',
        '--json',
        '--format',
        '{hostname}{username}',
        '--last',
        '20',
        'h:r',
      ],
      archive: 'a',
      old: null,
    },
  ],
  [
    'borg 1 create with --rsh=',
    ['--rsh=ssh -F /c', 'create', 'h:r::a', '/data'],
    1,
    '1.2.4',
    {
      kind: 'create',
      listArgv: ['--rsh=ssh -F /c', 'list', '--json', '--format', '{hostname}{username}', '--last', '20', 'h:r'],
      archive: 'a',
      old: null,
    },
  ],
  [
    'borg 1 create ::NAME from BORG_REPO',
    ['create', '::a', '/data'],
    1,
    '1.2.4',
    { kind: 'create', listArgv: ['list', '--json', '--format', '{hostname}{username}', '--last', '20'], archive: 'a', old: null },
  ],
  [
    'borg 1 rename',
    ['rename', 'ssh://h/srv/r::old', 'new'],
    1,
    '1.4.5',
    { kind: 'rename', listArgv: ['list', '--json', 'ssh://h/srv/r'], archive: 'new', old: 'old' },
  ],
  [
    'borg2 b5 create',
    ['create', '-r', 'ssh://h//srv/r', 'a', '/data'],
    2,
    '2.0.0b5',
    {
      kind: 'create',
      listArgv: ['rlist', '--json', '--format', '{hostname}{username}', '--last', '20', '-r', 'ssh://h//srv/r'],
      archive: 'a',
      old: null,
    },
  ],
  [
    // 2.0.0b10 renamed rlist to repo-list (archiver/repo_list_cmd.py add_parser("repo-list")).
    'borg2 b10 create',
    ['create', '-r', 'ssh://h//srv/r', 'a', '/data'],
    2,
    '2.0.0b10',
    {
      kind: 'create',
      listArgv: ['repo-list', '--json', '--format', '{hostname}{username}', '--last', '20', '-r', 'ssh://h//srv/r'],
      archive: 'a',
      old: null,
    },
  ],
  [
    'borg2 b9 create',
    ['create', '-r', 'ssh://h//srv/r', 'a', '/data'],
    2,
    '2.0.0b9',
    {
      kind: 'create',
      listArgv: ['rlist', '--json', '--format', '{hostname}{username}', '--last', '20', '-r', 'ssh://h//srv/r'],
      archive: 'a',
      old: null,
    },
  ],
  [
    'borg2 b25 create',
    ['create', '-r', 'ssh://h//srv/r', 'a', '/data'],
    2,
    '2.0.0b25',
    {
      kind: 'create',
      listArgv: ['repo-list', '--json', '--format', '{hostname}{username}', '--last', '20', '-r', 'ssh://h//srv/r'],
      archive: 'a',
      old: null,
    },
  ],
  [
    'borg2 b25 rename',
    ['rename', '-r', 'ssh://h//srv/r', 'a', 'b'],
    2,
    '2.0.0b25',
    {
      kind: 'rename',
      listArgv: ['repo-list', '--json', '-r', 'ssh://h//srv/r'],
      archive: 'b',
      old: 'a',
    },
  ],
  ['prune makes no archive', ['prune', '--keep-daily', '7', 'ssh://h/srv/r'], 1, '1.2.4', null],
];
for (const [name, argv, major, version, expected] of PLANS) {
  test(`planLandedCheck: ${name}`, () => {
    const line = parseBorgCommandLine(argv, major === 1 ? { BORG_REPO: 'ssh://h/srv/r' } : {}, major, { version });
    assert.deepEqual(planLandedCheck(line, argv, major, version), expected);
  });
}

const PATTERNS: Array<[template: string, name: string, matches: boolean]> = [
  ['a', 'a', true],
  ['a', 'a.checkpoint', false],
  ['a', 'ab', false],
  ['{hostname}-{now}', 'laptop-2026-12-06T06:10:01', true],
  ['{hostname}-{now}', 'other-2026-12-06T06:10:01', false],
  ['{hostname}-{now:%Y-%m-%d}', 'laptop-2026-12-06', true],
  ['{user}@{fqdn} {{x}}', 'ann@laptop.lan {x}', true],
  ['a.b*c', 'a.b*c', true],
  ['a.b*c', 'axb*c', false],
  ['{utcnow}-{uuid4}', '2026-12-06T06:10:01-8c6a0e4e', true],
];
for (const [template, name, matches] of PATTERNS) {
  test(`archivePattern: ${template} ${matches ? 'names' : 'does not name'} ${name}`, () => {
    assert.equal(archivePattern(template, resolve)!.test(name), matches);
  });
}
test('archivePattern: a name borg refuses has no pattern', () => assert.equal(archivePattern('a-{', resolve), null));

const SINCE = Date.parse('2026-12-06T06:10:00');
// [name, start] or [name, start, hostname, username] (borg lists the latter for --format's keys).
const list = (...archives: Array<[string, string] | [string, string, string, string]>): string =>
  JSON.stringify({
    archives: archives.map(([name, start, hostname, username]) => ({
      name,
      archive: name,
      start,
      time: start,
      ...(hostname === undefined ? {} : { hostname, username }),
    })),
  });
const AUTHOR = { hostnames: ['laptop'], usernames: ['ann'] };
// borg2: a series is a name, the same on every machine that backs up into the repository.
const SERIES: LandedCheck = { kind: 'create', listArgv: [], archive: 'home', old: null };
const CREATE: LandedCheck = { kind: 'create', listArgv: [], archive: '{hostname}-{now}', old: null };
const RENAME: LandedCheck = { kind: 'rename', listArgv: [], archive: 'new', old: 'old' };
const READS: Array<[name: string, json: string, check: LandedCheck, expected: ReturnType<typeof readLanded>]> = [
  [
    'the archive, started after the attempt',
    list(['laptop-2026-12-06T06:10:01', '2026-12-06T06:10:01.123456']),
    CREATE,
    { landed: 'laptop-2026-12-06T06:10:01' },
  ],
  [
    "yesterday's archive of the same pattern is not this run's",
    list(['laptop-2026-12-05T06:10:01', '2026-12-05T06:10:01.000000']),
    CREATE,
    { landed: null },
  ],
  [
    'a checkpoint is no landed archive',
    list(['laptop-2026-12-06T06:10:01.checkpoint', '2026-12-06T06:10:01.000000']),
    CREATE,
    { landed: null },
  ],
  ["another host's archive is not this run's", list(['nas-2026-12-06T06:10:01', '2026-12-06T06:10:01.000000']), CREATE, { landed: null }],
  ['borg2 with a UTC offset', list(['laptop-x', '2026-12-06T06:10:01.000000+00:00']), CREATE, { landed: 'laptop-x' }],
  ['a rename that landed', list(['new', '2026-12-01T00:00:00']), RENAME, { landed: 'new' }],
  ['a rename that did not', list(['old', '2026-12-01T00:00:00']), RENAME, { landed: null }],
  ['not JSON', 'Enter passphrase', CREATE, { error: "borg's archive list was not JSON" }],
  ['borg2 series: this machine and user made it', list(['home', '2026-12-06T06:10:01', 'laptop', 'ann']), SERIES, { landed: 'home' }],
  [
    "borg2 series: another machine's archive of the same name, made meanwhile, is not this run's",
    list(['home', '2026-12-06T06:10:01', 'nas', 'ann']),
    SERIES,
    { landed: null },
  ],
  [
    "borg2 series: another user's archive of the same name is not this run's",
    list(['home', '2026-12-06T06:10:01', 'laptop', 'bob']),
    SERIES,
    { landed: null },
  ],
  [
    "borg2 series: this run's archive among others' of the same name",
    list(['home', '2026-12-06T06:10:01', 'nas', 'ann'], ['home', '2026-12-06T06:10:02', 'laptop', 'ann']),
    SERIES,
    { landed: 'home' },
  ],
  ['a rename keeps whoever made the archive', list(['new', '2026-12-01T00:00:00', 'nas', 'bob']), RENAME, { landed: 'new' }],
];
for (const [name, json, check, expected] of READS) {
  test(`readLanded: ${name}`, () => assert.deepEqual(readLanded(json, check, resolve, SINCE, AUTHOR), expected));
}

// getpass.getuser(): LOGNAME, USER, LNAME, USERNAME, the first one set, else the passwd entry; borg
// 1.4 and 2.0.0b25 take BORG_HOSTNAME / BORG_USERNAME first, 1.2 and b5 do not (so both count).
const AUTHORS: Array<[name: string, env: NodeJS.ProcessEnv, expected: { hostnames: string[]; usernames: string[] }]> = [
  ['passwd name', {}, { hostnames: ['laptop'], usernames: ['ann'] }],
  ['LOGNAME first', { USER: 'u', LOGNAME: 'l' }, { hostnames: ['laptop'], usernames: ['l'] }],
  ['USER when LOGNAME is empty', { LOGNAME: '', USER: 'u' }, { hostnames: ['laptop'], usernames: ['u'] }],
  ['LNAME, then USERNAME', { USERNAME: 'n', LNAME: 'x' }, { hostnames: ['laptop'], usernames: ['x'] }],
  [
    'BORG_HOSTNAME and BORG_USERNAME besides',
    { BORG_HOSTNAME: 'h', BORG_USERNAME: 'b', USER: 'u' },
    { hostnames: ['h', 'laptop'], usernames: ['b', 'u'] },
  ],
];
for (const [name, env, expected] of AUTHORS) {
  test(`archiveAuthor: ${name}`, () => assert.deepEqual(archiveAuthor(env, 'laptop.lan', 'ann'), expected));
}

// How the run ends on each answer.
function state(): RunState {
  const plan = {
    borg: { path: '/usr/bin/borg', version: '1.2.4', major: 1 as const, argv: [] },
    repository: { location: 'ssh://h/srv/r', proto: 'ssh', user: null, host: 'h', port: null, path: '/srv/r', archive: 'a' },
    lockWait: { seconds: 60, userGiven: false, userSource: null, attemptSeconds: 10, model: null },
    retry: {
      deadlineSeconds: 60,
      lockTimeouts: true,
      connectionRetries: 3,
      noConnectionRetry: null,
      connectWaitSeconds: 0,
      userCommand: null,
      boundSource: 'model' as const,
      boundSeconds: 240,
      landedCheck: { ...CREATE, archive: 'a' },
    },
    command: ['create'],
    warnings: [],
  };
  return startAttempt(startRun(plan, { env: {}, home: '/root' }, 0), 0);
}
function lost(): EndedAttempt {
  const scanner = new StderrScanner();
  scanner.feed(Buffer.from('Remote: Timeout, server h not responding.\nConnection closed by remote host\n'));
  return { exitCode: 2, findings: scanner.end(), durationMs: 3000, stopped: false, random: 0.5 };
}
test('afterLandedCheck: landed -> done, exit 0, one line saying so', () => {
  const { step } = afterLandedCheck(state(), { landed: 'a' }, lost(), 5000);
  assert.equal(step.next, 'done');
  assert.equal(step.next === 'done' && step.exitCode, 0);
  assert.deepEqual(
    step.after.map((l) => l.text),
    [
      "the archive a had landed before the connection was lost (the repository's archive list shows it): not running borg again; exit 0, as the clean run",
    ],
  );
});
test('afterLandedCheck: not landed -> the retry goes ahead at once', () => {
  const { step } = afterLandedCheck(state(), { landed: null }, lost(), 5000);
  assert.deepEqual([step.next, step.next === 'retry' && step.delayMs, step.after.length], ['retry', 0, 0]);
});
test("afterLandedCheck: the check failed -> borg's error stands, and why", () => {
  const { step } = afterLandedCheck(state(), { error: 'Connection closed by remote host' }, lost(), 5000);
  assert.equal(step.next === 'done' && step.exitCode, 2);
  assert.deepEqual(
    step.after.map((l) => `${l.level}: ${l.text}`),
    ['WARNING: not retrying the lost connection: could not find out whether the archive a landed (Connection closed by remote host)'],
  );
});
test('afterLandedCheck: the old lock outlived the wait -> tborg gives up as on a lock timeout, with its explanation', () => {
  const { step } = afterLandedCheck(state(), { locked: '/srv/r/lock.exclusive' }, lost(), 45_000);
  assert.equal(step.next, 'give-up');
  assert.equal(step.next === 'give-up' && step.exitCode, 2);
  assert.match(
    step.after[0]!.text,
    /^gave up after waiting 45s over 1 attempt: the repository lock \/srv\/r\/lock.exclusive on h is still held\.$/,
  );
});
