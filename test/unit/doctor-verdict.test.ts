import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCheck, verdict, type Check, type CheckStatus } from '../../src/guide/doctor/check.js';

// `tborg doctor`'s verdict over its checks, and the line each check prints.

const c = (name: Check['name'], status: CheckStatus): Check => ({ name, status, detail: `${name} detail` });

describe('verdict', () => {
  const cases: Array<[string, Check[], number, string, RegExp]> = [
    ['nothing checked is healthy', [], 0, 'healthy', /^verdict: healthy, exit 0$/],
    ['all ok', [c('borg', 'ok'), c('keepalive', 'ok'), c('lock', 'ok')], 0, 'healthy', /healthy, exit 0/],
    ['skips do not count', [c('borg', 'ok'), c('keepalive', 'skip'), c('server', 'skip')], 0, 'healthy', /healthy/],
    [
      'a keepalive warning',
      [c('borg', 'ok'), c('keepalive', 'warn'), c('lock', 'ok')],
      1,
      'warnings',
      /with warnings \(keepalive\), exit 1$/,
    ],
    ['locked now', [c('keepalive', 'ok'), c('repository', 'skip'), c('lock', 'warn')], 1, 'warnings', /\(lock\), exit 1/],
    ['two warnings, in check order', [c('keepalive', 'warn'), c('lock', 'warn')], 1, 'warnings', /\(keepalive, lock\)/],
    [
      'unreachable',
      [c('keepalive', 'warn'), c('server', 'fail'), c('repository', 'skip')],
      2,
      'unusable',
      /cannot be reached or used \(server failed; warnings: keepalive\), exit 2$/,
    ],
    ['fail beats warn', [c('repository', 'fail'), c('lock', 'warn')], 2, 'unusable', /repository failed/],
    ['no borg', [c('borg', 'fail'), c('location', 'skip')], 2, 'unusable', /\(borg failed\)/],
  ];
  for (const [name, checks, exitCode, word, summary] of cases) {
    test(name, () => {
      const v = verdict(checks);
      assert.equal(v.exitCode, exitCode);
      assert.equal(v.verdict, word);
      assert.match(v.summary, summary);
      assert.deepEqual(v.lines, [...checks.map(formatCheck), v.summary]);
    });
  }

  test('one line per check: status in 6 columns, name in 11', () => {
    assert.equal(
      formatCheck({ name: 'keepalive', status: 'ok', detail: 'ServerAliveInterval 10' }),
      'ok    keepalive  ServerAliveInterval 10',
    );
    assert.equal(formatCheck({ name: 'repository', status: 'fail', detail: 'x' }), 'fail  repository x');
    assert.equal(formatCheck({ name: 'lock', status: 'warn', detail: 'y' }), 'warn  lock       y');
  });
});
