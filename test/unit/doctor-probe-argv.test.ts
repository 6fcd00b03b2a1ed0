import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { doctorPlanArgs, splitDoctorWords } from '../../src/guide/doctor/doctor-argument.js';
import { planRshWords, repositoryProbe } from '../../src/guide/doctor/probe-argv.js';
import { planFor, SSH_OPTS } from '../helpers/doctor-fixtures.js';

// The repository probe's argv and environment, built from a real plan: doctor's ssh options after the
// user's words (and tborg's keepalive, as a run has it), `--json --last 1 --lock-wait 5` last.

describe('the repository probe argv', () => {
  test("injected keepalive in BORG_RSH, then doctor's options; --json --last 1 --lock-wait 5 before the repository", () => {
    const env = { BORG_RSH: 'ssh -F /cfg' };
    const args = ['list', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(args, env, { interval: 0, countMax: 3 });
    assert.equal(plan.keepalive, 'injected');
    assert.deepEqual(planRshWords(plan, commandLine, env), [
      'ssh',
      '-F',
      '/cfg',
      '-o',
      'ServerAliveInterval=10',
      '-o',
      'ServerAliveCountMax=30',
    ]);
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords(['ssh://lab/r'], 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5', 'ssh://lab/r']);
    assert.equal(
      probe.env.BORG_RSH,
      'ssh -F /cfg -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10',
    );
  });

  test("the user's --rsh is where the options go (borg prefers it to BORG_RSH)", () => {
    const env = { BORG_RSH: 'ssh -v' };
    const words = ['--rsh', 'ssh -F /c', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], env, { interval: 20, countMax: 3 });
    assert.equal(plan.keepalive, 'configured');
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, [
      'list',
      '--rsh',
      'ssh -F /c -o BatchMode=yes -o ConnectTimeout=10',
      '--json',
      '--last',
      '1',
      '--lock-wait',
      '5',
      'ssh://lab/r',
    ]);
    assert.equal(probe.env.BORG_RSH, undefined);
  });

  test('--rsh=value form, keepalive injected into it', () => {
    const words = ['--rsh=ssh -F /c', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], {}, { interval: 0, countMax: 3 });
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.equal(
      probe.argv[1],
      '--rsh=ssh -F /c -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10',
    );
  });

  test("the user's --lock-wait stays in the plan but the probe's comes later and wins", () => {
    const words = ['--lock-wait', '600', 'ssh://lab/r'];
    const { plan, commandLine } = planFor(['list', ...words], {}, { interval: 10, countMax: 30 });
    assert.equal(plan.lockWait.seconds, 600);
    assert.equal(plan.lockWait.userGiven, true);
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(words, 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv.slice(-3), ['--lock-wait', '5', 'ssh://lab/r']);
    const reparsed = parseBorgCommandLine(probe.argv, { BORG_RSH: probe.env.BORG_RSH }, 1);
    assert.equal(reparsed.lockWait, 5);
    assert.equal(reparsed.invalid, null);
  });

  test('a local repository: no ssh options, no BORG_RSH', () => {
    const { plan, commandLine } = planFor(['list', '/srv/r'], {}, null);
    const probe = repositoryProbe(plan, commandLine, {}, splitDoctorWords(['/srv/r'], 1), 1, null);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5', '/srv/r']);
    assert.deepEqual(probe.env, {});
  });

  test('borg 2: rlist ... -r REPO', () => {
    const words = ['--remote-path', 'borg2', 'ssh://lab/r'];
    const split = splitDoctorWords(words, 2);
    const args = doctorPlanArgs(split, 2, '2.0.0b5');
    const { plan, commandLine } = planFor(args, {}, { interval: 10, countMax: 30 }, 2);
    const probe = repositoryProbe(plan, commandLine, {}, split, 2, SSH_OPTS);
    assert.deepEqual(probe.argv, ['rlist', '--remote-path', 'borg2', '--json', '--last', '1', '--lock-wait', '5', '-r', 'ssh://lab/r']);
    assert.equal(parseBorgCommandLine(probe.argv, probe.env, 2).invalid, null);
  });

  test('BORG_REPO alone', () => {
    const env = { BORG_REPO: 'ssh://lab/r' };
    const { plan, commandLine } = planFor(['list'], env, { interval: 10, countMax: 30 });
    const probe = repositoryProbe(plan, commandLine, env, splitDoctorWords([], 1), 1, SSH_OPTS);
    assert.deepEqual(probe.argv, ['list', '--json', '--last', '1', '--lock-wait', '5']);
  });
});
