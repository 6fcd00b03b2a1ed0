import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandFacts } from '../../src/borg/command-facts.js';
import type { CommandWords } from '../../src/borg/command-spec.js';
import { connectionRetryRefusal, environmentRetryRefusal } from '../../src/borg/connection-retry.js';
import { StderrScanner } from '../../src/borg/words/stderr-scanner.js';
import type { LockWaitModel } from '../../src/plan/lock-wait.js';
import type { Plan } from '../../src/plan/plan.js';
import type { PlanWarning } from '../../src/plan/plan-warnings.js';
import { nextStep, startAttempt, startRun, type EndedAttempt, type RunState, type Step } from '../../src/run/next-step.js';
import { describeWait, HOLDS_LOCK_MARGIN_MS } from '../../src/run/wait-status.js';
import { RETRY_DEFAULTS } from '../helpers/plan-retry.js';

// The retry policy as a table (as antfu/ni tests its builders): the run's state and the attempt that
// just ended go in, "done", "retry in N ms" or "give up" and tborg's lines come out. The clock starts
// at 0 and every pause's jitter draw is 0.5: a retry after a waited-out lock wait pauses 150 ms
// (backoff.ts HANDOFF_JITTER_MS / 2), quick failures 750, 1500, 3000 ms (equal jitter on 1, 2, 4 s).

const SERVE: LockWaitModel = {
  kind: 'serve',
  why: 'w',
  clientBound: 20,
  serverBound: 40,
  margin: 20,
  seconds: 60,
  formula: 'f',
  serverAlive: { interval: 10, countMax: 30 },
  tcpKeepaliveFallback: false,
};
const STORE: LockWaitModel = {
  kind: 'store',
  why: 'w',
  clientBound: 120,
  serverBound: 1800,
  margin: 60,
  seconds: 1860,
  formula: 'f',
  serverAlive: null,
  tcpKeepaliveFallback: false,
};
const REPO = { location: 'ssh://h/srv/r', proto: 'ssh', user: null, host: 'h', port: null, path: '/srv/r', archive: null };
const SHORT_WAIT: PlanWarning = {
  kind: 'short-lock-wait',
  text: '--lock-wait 60 is shorter than the 10m40s ...',
  onRun: false,
  onWait: true,
};

type RetryRules = Plan['retry'];
// A borg 1.x create over ssh with tborg's 60 s wait in 10 s attempts, changed per row.
interface Given {
  retry?: Partial<RetryRules>;
  lockWait?: Partial<Plan['lockWait']>;
  borg2?: true;
  local?: true;
  command?: string[];
  warnings?: Plan['warnings'];
  env?: NodeJS.ProcessEnv;
  // The state as the attempt that just ended left it (startAttempt ran once unless given).
  state?: Partial<RunState>;
}

function given(g: Given = {}): RunState {
  const plan: RunState['plan'] = {
    borg: g.borg2
      ? { path: '/usr/bin/borg', version: '2.0.0b25', major: 2, argv: [] }
      : { path: '/usr/bin/borg', version: '1.2.4', major: 1, argv: [] },
    repository: g.local ? { ...REPO, location: '/srv/r', proto: 'file', host: null } : REPO,
    lockWait: { seconds: 60, userGiven: false, userSource: null, attemptSeconds: 10, model: g.borg2 ? STORE : SERVE, ...g.lockWait },
    retry: {
      ...RETRY_DEFAULTS,
      ...g.retry,
    },
    command: g.command ?? ['create'],
    warnings: g.warnings ?? [],
  };
  return { ...startAttempt(startRun(plan, { env: g.env ?? {}, home: '/home/u' }, 0), 0), ...g.state };
}

// borg's stderr and exit code; `seconds`: how long the attempt ran.
function ended(rc: number, stderr: string, seconds: number, stopped = false): EndedAttempt {
  const scanner = new StderrScanner();
  scanner.feed(Buffer.from(stderr));
  return { exitCode: rc, findings: scanner.end(), durationMs: seconds * 1000, stopped, random: 0.5 };
}
const HINT = 'Connection closed by remote host. Is borg working on the server?';
const lock = (seconds: number, path = '/srv/r/lock.exclusive'): EndedAttempt =>
  ended(2, `Failed to create/acquire the lock ${path} (timeout).\n`, seconds);
const storeLock = (seconds: number): EndedAttempt =>
  ended(
    73,
    'Failed to create/acquire the lock ssh://h//srv/r (timeout). Repository is locked by: shared lock on host x@1, pid 9, age 12m.\n',
    seconds,
  );
const lost = (rc = 2): EndedAttempt => ended(rc, 'Remote: Timeout, server h not responding.\nConnection closed by remote host\n', 3);
const refused = (): EndedAttempt => ended(2, `Remote: ssh: connect to host h port 22: Connection refused\n${HINT}\n`, 1);
const hintOnly = (): EndedAttempt => ended(2, `${HINT}\n`, 1);
const probed = (attempt: EndedAttempt, open: boolean): EndedAttempt => ({
  ...attempt,
  probe: open ? { open, detail: 'connect to host h port 22' } : { open, detail: PROBE_REFUSED },
});
const PROBE_REFUSED = 'connect to host h port 22: Connection refused';
const MAX_WAIT_90: Partial<RetryRules> = { deadlineSeconds: 90, boundSource: '--tborg-max-wait', boundSeconds: 90 };
const LOCK_WAIT_60: Partial<RetryRules> = { deadlineSeconds: 60, boundSource: '--lock-wait', boundSeconds: 60 };
const CACHE_LOCK = '/home/u/.cache/borg/0123abcd/lock.exclusive';

// How a row writes the step: its decision, then tborg's lines in order, with BORG where borg's own
// held-back lock message is passed on.
const BORG = "borg's message";
function decision(step: Step): string {
  return step.next === 'retry' ? `retry in ${step.delayMs} ms (${step.wait})` : `${step.next} ${step.exitCode}`;
}
function lines(step: Step): string[] {
  const line = (l: { text: string; level: string }): string => `${l.level}: ${l.text}`;
  return [...step.before.map(line), ...(step.showHeld ? [BORG] : []), ...step.after.map(line)];
}

// A non-retryable command line (connection-retry.ts): the reason the plan carries.
function refusal(
  command: string,
  options: Record<string, string | null> = {},
  positionals: Record<string, string[]> = {},
  consumesStdin: string | null = null,
): string {
  const words: CommandWords = {
    command,
    major: 1,
    options: new Map(Object.entries(options)),
    positionals: new Map(Object.entries(positionals)),
    consumesStdin,
  };
  return mustRefuse(connectionRetryRefusal(words, commandFacts(1, null, command.split(' '))?.retry), command);
}
function mustRefuse(reason: string | null, what: string): string {
  assert.ok(reason, `${what} is expected not to be retried`);
  return reason;
}

// Command lines that must not run twice after a lost connection, with connection-retry.ts's reason.
const REFUSED: Array<[what: string, reason: string]> = [
  ['list', refusal('list')],
  ['extract --stdout', refusal('extract', { '--stdout': null })],
  ['create --content-from-command', refusal('create', { '--content-from-command': null })],
  ['create - (stdin)', refusal('create', {}, {}, 'create -')],
  ['create --json', refusal('create', { '--json': null })],
  ['with-lock', refusal('with-lock')],
  ['check --repair', refusal('check', { '--repair': null })],
  ['init', refusal('init')],
  ['a command tborg does not know', refusal('frobnicate')],
  ['BORG_PASSPHRASE_FD', mustRefuse(environmentRetryRefusal({ BORG_PASSPHRASE_FD: '3' }), 'BORG_PASSPHRASE_FD')],
];

type Row = [
  name: string,
  state: Given,
  attempt: EndedAttempt,
  atSeconds: number,
  expected: string,
  said: Array<string | RegExp>,
  then?: Partial<RunState>,
];
const GIVE_UP_HOST =
  /^ERROR: gave up after waiting 1m0s over 6 attempts: the repository lock \/srv\/r\/lock.exclusive on h is still held\.$/;
const GIVE_UP_CAUSES = /^ERROR: Usual causes: .*ClientAlive 10x30\), or another client's long job\.$/;
const GIVE_UP_NEXT = /^ERROR: Next: tborg doctor ssh:\/\/h\/srv\/r; .*\(pgrep -af 'borg serve' on h\)\.$/;
const STORE_RULE = (blocker: string, total: string): RegExp =>
  new RegExp(
    `^INFO: ssh://h/srv/r is locked: ${blocker.replace(/[().]/g, '\\$&')}\\. borg2 keeps a vanished client's lock in the repository until it is 30m0s old; tborg waits up to ${total} for it`,
  );

const rows: Row[] = [
  // borg's own answer stands.
  ['success', {}, ended(0, '', 5), 5, 'done 0', [BORG]],
  ["a warning (rc 1) is borg's success", {}, ended(1, 'file changed while we backed it up\n', 5), 5, 'done 1', [BORG]],
  ['a wrong passphrase is never retried', {}, ended(2, 'passphrase supplied in BORG_PASSPHRASE is incorrect.\n', 1), 1, 'done 2', [BORG]],
  [
    'Ctrl-C (rc 2, "Got Ctrl-C") is not a lock problem',
    {},
    ended(2, 'Got Ctrl-C / SIGINT.\nFailed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n', 4),
    4,
    'done 2',
    [BORG],
  ],
  [
    'stopped by a signal during a lock timeout: no further attempt',
    {},
    ended(2, 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n', 10, true),
    10,
    'done 2',
    [BORG],
  ],
  ['stopped by a signal: borg died of it (143)', {}, ended(143, '', 3, true), 3, 'done 143', [BORG]],
  [
    "a lock timeout with the user's --lock-wait: not tborg's to retry",
    { retry: { lockTimeouts: false, connectionRetries: 0 }, lockWait: { userGiven: true, attemptSeconds: null } },
    lock(10),
    10,
    'done 2',
    [BORG],
  ],
  ["an unknown rc 74 is borg's own answer", {}, ended(74, 'Some other error\n', 2), 2, 'done 74', [BORG]],

  // Lock timeouts: retried until the deadline; borg's message of a retried attempt is dropped.
  [
    'lock timeout after waiting out its lock wait: next attempt almost at once',
    {},
    lock(10),
    10,
    'retry in 150 ms (lock)',
    [],
    { lockRetries: 1, lockWaitMs: 10_150, quickFailures: 0 },
  ],
  [
    'borg2 modern exit code 73',
    { borg2: true, lockWait: { model: SERVE } },
    ended(73, 'Failed to create/acquire the lock /srv/r/lock (timeout).\n', 10),
    10,
    'retry in 150 ms (lock)',
    [],
  ],
  ['a quick lock failure backs off (1st in a row)', {}, lock(0.2), 0.2, 'retry in 750 ms (lock)', [], { quickFailures: 1 }],
  [
    'a quick lock failure backs off (3rd in a row)',
    { state: { quickFailures: 2 } },
    lock(0.2),
    0.2,
    'retry in 3000 ms (lock)',
    [],
    { quickFailures: 3 },
  ],
  [
    'a waited-out lock wait ends a run of quick failures',
    { state: { quickFailures: 4 } },
    lock(10),
    10,
    'retry in 150 ms (lock)',
    [],
    { quickFailures: 0 },
  ],
  ['the start-up beyond --lock-wait is measured', {}, lock(11.5), 11.5, 'retry in 150 ms (lock)', [], { overheadMs: 1500 }],
  // 11 s for a 10 s lock wait: 1 s of start-up, which the next attempt needs too.
  [
    'deadline fit: exactly 1 s of lock wait still fits (60 - 57.85 - 0.15 pause - 1 start-up)',
    { state: { attempts: 6 } },
    lock(11),
    57.85,
    'retry in 150 ms (lock)',
    [],
  ],
  [
    'deadline fit: 1 ms less does not: give up now rather than start an attempt that cannot end in time',
    { state: { attempts: 6 } },
    lock(11),
    57.851,
    'give-up 2',
    [BORG, /^ERROR: gave up after waiting 58s over 6 attempts/, GIVE_UP_CAUSES, GIVE_UP_NEXT],
  ],
  [
    "deadline reached: give up with borg's error and tborg's explanation",
    { state: { attempts: 6 } },
    lock(10),
    60,
    'give-up 2',
    [BORG, GIVE_UP_HOST, GIVE_UP_CAUSES, GIVE_UP_NEXT],
    { lockRetries: 1 },
  ],
  [
    'past the deadline by one poll: still the same give-up',
    { state: { attempts: 6 } },
    lock(10),
    64,
    'give-up 2',
    [BORG, /^ERROR: gave up after waiting 1m4s over 6 attempts/, GIVE_UP_CAUSES, GIVE_UP_NEXT],
  ],
  [
    "a local repository's lock: no host, no ClientAlive",
    { local: true, lockWait: { model: null }, state: { attempts: 6 } },
    lock(10, '/srv/r/lock.exclusive'),
    60,
    'give-up 2',
    [
      BORG,
      /^ERROR: gave up after .*: the repository lock \/srv\/r\/lock.exclusive is still held\.$/,
      /ClientAlive not set\), /,
      /is safe only when no borg process uses the repository\.$/,
    ],
  ],

  // The local cache lock: another borg on this machine.
  [
    'the cache lock at the first attempt: said once',
    {},
    lock(10, CACHE_LOCK),
    10,
    'retry in 150 ms (lock)',
    [`INFO: the local cache lock ${CACHE_LOCK} is held by another borg on this machine; waiting`],
  ],
  ['the cache lock at a later attempt: nothing more', { state: { attempts: 3 } }, lock(10, CACHE_LOCK), 30, 'retry in 150 ms (lock)', []],
  [
    'the cache lock under BORG_CACHE_DIR',
    { env: { BORG_CACHE_DIR: '/var/cache/b' } },
    lock(10, '/var/cache/b/0123/lock.exclusive'),
    10,
    'retry in 150 ms (lock)',
    [/^INFO: the local cache lock \/var\/cache\/b\/0123\/lock.exclusive is held by another borg/],
  ],
  [
    'giving up on the cache lock: pgrep, not the server',
    { state: { attempts: 6 } },
    lock(10, CACHE_LOCK),
    60,
    'give-up 2',
    [
      BORG,
      /^ERROR: gave up .*: the local cache lock .* is held by another borg on this machine, not by the server\.$/,
      /^ERROR: Find it with: pgrep -af borg\./,
    ],
  ],

  // A short --lock-wait of the user's: mentioned only once a run had to wait, once.
  [
    "the first wait shows the plan's wait warnings",
    { warnings: [SHORT_WAIT] },
    lock(10),
    10,
    'retry in 150 ms (lock)',
    [`warn: ${SHORT_WAIT.text}`],
    { waitWarned: true },
  ],
  [
    'a later wait does not repeat them',
    { warnings: [SHORT_WAIT], state: { waitWarned: true } },
    lock(10),
    20,
    'retry in 150 ms (lock)',
    [],
  ],
  [
    'a lost connection is a wait too',
    { warnings: [SHORT_WAIT] },
    lost(),
    3,
    'retry in 750 ms (connection)',
    [`warn: ${SHORT_WAIT.text}`, /^WARNING: the connection to h was lost/, BORG],
  ],
  ['a run without a wait says nothing', { warnings: [SHORT_WAIT] }, ended(0, '', 5), 5, 'done 0', [BORG]],

  // borg2 store locks: the 30-minute rule, said once.
  [
    'store lock, first attempt: why the wait can be half an hour (check: any lock blocks it)',
    { borg2: true, command: ['check'], retry: { deadlineSeconds: 1860 } },
    storeLock(10),
    10,
    'retry in 150 ms (lock)',
    [STORE_RULE('another client holds a lock on it', '31m0s')],
    { storeLockSaid: true },
  ],
  [
    'store lock, first attempt of a create: only an exclusive lock blocks it',
    { borg2: true, retry: { deadlineSeconds: 1860 } },
    storeLock(10),
    10,
    'retry in 150 ms (lock)',
    [STORE_RULE('another client holds its exclusive lock (check, compact, ...)', '31m0s')],
  ],
  [
    'store lock, later attempt: said already',
    { borg2: true, retry: { deadlineSeconds: 1860 }, state: { attempts: 2, attemptLockWait: 60, storeLockSaid: true } },
    storeLock(60),
    70,
    'retry in 150 ms (lock)',
    [],
  ],
  [
    'store lock, given up before it was said (--tborg-max-wait 8): said, then the give-up',
    { borg2: true, retry: { deadlineSeconds: 8 } },
    storeLock(8),
    8,
    'give-up 73',
    [
      BORG,
      STORE_RULE('another client holds its exclusive lock (check, compact, ...)', '8s'),
      /^ERROR: gave up after waiting 8s over 1 attempt: /,
      /ClientAlive not set/,
      /^ERROR: Next: /,
    ],
  ],
  [
    'store lock, given up after it was said: the give-up alone',
    { borg2: true, retry: { deadlineSeconds: 1860 }, state: { attempts: 31, storeLockSaid: true } },
    storeLock(60),
    1860,
    'give-up 73',
    [BORG, /^ERROR: gave up after waiting 31m0s over 31 attempts/, /^ERROR: Usual causes/, /^ERROR: Next: /],
  ],

  // Lost connections: retried a bounded number of times; the wait restarts to cover the server bound.
  [
    'lost connection, 1st of 3',
    {},
    lost(),
    3,
    'retry in 750 ms (connection)',
    ['WARNING: the connection to h was lost; retrying (1 of 3), allowing up to 1m0s for the server to release the old lock', BORG],
    { connectionFailures: 1, quickFailures: 1, deadline: 63_000 },
  ],
  [
    'lost connection, 3rd of 3: the back-off grows',
    { state: { connectionFailures: 2, quickFailures: 2 } },
    lost(),
    20,
    'retry in 3000 ms (connection)',
    [/retrying \(3 of 3\)/, BORG],
  ],
  ["lost connection, retries spent: borg's error stands", { state: { connectionFailures: 3 } }, lost(), 30, 'done 2', [BORG]],
  [
    'lost connection after the lock wait was spent: the wait starts over',
    { state: { attempts: 5 } },
    lost(),
    58,
    'retry in 750 ms (connection)',
    [/retrying \(1 of 3\)/, BORG],
    { deadline: 118_000 },
  ],
  ['lost connection, modern exit code 80', {}, lost(80), 3, 'retry in 750 ms (connection)', [/retrying \(1 of 3\)/, BORG]],
  [
    "lost connection to a store: the old lock is this machine's",
    { borg2: true, retry: { deadlineSeconds: 1860 } },
    lost(),
    3,
    'retry in 750 ms (connection)',
    [
      "WARNING: the connection to h was lost; retrying (1 of 3), the lost attempt's lock is this machine's and goes at once; another client's can last up to 31m0s",
      BORG,
    ],
  ],
  ['a local repository has no connection to lose', { local: true }, lost(), 3, 'done 2', [BORG]],
  // A bound of the user's bounds the whole wait: a lost connection gets what is left of it.
  [
    'lost connection under --tborg-max-wait 90: what is left of the 90 s, not the server bound',
    { retry: MAX_WAIT_90, state: { lockWaitMs: 30_000 } },
    lost(),
    200,
    'retry in 750 ms (connection)',
    ['WARNING: the connection to h was lost; retrying (1 of 3), waiting at most 1m0s more (--tborg-max-wait)', BORG],
    { connectionFailures: 1, deadline: 260_000 },
  ],
  [
    'lost connection under --tborg-max-wait 90, nothing waited yet: 90 s',
    { retry: MAX_WAIT_90 },
    lost(),
    3,
    'retry in 750 ms (connection)',
    [/waiting at most 1m30s more \(--tborg-max-wait\)$/, BORG],
    { deadline: 93_000 },
  ],
  [
    "lost connection when the 90 s are spent: borg's error stands, and why",
    { retry: MAX_WAIT_90, state: { lockWaitMs: 90_000 } },
    lost(),
    300,
    'done 2',
    [BORG, 'WARNING: not retrying the lost connection: the 1m30s wait (--tborg-max-wait) is spent'],
  ],
  [
    "lost connection with the user's --lock-wait 60, nothing waited: one more attempt fits",
    { retry: LOCK_WAIT_60, lockWait: { userGiven: true, seconds: 60, attemptSeconds: null, userSource: '--lock-wait' } },
    lost(),
    3,
    'retry in 750 ms (connection)',
    [/waiting at most 1m0s more \(--lock-wait\)$/, BORG],
    { deadline: 63_000 },
  ],
  [
    "lost connection with the user's --lock-wait 60 after 20 s of waiting: another 60 s attempt does not fit",
    {
      retry: LOCK_WAIT_60,
      lockWait: { userGiven: true, seconds: 60, attemptSeconds: null, userSource: '--lock-wait' },
      state: { lockWaitMs: 20_000 },
    },
    lost(),
    100,
    'done 2',
    [
      BORG,
      'WARNING: not retrying the lost connection: another attempt could wait its whole --lock-wait 60 for the lock, past the 1m0s wait (--lock-wait)',
    ],
  ],

  // Commands that must not run twice (connection-retry.ts): borg's error, then one line of tborg's.
  ...REFUSED.map(
    ([what, reason]): Row => [
      `not retried: ${what}`,
      { retry: { connectionRetries: 0, noConnectionRetry: reason } },
      lost(),
      3,
      'done 2',
      [BORG, `WARNING: not retrying the lost connection: ${reason}`],
    ],
  ),

  // The connect wait: under cron (15 min) an unreachable server is waited for; on a terminal (0) not.
  [
    'cron: an unreachable server is waited for',
    { retry: { connectWaitSeconds: 900 } },
    refused(),
    1,
    'retry in 750 ms (unreachable)',
    [
      'INFO: cannot reach h (ssh: connect to host h port 22: Connection refused); retrying in 1s, 1s of 15m0s waited (--tborg-connect-wait), attempt 2',
    ],
    { deadline: 61_000, connect: { reached: false, unreachableInARow: 1, ambiguous: 0, retries: 1 } },
  ],
  [
    'cron: the 3rd unreachable attempt in a row waits longer',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 2, ambiguous: 0, retries: 2 } } },
    refused(),
    4,
    'retry in 3000 ms (unreachable)',
    [/retrying in 3s, 4s of 15m0s waited \(--tborg-connect-wait\), attempt 4$/],
  ],
  ["on a terminal: borg's error at once", { retry: { connectWaitSeconds: 0 } }, refused(), 1, 'done 2', [BORG]],
  [
    'cron: the connect wait is spent',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 30, ambiguous: 0, retries: 30 } } },
    refused(),
    901,
    'give-up 2',
    [BORG, 'INFO: gave up: h could not be reached within 15m0s (--tborg-connect-wait), over 31 attempts'],
  ],
  [
    'cron: once the server was reached, a refused connection is not "at start"',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: true, unreachableInARow: 0, ambiguous: 0, retries: 0 } } },
    refused(),
    1,
    'done 2',
    [BORG],
  ],
  [
    'cron: a server that answered (a wrong key) is never waited for',
    { retry: { connectWaitSeconds: 900 } },
    ended(2, `Remote: u@h: Permission denied (publickey).\n${HINT}\n`, 1),
    1,
    'done 2',
    [BORG],
    { connect: { reached: true, unreachableInARow: 0, ambiguous: 0, retries: 0 } },
  ],
  [
    "cron: borg's hint alone is looked at again",
    { retry: { connectWaitSeconds: 900 } },
    hintOnly(),
    1,
    'retry in 750 ms (unreachable)',
    [/^INFO: cannot reach h \(the connection closed before borg answered\); retrying in 1s/],
  ],
  // Without a probe (a ProxyJump in the way) the hint alone is looked at again, up to 5 times in a
  // row; then tborg stops waiting and says so.
  [
    'cron, no probe: the hint alone a third time in a row is looked at again',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 2, ambiguous: 2, retries: 2 } } },
    hintOnly(),
    5,
    'retry in 3000 ms (unreachable)',
    [/^INFO: cannot reach h \(the connection closed before borg answered\)/],
  ],
  [
    'cron, no probe: the hint alone a sixth time in a row: stopped, and said',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 5, ambiguous: 5, retries: 5 } } },
    hintOnly(),
    40,
    'give-up 2',
    [
      BORG,
      /^INFO: stopped waiting for h after 40s: borg said only "Connection closed by remote host\. Is borg working on the server\?" 6 times in a row and tborg cannot probe h/,
    ],
  ],
  // With the probe: borg's words are not needed to know that the server cannot be reached.
  [
    'cron: the hint alone and the probe refused: unreachable, waited for',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 5, ambiguous: 0, retries: 5 } } },
    probed(hintOnly(), false),
    40,
    'retry in 22500 ms (unreachable)',
    [
      `INFO: cannot reach h (${PROBE_REFUSED} (tborg's probe; borg relayed no reason)); retrying in 23s, 40s of 15m0s waited (--tborg-connect-wait), attempt 7`,
    ],
    { connect: { reached: false, unreachableInARow: 6, ambiguous: 0, retries: 6 } },
  ],
  [
    'cron: the probe refused, however many hints in a row',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 9, ambiguous: 0, retries: 9 } } },
    probed(hintOnly(), false),
    100,
    'retry in 22500 ms (unreachable)',
    [/tborg's probe/],
  ],
  // A forced command /bin/false (or any server whose borg serve does not start): the server answered.
  [
    "cron: the hint alone at the first attempt and the port answered: the server's answer, not retried",
    { retry: { connectWaitSeconds: 900 } },
    probed(hintOnly(), true),
    1,
    'done 2',
    [BORG],
    { connect: { reached: true, unreachableInARow: 0, ambiguous: 0, retries: 0 } },
  ],
  [
    'cron: the port answered right after it was unreachable: sshd may be starting, one more look',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 3, ambiguous: 0, retries: 3 } } },
    probed(hintOnly(), true),
    9,
    'retry in 6000 ms (unreachable)',
    [/^INFO: cannot reach h \(the server began to answer but closed the connection; looking again\)/],
  ],
  [
    'cron: the port answered again: stopped waiting, and said why',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 4, ambiguous: 1, retries: 4 } } },
    probed(hintOnly(), true),
    12,
    'give-up 2',
    [BORG, "INFO: stopped waiting for h after 12s: it answered on h port 22, but borg serve did not start (borg's message above)"],
  ],
  [
    'cron: a wrong key after waiting: stopped waiting, and said why',
    { retry: { connectWaitSeconds: 900 }, state: { connect: { reached: false, unreachableInARow: 2, ambiguous: 0, retries: 2 } } },
    ended(2, `Remote: u@h: Permission denied (publickey).\n${HINT}\n`, 1),
    5,
    'give-up 2',
    [BORG, /^INFO: stopped waiting for h after 5s: it answered \(borg's message above\)/],
  ],
  [
    'cron: a lock timeout is past the handshake (reached), then retried as a lock',
    { retry: { connectWaitSeconds: 900 } },
    lock(10),
    10,
    'retry in 150 ms (lock)',
    [],
    { connect: { reached: true, unreachableInARow: 0, ambiguous: 0, retries: 0 } },
  ],
];

for (const [name, g, attempt, atSeconds, expected, said, then] of rows) {
  test(`nextStep: ${name}`, () => {
    const { step, state } = nextStep(given(g), attempt, atSeconds * 1000);
    assert.equal(decision(step), expected);
    const actual = lines(step);
    assert.equal(actual.length, said.length, actual.join('\n'));
    for (const [i, want] of said.entries()) {
      if (typeof want === 'string') assert.equal(actual[i], want);
      else assert.match(actual[i]!, want);
    }
    // The state fields the row names have the row's values.
    assert.deepEqual({ ...state, ...then }, state);
  });
}

// The --lock-wait each attempt gets: the plan's first, later ones fitted to what is left of the
// deadline, start-up included (lock-wait.ts attemptLockWait).
const fits: Array<[name: string, g: Given, atSeconds: number, expected: number | null]> = [
  ["the first attempt: the plan's", { state: { attempts: 0 } }, 0, 10],
  ["the user's own --lock-wait: none added", { lockWait: { userGiven: true, attemptSeconds: null }, state: { attempts: 0 } }, 0, null],
  ["a later attempt with time left: borg 1.x's step", {}, 20, 10],
  ['13 s left: folded into one attempt rather than a 3 s tail', {}, 47, 13],
  ['start-up is taken off what is left', { state: { overheadMs: 2000 } }, 50, 8],
  ['nothing left: 1 s, the least borg takes', {}, 70, 1],
  ["a store lock's later attempts are 60 s", { borg2: true, retry: { deadlineSeconds: 1860 } }, 100, 60],
];
for (const [name, g, atSeconds, expected] of fits) {
  test(`startAttempt: ${name}`, () => {
    const state = startAttempt(given(g), atSeconds * 1000);
    assert.equal(state.attemptLockWait, expected);
    assert.equal(state.attempts, (g.state?.attempts ?? 1) + 1);
  });
}

// The spinner stays honest: it stops saying "waiting" once an attempt outlived its lock wait plus a
// margin (it has the lock and does the work), and its elapsed time never exceeds the total.
const view = {
  target: 'ssh://h/srv/r',
  start: 0,
  deadline: 60_000,
  attempts: 2,
  running: true,
  attemptStart: 20_000,
  attemptWaitMs: 10_000,
  overheadMs: 0,
};
const spinner: Array<[name: string, changes: Partial<typeof view>, nowMs: number, expected: string | null]> = [
  [
    "between attempts: the next attempt's number",
    { running: false },
    20_000,
    'waiting for the lock on ssh://h/srv/r, 20s of 1m0s, attempt 3',
  ],
  ['an attempt just started', {}, 20_000, 'waiting for the lock on ssh://h/srv/r, 20s of 1m0s, attempt 2'],
  [
    'within its lock wait and the margin',
    {},
    20_000 + 10_000 + HOLDS_LOCK_MARGIN_MS,
    'waiting for the lock on ssh://h/srv/r, 35s of 1m0s, attempt 2',
  ],
  ['past its lock wait and the margin: it holds the lock', {}, 20_000 + 10_000 + HOLDS_LOCK_MARGIN_MS + 1, null],
  [
    'a slow start-up widens the margin to twice the overhead',
    { overheadMs: 4000 },
    20_000 + 10_000 + 8000,
    'waiting for the lock on ssh://h/srv/r, 38s of 1m0s, attempt 2',
  ],
  ['past twice the overhead', { overheadMs: 4000 }, 20_000 + 10_000 + 8001, null],
  ['elapsed never exceeds the total', { running: false }, 75_000, 'waiting for the lock on ssh://h/srv/r, 1m0s of 1m0s, attempt 3'],
];
for (const [name, changes, nowMs, expected] of spinner) {
  test(`describeWait: ${name}`, () => assert.equal(describeWait({ ...view, ...changes }, nowMs), expected));
}
