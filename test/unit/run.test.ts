import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plan } from '../../src/plan/plan.js';
import { spinnerSafeDuringAttempts } from '../../src/run/spinner-safety.js';

// A spinner must not share a terminal with a command whose stdout is its result, whatever the borg
// calls it: borg 1.x `list`, borg2 b5 `rlist`, borg2 b10+ `repo-list` (docs/facts.md "borg 2").
test("spinnerSafeDuringAttempts: no spinner over a terminal that shows the result, by every borg's command name", () => {
  const env = { BORG_PASSPHRASE: 'x' };
  const tty = { stdoutIsTTY: true };
  const plan = (command: string, baseArgv: string[] = [], major: 1 | 2 = 2, version: string | null = null): Plan =>
    ({ borg: { major, version }, command: [command], baseArgv }) as unknown as Plan;
  for (const command of ['list', 'rlist', 'repo-list', 'repo-info', 'repo-space', 'analyze', 'info']) {
    assert.equal(spinnerSafeDuringAttempts(plan(command), env, tty), false, command);
  }
  assert.equal(spinnerSafeDuringAttempts(plan('rlist', [], 2, '2.0.0b5'), env, tty), false, 'rlist on b5');
  assert.equal(spinnerSafeDuringAttempts(plan('repo-list', [], 2, '2.0.0b25'), env, tty), false, 'repo-list on b25');
  assert.equal(spinnerSafeDuringAttempts(plan('list', [], 1, '1.2.4'), env, tty), false, 'borg 1.x list');
  assert.equal(spinnerSafeDuringAttempts(plan('create', ['create', '--json']), env, tty), false, '--json');
  assert.equal(spinnerSafeDuringAttempts(plan('create'), env, tty), true, 'create writes its result to stderr');
});
