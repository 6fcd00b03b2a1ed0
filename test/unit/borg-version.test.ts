import assert from 'node:assert/strict';
import { test } from 'node:test';
import { borgLine, parseBorgVersion } from '../../src/borg/borg-version.js';

const table: Array<[string, string | undefined, number | undefined]> = [
  ['borg 1.2.4\n', '1.2.4', 1],
  ['borg2 2.0.0b5\n', '2.0.0b5', 2],
  ['borg 1.4.0.dev12+g1234abc\n', '1.4.0.dev12+g1234abc', 1],
  ['/usr/local/bin/borg 1.1.18\n', '1.1.18', 1],
  ['wrote 1.00 MB\nborg 1.2.4\n', '1.2.4', 1],
  ['usage: something 1.00 MB\n', undefined, undefined],
  ['', undefined, undefined],
];
for (const [output, version, major] of table) {
  test(`parseBorgVersion(${JSON.stringify(output)})`, () => {
    const parsed = parseBorgVersion(output);
    assert.equal(parsed?.version, version);
    assert.equal(parsed?.major, major);
  });
}

test('borgLine: borg 2 and later follow line 2; borg 1 and an unknown version line 1', () => {
  const lines = ['1.2.4', '1.4.0.dev12+g1234abc', '2.0.0b5', '2.0.0', '3.0.0', null, undefined, ''].map((v) => [v, borgLine(v)]);
  assert.deepEqual(lines, [
    ['1.2.4', 1],
    ['1.4.0.dev12+g1234abc', 1],
    ['2.0.0b5', 2],
    ['2.0.0', 2],
    ['3.0.0', 2],
    [null, 1],
    [undefined, 1],
    ['', 1],
  ]);
});
