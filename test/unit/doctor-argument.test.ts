import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { doctorPlanArgs, listCommand, splitDoctorWords } from '../../src/guide/doctor/doctor-argument.js';

// What follows `tborg doctor`: borg's options, the one repository, and the command doctor plans with.

describe('the argument', () => {
  const cases: Array<
    [
      string,
      string[],
      1 | 2,
      { options?: string[]; repository: string | null; droppedArchive?: string | null; error?: string | null },
      string[]?,
    ]
  > = [
    ['an ssh URL', ['ssh://h/r'], 1, { repository: 'ssh://h/r' }],
    ['scp style', ['h:r'], 1, { repository: 'h:r' }],
    ['--rsh with its value', ['--rsh', 'ssh -x', 'h:r'], 1, { options: ['--rsh', 'ssh -x'], repository: 'h:r' }],
    ['--rsh=value', ['--rsh=ssh -x', 'h:r'], 1, { options: ['--rsh=ssh -x'], repository: 'h:r' }],
    ['a flag takes no value', ['--debug', 'h:r'], 1, { options: ['--debug'], repository: 'h:r' }],
    ['--lock-wait N', ['--lock-wait', '5', 'h:r'], 1, { options: ['--lock-wait', '5'], repository: 'h:r' }],
    [
      '--remote-path after the repository',
      ['h:r', '--remote-path', 'borg1'],
      1,
      { options: ['--remote-path', 'borg1'], repository: 'h:r' },
    ],
    ['-r for borg 2', ['-r', 'ssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['--repo= for borg 2', ['--repo=ssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['-rREPO', ['-rssh://h/r'], 2, { repository: 'ssh://h/r' }],
    ['-r accepted for borg 1.x too', ['-r', 'h:r'], 1, { repository: 'h:r' }],
    ['::ARCHIVE dropped (borg 1.x)', ['h:r::monday'], 1, { repository: 'h:r', droppedArchive: 'monday' }],
    ['::ARCHIVE alone: BORG_REPO', ['::monday'], 1, { repository: '::', droppedArchive: 'monday' }],
    ['"::" kept for borg 2 (not its syntax: borg judges)', ['ssh://h/r::x'], 2, { repository: 'ssh://h/r::x' }],
    ['nothing: BORG_REPO', [], 1, { repository: null }],
    ['two repositories', ['a', 'b'], 1, { repository: null, error: 'one repository only, got a b' }],
    ['-r without a value', ['-r'], 2, { repository: null, error: '-r needs a repository' }],
    ['after --', ['--'], 1, { repository: '-odd' }, ['-odd']],
  ];
  for (const [name, words, major, expected, afterDashDash] of cases) {
    test(`splitDoctorWords: ${name}`, () => {
      const got = splitDoctorWords(words, major, afterDashDash ?? []);
      assert.deepEqual(got, {
        options: expected.options ?? [],
        repository: expected.repository,
        droppedArchive: expected.droppedArchive ?? null,
        error: expected.error ?? null,
      });
    });
  }

  test('the plan is of the command that lists archives, with the repository where borg wants it', () => {
    const split = splitDoctorWords(['--rsh', 'ssh -x', 'ssh://h/r'], 1);
    assert.deepEqual(doctorPlanArgs(split, 1, '1.2.4'), ['list', '--rsh', 'ssh -x', 'ssh://h/r']);
    const split2 = splitDoctorWords(['--remote-path', 'borg2', 'ssh://h/r'], 2);
    assert.deepEqual(doctorPlanArgs(split2, 2, '2.0.0b5'), ['rlist', '--remote-path', 'borg2', '-r', 'ssh://h/r']);
    assert.deepEqual(doctorPlanArgs(splitDoctorWords([], 2), 2, '2.0.0b5'), ['rlist']);
    assert.equal(listCommand(2, '2.0.0b14'), 'repo-list');
    assert.equal(listCommand(1, '1.4.0'), 'list');
  });
});
