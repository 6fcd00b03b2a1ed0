import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckStatus } from '../../src/guide/doctor/check.js';
import { describeAge, interpretRepositoryProbe } from '../../src/guide/doctor/repository-probe.js';
import { interpretServerProbe } from '../../src/guide/doctor/server-probe.js';
import type { BufferedChildResult } from '../../src/process/buffered-child.js';
import { LIST_JSON, probe } from '../helpers/doctor-fixtures.js';

// What ssh and borg said to doctor's two probes: borg 1.2.4's and OpenSSH 9.2's own messages, as
// measured in the lab, and what each check makes of them.

const serverCtx = { host: 'lab', remotePath: 'borg', localMajor: 1 as const, timeoutSeconds: 30 };

describe('the server probe (ssh HOST borg --version)', () => {
  const cases: Array<[string, Partial<BufferedChildResult>, CheckStatus, RegExp]> = [
    ['borg answers', { stdout: 'borg 1.2.4\n' }, 'ok', /^reachable in 0\.4 s; the server runs borg 1\.2\.4 \(borg\)$/],
    ['a borg2 binary answers', { stdout: 'borg2 2.0.0b5\n' }, 'warn', /the server runs borg 2\.0\.0b5, this borg is 1\.x/],
    [
      'refused',
      { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n' },
      'fail',
      /^cannot reach lab: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused$/,
    ],
    [
      'black-holed',
      { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 2222: Connection timed out\r\n' },
      'fail',
      /^cannot reach lab: .*Connection timed out$/,
    ],
    [
      'unknown name',
      { exitCode: 255, stderr: 'ssh: Could not resolve hostname nope: Name or service not known\r\n' },
      'fail',
      /^cannot reach lab: ssh: Could not resolve hostname/,
    ],
    [
      'no key',
      { exitCode: 255, stderr: 'root@127.0.0.1: Permission denied (publickey).\r\n' },
      'fail',
      /^cannot log in to lab without a prompt \(BatchMode\)/,
    ],
    [
      'unknown host key',
      {
        exitCode: 255,
        stderr:
          'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n',
      },
      'fail',
      /host key is not known or has changed/,
    ],
    ['no answer in time', { exitCode: null, timedOut: true }, 'fail', /^no answer from lab within 30 s$/],
    [
      'no borg there',
      { exitCode: 127, stderr: 'bash: line 1: borg: command not found\n' },
      'fail',
      /^reachable, but the server has no borg: bash: line 1: borg: command not found; give --remote-path/,
    ],
    [
      'a forced command that is not borg serve',
      { stdout: 'hi\n' },
      'ok',
      /^reachable in 0\.4 s; remote command restricted \(forced command\?\): `borg --version` answered "hi"; which borg runs there is unknown$/,
    ],
    ['a forced command that prints nothing', { stdout: '', exitCode: 1 }, 'ok', /remote command restricted .*printed nothing, exit 1/],
    ['ssh missing', { exitCode: null, spawnError: 'spawn ssh ENOENT' }, 'fail', /^cannot run ssh: spawn ssh ENOENT$/],
    [
      'a known-hosts notice is noise',
      { stdout: 'borg 1.2.4\n', stderr: "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\r\n" },
      'ok',
      /runs borg 1\.2\.4/,
    ],
  ];
  for (const [name, over, status, detail] of cases) {
    test(name, () => {
      const check = interpretServerProbe(probe(over), serverCtx);
      assert.equal(check.name, 'server');
      assert.equal(check.status, status, check.detail);
      assert.match(check.detail, detail);
    });
  }
  test('borg 2 locally, borg 1 there: hint at --remote-path', () => {
    const check = interpretServerProbe(probe({ stdout: 'borg 1.2.4\n' }), { ...serverCtx, localMajor: 2 });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /borg 2 needs a borg 2 server: --remote-path/);
  });
});

const repoCtx = {
  command: 'borg list',
  env: { BORG_CACHE_DIR: '/home/u/.cache/borg' },
  home: '/home/u',
  timeoutSeconds: 60,
  now: new Date('2026-11-26T06:00:00Z'),
};

describe('the repository probe (borg list --json --last 1 --lock-wait 5)', () => {
  const cases: Array<[string, Partial<BufferedChildResult>, CheckStatus, RegExp, CheckStatus, RegExp]> = [
    [
      'opens',
      { stdout: LIST_JSON },
      'ok',
      /^opens \(encryption repokey, 0\.4 s\); newest archive host-2026-11-26 from 2026-11-26T03:00:00 \(\d+ h ago\)$/,
      'ok',
      /^not locked: borg list got its lock \(readers/,
    ],
    // borg2 2.0.0b25's repo-list --json, as printed in the lab (sid root).
    [
      'borg2 b25 names the mode "encryption"',
      {
        stdout: JSON.stringify({
          archives: [],
          encryption: { encryption: 'authenticated-sha256', id_hash: 'sha256' },
          repository: { id: 'x', location: '/tmp/r' },
        }),
      },
      'ok',
      /^opens \(encryption authenticated-sha256, 0\.4 s\); no archives yet$/,
      'ok',
      /not locked/,
    ],
    [
      'empty',
      { stdout: JSON.stringify({ archives: [], encryption: { mode: 'none' }, repository: { id: 'x' } }) },
      'ok',
      /no archives yet$/,
      'ok',
      /not locked/,
    ],
    [
      'held by another client',
      { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n' },
      'skip',
      /not opened: it is locked/,
      'warn',
      /^locked now \(repository lock \/srv\/r\/lock\.exclusive\): another borg is using it, or a stale borg serve/,
    ],
    [
      'shared readers block',
      { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock (timeout).\n' },
      'skip',
      /locked/,
      'warn',
      /repository lock \/srv\/r\/lock\)/,
    ],
    [
      'the local cache lock',
      { exitCode: 2, stderr: 'Failed to create/acquire the lock /home/u/.cache/borg/f00e/lock.exclusive (timeout).\n' },
      'skip',
      /locked/,
      'warn',
      /^locked now \(cache lock \/home\/u\/\.cache\/borg\/f00e\/lock\.exclusive\): another borg on this machine/,
    ],
    [
      '--log-json lock timeout',
      {
        exitCode: 2,
        stderr:
          '{"type": "log_message", "msgid": "LockTimeout", "message": "Failed to create/acquire the lock /srv/r/lock.exclusive (timeout)."}\n',
      },
      'skip',
      /locked/,
      'warn',
      /repository lock \/srv\/r\/lock\.exclusive/,
    ],
    ['modern exit code 73', { exitCode: 73, stderr: '' }, 'skip', /locked/, 'warn', /^locked now \(repository lock\)/],
    [
      'does not exist',
      { exitCode: 2, stderr: 'Repository ssh://lab/nope does not exist.\n' },
      'fail',
      /^does not exist: Repository ssh:\/\/lab\/nope does not exist\.$/,
      'skip',
      /no repository/,
    ],
    [
      'not a repository',
      { exitCode: 2, stderr: '/srv/x is not a valid repository. Check repo config.\n' },
      'fail',
      /^not a borg repository/,
      'skip',
      /no repository/,
    ],
    [
      'wrong passphrase: the lock was free',
      { exitCode: 2, stderr: 'passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.\n' },
      'fail',
      /^wrong passphrase/,
      'ok',
      /not locked/,
    ],
    [
      "wrong passphrase, borg 1.4.5's capital P, legacy exit code",
      { exitCode: 2, stderr: 'Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.\n' },
      'fail',
      /^wrong passphrase/,
      'ok',
      /not locked/,
    ],
    [
      'no passphrase, no terminal',
      {
        exitCode: 2,
        stderr:
          '/usr/lib/python3.11/getpass.py:91: GetPassWarning: Can not control echo on the terminal.\nWarning: Password input may be echoed.\nEnter passphrase for key ssh://lab/enc: can not acquire a passphrase: BORG_PASSPHRASE is not set. BORG_PASSCOMMAND is not set. Interactive password query failed.\n',
      },
      'fail',
      /^needs a passphrase and none is given/,
      'ok',
      /not locked/,
    ],
    [
      'unknown unencrypted repository',
      {
        exitCode: 2,
        stderr:
          'Warning: Attempting to access a previously unknown unencrypted repository!\nDo you want to continue? [yN] Aborting.\nCache initialization aborted\n',
      },
      'fail',
      /BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes/,
      'ok',
      /not locked/,
    ],
    [
      'relocated',
      {
        exitCode: 2,
        stderr:
          'Warning: The repository at location ssh://a/r was previously located at ssh://b/r\nDo you want to continue? [yN] Aborting.\n',
      },
      'fail',
      /BORG_RELOCATED_REPO_ACCESS_IS_OK=yes/,
      'ok',
      /not locked/,
    ],
    [
      'no borg on the server',
      {
        exitCode: 2,
        stderr: 'Remote: bash: line 1: borgx: command not found\nConnection closed by remote host. Is borg working on the server?\n',
      },
      'fail',
      /^borg serve did not work on the server: Remote: bash: line 1: borgx: command not found; Connection closed by remote host\. Is borg working on the server\?$/,
      'skip',
      /no connection/,
    ],
    [
      'restricted path',
      { exitCode: 2, stderr: 'Repository path not allowed: /srv/other\n' },
      'fail',
      /refuses this path/,
      'skip',
      /not checked/,
    ],
    [
      'borg 2 client, borg 1 server',
      { exitCode: 2, stderr: 'Borg server is too old for info. Required version 2.0.0a3\n' },
      'fail',
      /too old for this borg/,
      'skip',
      /not checked/,
    ],
    ['no answer in time', { exitCode: null, timedOut: true }, 'fail', /^borg list did not finish within 60 s$/, 'skip', /did not finish/],
    [
      'anything else',
      { exitCode: 2, stderr: 'Local Exception\nTraceback...\nKeyError: x\n' },
      'fail',
      /^borg list failed \(exit 2\): Traceback\.\.\.; KeyError: x$/,
      'skip',
      /not checked/,
    ],
    ['a warning', { exitCode: 1, stdout: LIST_JSON, stderr: 'some warning\n' }, 'warn', /borg warned: some warning/, 'ok', /not locked/],
    [
      'borg missing',
      { exitCode: null, spawnError: 'spawn /x/borg ENOENT' },
      'fail',
      /^cannot run borg: spawn \/x\/borg ENOENT$/,
      'skip',
      /not checked/,
    ],
  ];
  for (const [name, over, repoStatus, repoDetail, lockStatus, lockDetail] of cases) {
    test(name, () => {
      const out = interpretRepositoryProbe(probe(over), repoCtx);
      assert.equal(out.repository.status, repoStatus, out.repository.detail);
      assert.match(out.repository.detail, repoDetail);
      assert.equal(out.lock.status, lockStatus, out.lock.detail);
      assert.match(out.lock.detail, lockDetail);
    });
  }
  // borg2 b25 over rest (store locks): borg2 names the holder (storelocking.py format_locks).
  test('borg2 store lock: the holder borg2 names, and the 30-minute rule', () => {
    const stderr =
      'Failed to create/acquire the lock ssh://lab//srv/r (timeout). Repository is locked by: exclusive lock on host vm@42, pid 77, age 12 seconds.\n';
    const out = interpretRepositoryProbe(probe({ exitCode: 73, stderr }), { ...repoCtx, storeLock: true });
    assert.equal(out.lock.status, 'warn');
    assert.match(
      out.lock.detail,
      /held by exclusive lock on host vm@42, pid 77, age 12 seconds; borg2 keeps a vanished client's lock in the repository until it is 30m0s old/,
    );
    assert.equal((out.lock.data as { holders?: string }).holders, 'exclusive lock on host vm@42, pid 77, age 12 seconds');
  });
  test("the repository id comes from borg's JSON (for the cache lock)", () => {
    assert.equal(interpretRepositoryProbe(probe({ stdout: LIST_JSON }), repoCtx).repositoryId, 'f00e');
    assert.equal(interpretRepositoryProbe(probe({ stdout: 'not json' }), repoCtx).repositoryId, null);
  });
});

describe('small pieces', () => {
  test("stderr as ssh-settings.ts cleans it: CRLF, blank lines, --log-json messages; ssh's chatter is not borg's last words", () => {
    const stderr =
      'a\r\n\r\nb\n{"type": "log_message", "message": "c"}\nWarning: Permanently added \'[lab]:2222\' (ED25519) to the list of known hosts.\r\n';
    const out = interpretRepositoryProbe(probe({ exitCode: 2, stderr }), repoCtx);
    assert.equal(out.repository.detail, 'borg list failed (exit 2): b; c');
  });
  const now = new Date('2026-01-02T12:00:00Z');
  const ages: Array<[string, string]> = [
    ['2026-01-02T11:59:30Z', 'just now'],
    ['2026-01-02T11:20:00Z', '40 min ago'],
    ['2026-01-02T02:00:00Z', '10 h ago'],
    ['2025-12-26T12:00:00Z', '7 d ago'],
    ['2026-01-02T13:00:00Z', 'in the future (clock skew?)'],
    ['garbage', 'at an unknown time'],
  ];
  for (const [then, text] of ages) test(`describeAge ${then}`, () => assert.equal(describeAge(new Date(then), now), text));
});
