import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalKeyword, type KeywordDialect } from '../../src/ssh/ssh-config-tokens.js';

// canonicalKeyword is pure: what the ssh in use makes of SetupTimeOut is the caller's fact (asked of
// its ssh with its own environment), and it is asked only for that keyword.

function dialect(setupTimeoutIsInterval: boolean): KeywordDialect & { asked: number } {
  const d = {
    asked: 0,
    setupTimeoutIsInterval: () => {
      d.asked++;
      return setupTimeoutIsInterval;
    },
  };
  return d;
}

test('canonicalKeyword: SetupTimeOut is what the given ssh says (Debian up to 9.8: ServerAliveInterval; 9.9p1 on: ConnectTimeout)', () => {
  assert.equal(canonicalKeyword('setuptimeout', dialect(true)), 'serveraliveinterval');
  assert.equal(canonicalKeyword('setuptimeout', dialect(false)), 'connecttimeout');
});

test('canonicalKeyword: ProtocolKeepAlives is ServerAliveInterval, other keywords are themselves, and neither asks ssh', () => {
  const d = dialect(true);
  assert.equal(canonicalKeyword('protocolkeepalives', d), 'serveraliveinterval');
  assert.equal(canonicalKeyword('serveralivecountmax', d), 'serveralivecountmax');
  assert.equal(canonicalKeyword('hostname', d), 'hostname');
  assert.equal(d.asked, 0);
});
