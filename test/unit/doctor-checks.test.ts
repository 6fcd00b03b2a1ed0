import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkKeepalive, type KeepaliveSources } from '../../src/guide/doctor/keepalive-check.js';
import { checkLocalBorg } from '../../src/guide/doctor/local-borg.js';
import { checkLockWait } from '../../src/guide/doctor/lock-wait-check.js';
import { buildPlan } from '../../src/plan/plan.js';
import { defaults, planFor } from '../helpers/doctor-fixtures.js';

// The checks doctor makes from the plan alone (keepalive, lock wait) and from the local borg.

describe('keepalive and lock-wait checks', () => {
  const sources: KeepaliveSources = {
    interval: '~/.ssh/config:12 (Host lab)',
    countMax: '~/.ssh/config:13 (Host lab)',
    configFile: '/root/.ssh/config',
    explicitConfig: false,
  };

  test('configured: where each value comes from', () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkKeepalive(plan, input, sources);
    assert.equal(check.status, 'ok');
    assert.equal(
      check.detail,
      'ServerAliveInterval 10 from ~/.ssh/config:12 (Host lab), ServerAliveCountMax 30 from ~/.ssh/config:13 (Host lab): ssh gives up on a silent server after (30+1) x 10 = 310 s; tborg adds nothing',
    );
  });

  test("configured with ssh's default count", () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 15, countMax: 3 });
    const check = checkKeepalive(plan, input, { ...sources, countMax: null });
    assert.match(check.detail, /ServerAliveCountMax 3 \(ssh's default\): ssh gives up on a silent server after \(3\+1\) x 15 = 60 s/);
  });

  test("none of the user's: warn, say what is injected and how to make it permanent", () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], { BORG_RSH: 'ssh -F /c' }, { interval: 0, countMax: 3 });
    const check = checkKeepalive(plan, input, { interval: null, countMax: null, configFile: '/c', explicitConfig: true });
    assert.equal(check.status, 'warn');
    assert.equal(
      check.detail,
      'your ssh config sets no keepalive for lab; tborg injects ServerAliveInterval 10, ServerAliveCountMax 30 into BORG_RSH (ssh gives up on a silent server after (30+1) x 10 = 310 s); to make it yours: tborg ssh-config lab --config /c --write',
    );
    assert.equal(check.data?.state, 'injected');
  });

  test("Debian's BatchMode default of 300 is not the user's", () => {
    const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 300, countMax: 3, intervalIsDefault: true });
    const check = checkKeepalive(plan, input, sources);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /its ServerAliveInterval 300 is Debian's default for BatchMode yes/);
    assert.match(check.detail, /tborg ssh-config lab --write$/);
  });

  test('--tborg-keepalive-mode warn and off: warn, nothing injected', () => {
    for (const mode of ['warn', 'off'] as const) {
      const { plan, input } = planFor(['list', 'ssh://lab/r'], {}, { interval: 0, countMax: 3 }, 1, { ...defaults, keepaliveMode: mode });
      const check = checkKeepalive(plan, input, null);
      assert.equal(check.status, 'warn');
      assert.match(check.detail, new RegExp(`--tborg-keepalive-mode ${mode}: nothing injected`));
    }
  });

  test('a local repository: not applicable', () => {
    const { plan, input } = planFor(['list', '/srv/r'], {}, null);
    assert.deepEqual(
      [checkKeepalive(plan, input, null).status, checkKeepalive(plan, input, null).detail],
      ['skip', 'not applicable: local repository'],
    );
  });

  test('an rsh that is not ssh: warn', () => {
    const { input } = planFor(['list', 'ssh://lab/r'], {}, null);
    input.nonSshRsh = { words: ['sh', '-c', 'exec socat - TCP:x:1'], source: 'BORG_RSH' };
    const check = checkKeepalive(buildPlan(input), input, null);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /^BORG_RSH \(sh -c 'exec socat - TCP:x:1'\) is not ssh/);
  });

  test("lock wait: the plan's number and its reasons", () => {
    const { plan } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkLockWait(plan, { serverAliveGiven: false });
    assert.equal(check.status, 'ok');
    assert.match(
      check.detail,
      /^10m40s: max\(\(30\+1\)x10, 2x\(30\+1\)x10\) \+ 20 = 640 s: your ssh gives up after 310 s, a stale borg serve is gone ~620 s after a drop \(server ClientAlive 10 x 30, assumed/,
    );
    assert.equal(check.data?.seconds, 640);
  });

  test('lock wait: a --lock-wait shorter than a stale borg serve can last is a warning', () => {
    const { plan } = planFor(['list', '--lock-wait', '30', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 });
    const check = checkLockWait(plan, { serverAliveGiven: false });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /^30s \(your --lock-wait\).*--lock-wait 30 is shorter than/);
  });

  test('lock wait: a server without ClientAlive is a warning', () => {
    const { plan } = planFor(['list', 'ssh://lab/r'], {}, { interval: 10, countMax: 30 }, 1, { ...defaults, serverAlive: null });
    const check = checkLockWait(plan, { serverAliveGiven: true });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /TCP keepalive.*no ClientAliveInterval/);
  });
});

describe('the local borg', () => {
  test('found', () => {
    assert.deepEqual(
      [
        checkLocalBorg({ path: '/usr/bin/borg', version: '1.2.4', error: null, fromOption: false, skippedTborg: ['/usr/local/bin/borg'] }),
      ].map((x) => [x.status, x.detail]),
      [['ok', '/usr/bin/borg 1.2.4, not tborg; skipped /usr/local/bin/borg (tborg itself)']],
    );
  });
  test('none', () => {
    const check = checkLocalBorg({
      path: null,
      version: null,
      error: 'no borg found on PATH; install BorgBackup',
      fromOption: false,
      skippedTborg: [],
    });
    assert.deepEqual([check.status, check.detail], ['fail', 'no borg found on PATH; install BorgBackup']);
  });
  test('no version', () => {
    assert.equal(checkLocalBorg({ path: '/x/borg', version: null, error: null, fromOption: true, skippedTborg: [] }).status, 'warn');
  });
});
