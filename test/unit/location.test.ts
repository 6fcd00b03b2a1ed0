// parseLocation as tables: every location form borg 1.x and borg 2 accept or refuse, the borg 2
// betas' changing syntax and placeholders (the tables are in test/helpers/location-tables.ts; every
// installed borg's own Location class reads them in test/cli/location-oracle-cli.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { borg2Generation, parseLocation, remoteShellVariable, type LocationOptions } from '../../src/borg/location.js';
import { pythonNormpath } from '../../src/borg/location-grammar.js';
import { createPlaceholderResolver } from '../../src/borg/placeholders.js';
import { userInfo } from 'node:os';
import { BETAS, BORG1, BORG2, describe, E, GENERATIONS } from '../helpers/location-tables.js';

for (const [text, expected, env] of BORG1) {
  test(`borg 1 location ${JSON.stringify(text)}${env ? ` BORG_REPO=${JSON.stringify(env.BORG_REPO)}` : ''}`, () => {
    assert.equal(describe(parseLocation(text, env ?? {}, 1)), expected);
  });
}
for (const [text, expected, env] of BORG2) {
  test(`borg 2 location ${JSON.stringify(text)}${env ? ` BORG_REPO=${JSON.stringify(env.BORG_REPO)}` : ''}`, () => {
    assert.equal(describe(parseLocation(text, env ?? {}, 2)), expected);
  });
}

test('the location field is the repository part as written', () => {
  assert.equal(parseLocation('user@host:/srv/repo::arch', {}, 1)?.location, 'user@host:/srv/repo');
  assert.equal(parseLocation('ssh://[::1]:22/r::a', {}, 1)?.location, 'ssh://[::1]:22/r');
  assert.equal(parseLocation('./a:b', {}, 1)?.location, './a:b');
  assert.equal(parseLocation('::arch', E, 1)?.location, E.BORG_REPO);
  assert.equal(parseLocation('', { BORG_REPO: 'h:r::x' }, 1)?.location, 'h:r');
  assert.equal(parseLocation('', E, 2)?.location, E.BORG_REPO);
  assert.equal(parseLocation('ssh://h/r', {}, 2)?.location, 'ssh://h/r');
});

for (const [text, byBeta] of GENERATIONS) {
  test(`borg 2 betas read ${JSON.stringify(text)} as borg did`, () => {
    let expected = 'unknown';
    for (const beta of BETAS) {
      expected = byBeta[`b${beta}`] ?? (beta <= 5 ? byBeta.b5! : expected);
      const options: LocationOptions = { version: `2.0.0b${beta}`, cwd: '/work/dir' };
      assert.equal(describe(parseLocation(text, {}, 2, options)), expected, `2.0.0b${beta}`);
    }
  });
}

test('borg2Generation reads borg 2 version strings', () => {
  assert.equal(borg2Generation(undefined), 5);
  assert.equal(borg2Generation('2.0.0b5'), 5);
  assert.equal(borg2Generation('2.0.0b14'), 14);
  assert.equal(borg2Generation('2.0.0a4'), 1);
  assert.equal(borg2Generation('2.0.0b22.dev3+g1234'), 22);
  assert.equal(borg2Generation('2.0.0b25'), 25);
  assert.equal(borg2Generation('2.0.0'), 25);
  assert.equal(borg2Generation('2.1.0'), 25);
});

test('placeholders: expanded in user, host and path when values are given, kept as written otherwise', () => {
  const placeholder = (name: string, spec: string): string | undefined =>
    spec === '' ? ({ user: 'alice', hostname: 'vm', fqdn: 'vm.example.org' } as Record<string, string>)[name] : undefined;
  assert.equal(
    describe(parseLocation('{user}@{fqdn}:{hostname}/r::{hostname}-{now}', {}, 1, { placeholder })),
    'ssh alice@vm.example.org vm/r ::{hostname}-{now}',
  );
  assert.equal(describe(parseLocation('{user}@{fqdn}:r', {}, 1)), 'ssh {user}@{fqdn} r');
  assert.equal(describe(parseLocation('/srv/{{literal}}', {}, 1)), 'file /srv/{literal}');
  assert.equal(describe(parseLocation('ssh://{hostname}/r', {}, 2, { placeholder })), 'ssh vm /r');
  assert.equal(describe(parseLocation('', { BORG_REPO: '{user}@h:r' }, 1, { placeholder })), 'ssh alice@h r');
  // borg refuses what str.format refuses, and unknown names
  for (const bad of ['/srv/a}b', '/srv/{', '/srv/{}', '/srv/{user!r}', 'h:r::{', '/srv/{nope}']) {
    assert.equal(parseLocation(bad, {}, 1, { placeholder }), undefined, bad);
  }
  assert.equal(describe(parseLocation('/srv/{nope}', {}, 1)), 'file /srv/{nope}');
});

// What the planner reads to decide whether an ssh runs at all (plan-facts.ts: a location without a
// host is never planned for ssh; then remoteShellVariable names the variable that ssh comes from).
test("placeholders: tborg's own values (createPlaceholderResolver), {uuid4} a fresh UUID each time", () => {
  const placeholder = createPlaceholderResolver(null);
  const a = parseLocation('/srv/{uuid4}', {}, 1, { placeholder });
  const b = parseLocation('/srv/{uuid4}', {}, 1, { placeholder });
  assert.match(a?.path ?? '', /^\/srv\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a?.path, b?.path);
  assert.equal(parseLocation('{user}@h:/r', {}, 1, { placeholder })?.user, userInfo().username);
  assert.equal(parseLocation('ssh://h/srv/{pid}', {}, 1, { placeholder })?.path, `/srv/${process.pid}`);
});

test('host and remoteShellVariable', () => {
  const cases: Array<[string, 1 | 2, LocationOptions, string | null, string | null]> = [
    ['host:repo', 1, {}, 'host', 'BORG_RSH'],
    ['ssh://h/r', 1, {}, 'h', 'BORG_RSH'],
    ['/srv/repo', 1, {}, null, null],
    ['file:///srv/repo', 1, {}, null, null],
    ['host:repo', 2, {}, null, null],
    ['ssh://h/r', 2, {}, 'h', 'BORG_RSH'],
    ['socket:///run/s', 2, { version: '2.0.0b9' }, null, null],
    ['sftp://h/r', 2, { version: '2.0.0b14' }, 'h', null],
    ['rest://u@h/r', 2, { version: '2.0.0b22' }, 'h', 'BORGSTORE_RSH'],
    ['rest:///r', 2, { version: '2.0.0b22' }, null, null],
    ['s3:/bucket/p', 2, { version: '2.0.0b20' }, null, null],
    ['s3:key:secret@https://s3.example:9000/bucket/p', 2, { version: '2.0.0b20' }, 's3.example', null],
  ];
  for (const [text, major, options, host, shell] of cases) {
    const l = parseLocation(text, {}, major, options);
    assert.ok(l, text);
    assert.equal(l.host, host, text);
    assert.equal(remoteShellVariable(l), shell, text);
  }
});

test('pythonNormpath is posixpath.normpath', () => {
  const cases: Array<[string, string]> = [
    ['', '.'],
    ['.', '.'],
    ['/', '/'],
    ['//', '//'],
    ['///', '/'],
    ['//a//b/', '//a/b'],
    ['///a', '/a'],
    ['a/../..', '..'],
    ['/../a', '/a'],
    ['../../a/./b/..', '../../a'],
    ['a/b/../../..', '..'],
    ['./a:b', 'a:b'],
  ];
  for (const [input, expected] of cases) assert.equal(pythonNormpath(input), expected, input);
});

test('never throws', () => {
  const pieces = [
    'ssh://',
    'file://',
    'rest://',
    ':',
    '::',
    '/',
    '[',
    ']',
    '@',
    'h',
    '{',
    '}',
    '.',
    '..',
    '22',
    '\n',
    ' ',
    's3:',
    'rclone:',
  ];
  let seed = 11;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 5000; i++) {
    const text = Array.from({ length: next() % 8 }, () => pieces[next() % pieces.length]).join('');
    for (const version of ['2.0.0b5', '2.0.0b13', '2.0.0b22', '2.0.0b24', '2.0.0b25'])
      parseLocation(text, { BORG_REPO: text }, 2, { version });
    parseLocation(text, { BORG_REPO: text }, 1);
  }
});
