import assert from 'node:assert/strict';
import { copySshCorpus } from '../helpers/ssh-corpus.js';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { joinRsh, readRsh, sshTarget } from '../../src/ssh/rsh.js';
import { findSettingSource, parseTimeValue } from '../../src/ssh/ssh-config-source.js';
import { findKeepaliveOptions } from '../../src/plan/keepalive.js';
import {
  defaultServerAliveInterval,
  parseSshG,
  resolveSshSettings,
  setupTimeoutIsServerAlive,
  SshConfigError,
  sshDialect,
  type SshSettings,
} from '../../src/ssh/ssh-settings.js';

// The corpus is copied to a directory whose name has a space (so every path goes through shlex
// quoting and Include quoting), with @DIR@ replaced by that directory. Every ssh run uses -F.
let dir = '';

before(() => {
  dir = copySshCorpus('tborg ssh corpus ');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string): string => join(dir, name);

interface Row {
  config: string;
  host: string;
  user?: string;
  port?: number;
  interval: number;
  count: number;
  // Where findSettingSource must place each value: 'file.conf:LINE' (a trailing '?' = not certain,
  // a Match tborg does not evaluate), or null = not set in the files (ssh's default applies).
  intervalAt: string | null;
  countAt: string | null;
  why: string;
}

// Hand-written expectations. Each `why` says which rule decides.
const ROWS: Row[] = [
  {
    config: 'basic.conf',
    host: 'backup',
    interval: 15,
    count: 4,
    intervalAt: 'basic.conf:6',
    countAt: 'basic.conf:7',
    why: '`HOST` keyword, `=` separators',
  },
  {
    config: 'basic.conf',
    host: 'backup',
    port: 2222,
    interval: 15,
    count: 4,
    intervalAt: 'basic.conf:6',
    countAt: 'basic.conf:7',
    why: 'a port from the location changes nothing else',
  },
  {
    config: 'basic.conf',
    host: 'Backup',
    interval: 25,
    count: 8,
    intervalAt: 'basic.conf:9',
    countAt: 'basic.conf:18',
    why: 'Host is case-sensitive',
  },
  {
    config: 'basic.conf',
    host: 'BACKUP',
    interval: 0,
    count: 8,
    intervalAt: 'basic.conf:19',
    countAt: 'basic.conf:18',
    why: 'no block names BACKUP; Host * says 0',
  },
  {
    config: 'basic.conf',
    host: 'bxkup',
    interval: 33,
    count: 6,
    intervalAt: 'basic.conf:11',
    countAt: 'basic.conf:12',
    why: '? is one character',
  },
  {
    config: 'basic.conf',
    host: 'bkup',
    interval: 0,
    count: 8,
    intervalAt: 'basic.conf:19',
    countAt: 'basic.conf:18',
    why: '? is not zero characters',
  },
  {
    config: 'basic.conf',
    host: 'www.example.org',
    interval: 90,
    count: 8,
    intervalAt: 'basic.conf:3',
    countAt: 'basic.conf:18',
    why: '1m30s = 90, end-of-line comments',
  },
  {
    config: 'basic.conf',
    host: 'example.org',
    interval: 0,
    count: 8,
    intervalAt: 'basic.conf:19',
    countAt: 'basic.conf:18',
    why: '*.example.org needs the dot',
  },
  { config: 'basic.conf', host: 'slow', interval: 120, count: 8, intervalAt: 'basic.conf:14', countAt: 'basic.conf:18', why: '2M = 120' },
  {
    config: 'basic.conf',
    host: 'mixed',
    interval: 3661,
    count: 8,
    intervalAt: 'basic.conf:16',
    countAt: 'basic.conf:18',
    why: 'tab separator, 1h1m1s',
  },
  { config: 'negation.conf', host: 'web', interval: 11, count: 3, intervalAt: 'negation.conf:3', countAt: null, why: '* applies' },
  {
    config: 'negation.conf',
    host: 'bastion',
    interval: 12,
    count: 3,
    intervalAt: 'negation.conf:5',
    countAt: null,
    why: '!bastion vetoes the * line',
  },
  {
    config: 'negation.conf',
    host: 'db.internal',
    interval: 0,
    count: 2,
    intervalAt: null,
    countAt: 'negation.conf:7',
    why: '!*.internal vetoes',
  },
  {
    config: 'negation.conf',
    host: 'nomatch',
    interval: 11,
    count: 3,
    intervalAt: 'negation.conf:3',
    countAt: null,
    why: 'negations alone never apply',
  },
  {
    config: 'commas.conf',
    host: 'a',
    interval: 0,
    count: 5,
    intervalAt: null,
    countAt: 'commas.conf:7',
    why: 'Host a,b is one literal pattern',
  },
  { config: 'commas.conf', host: 'b', interval: 0, count: 3, intervalAt: null, countAt: null, why: 'Host a,b is one literal pattern' },
  {
    config: 'commas.conf',
    host: 'c',
    interval: 22,
    count: 3,
    intervalAt: 'commas.conf:5',
    countAt: null,
    why: 'Match lists split on commas',
  },
  {
    config: 'commas.conf',
    host: 'D',
    interval: 22,
    count: 3,
    intervalAt: 'commas.conf:5',
    countAt: null,
    why: 'Match originalhost lowercases',
  },
  {
    config: 'match.conf',
    host: 'short',
    interval: 31,
    count: 3,
    intervalAt: 'match.conf:5',
    countAt: null,
    why: 'Match host sees HostName',
  },
  {
    config: 'match.conf',
    host: 'long.example.net',
    interval: 31,
    count: 3,
    intervalAt: 'match.conf:5',
    countAt: null,
    why: 'Match host before Match originalhost',
  },
  {
    config: 'match.conf',
    host: 'short',
    user: 'backupuser',
    interval: 31,
    count: 7,
    intervalAt: 'match.conf:5',
    countAt: 'match.conf:9',
    why: 'Match user sees user@',
  },
  {
    config: 'match.conf',
    host: 'neg',
    interval: 34,
    count: 9,
    intervalAt: 'match.conf:15',
    countAt: 'match.conf:11',
    why: 'negated Match user',
  },
  {
    config: 'match.conf',
    host: 'neg',
    user: 'backupuser',
    interval: 34,
    count: 7,
    intervalAt: 'match.conf:15',
    countAt: 'match.conf:9',
    why: 'negated Match user fails',
  },
  {
    config: 'match.conf',
    host: 'upper.example.net',
    interval: 33,
    count: 3,
    intervalAt: 'match.conf:13',
    countAt: null,
    why: 'Match host lowercases the pattern',
  },
  {
    config: 'match.conf',
    host: 'UPPER.EXAMPLE.NET',
    interval: 33,
    count: 3,
    intervalAt: 'match.conf:13',
    countAt: null,
    why: 'and the host name',
  },
  { config: 'match.conf', host: 'other', interval: 34, count: 3, intervalAt: 'match.conf:15', countAt: null, why: 'Match all' },
  {
    config: 'global.conf',
    host: 'g1',
    interval: 51,
    count: 6,
    intervalAt: 'global.conf:5',
    countAt: 'global.conf:2',
    why: 'lines before any Host apply to all',
  },
  {
    config: 'global.conf',
    host: 'x',
    interval: 0,
    count: 6,
    intervalAt: null,
    countAt: 'global.conf:2',
    why: 'lines before any Host apply to all',
  },
  {
    config: 'include-main.conf',
    host: 'topa',
    interval: 41,
    count: 13,
    intervalAt: 'top-a.conf:2',
    countAt: 'top-b.conf:3',
    why: 'Include glob, files in sorted order',
  },
  {
    config: 'include-main.conf',
    host: 'topb',
    interval: 42,
    count: 13,
    intervalAt: 'top-b.conf:2',
    countAt: 'top-b.conf:3',
    why: 'Include glob',
  },
  {
    config: 'include-main.conf',
    host: 'mi',
    interval: 46,
    count: 3,
    intervalAt: 'top-a.conf:4',
    countAt: null,
    why: 'Match in an included file',
  },
  {
    config: 'include-main.conf',
    host: 'inc',
    interval: 45,
    count: 15,
    intervalAt: 'inside.conf:1',
    countAt: 'inside.conf:6',
    why: 'Include inside a matching Host block',
  },
  {
    config: 'include-main.conf',
    host: 'other',
    interval: 44,
    count: 12,
    intervalAt: 'include-main.conf:8',
    countAt: 'include-main.conf:6',
    why: 'Include in a non-matching block never matches',
  },
  {
    config: 'include-main.conf',
    host: 'x',
    interval: 44,
    count: 3,
    intervalAt: 'include-main.conf:8',
    countAt: null,
    why: 'dot files are not globbed',
  },
  {
    config: 'exec.conf',
    host: 'viaexec',
    interval: 61,
    count: 4,
    intervalAt: 'exec.conf:3?',
    countAt: 'exec.conf:5',
    why: 'ssh -G runs Match exec',
  },
  {
    config: 'exec.conf',
    host: 'notexec',
    interval: 0,
    count: 4,
    intervalAt: 'exec.conf:3?',
    countAt: 'exec.conf:5',
    why: 'exec fails; tborg cannot know',
  },
];

// The three ways a user can spell the ssh command, each with what it changes.
const VARIANTS = [
  {
    name: 'plain BORG_RSH',
    rsh: (_f: string): string | null => null,
    env: (f: string) => ({ BORG_RSH: joinRsh(['ssh', '-F', f]) }),
    direct: (f: string) => ['-F', f],
    expect: (r: Row) => [r.interval, r.count],
  },
  {
    name: '-o ServerAliveInterval=7 inside BORG_RSH',
    rsh: (_f: string): string | null => null,
    env: (f: string) => ({ BORG_RSH: `${joinRsh(['ssh', '-F', f])} -o ServerAliveInterval=7` }),
    direct: (f: string) => ['-F', f, '-o', 'ServerAliveInterval=7'],
    expect: (r: Row) => [7, r.count],
  },
  {
    name: '--rsh wins over BORG_RSH',
    rsh: (f: string): string | null => `${joinRsh(['ssh', '-F', f])} -o "ServerAliveCountMax 9"`,
    // Were this used, ssh -G would fail: the file does not exist.
    env: (_f: string) => ({ BORG_RSH: 'ssh -F /nonexistent/tborg -o ServerAliveInterval=7' }),
    direct: (f: string) => ['-F', f, '-o', 'ServerAliveCountMax 9'],
    expect: (r: Row) => [r.interval, 9],
  },
];

function directSshG(args: string[]): SshSettings {
  const r = spawnSync('ssh', ['-G', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.status, 0, r.stderr);
  return parseSshG(r.stdout);
}

for (const row of ROWS) {
  const dest = row.user ? `${row.user}@${row.host}` : row.host;
  for (const v of VARIANTS) {
    test(`${row.config} ${dest}${row.port ? ` -p ${row.port}` : ''} [${v.name}]: ${row.why}`, () => {
      const f = file(row.config);
      const { words } = readRsh(v.rsh(f), v.env(f));
      const target = sshTarget(words, { user: row.user ?? null, host: row.host, port: row.port ?? null });
      const got = resolveSshSettings(target);
      // (a) the hand-written table
      assert.deepEqual([got.serverAliveInterval, got.serverAliveCountMax], v.expect(row));
      // (b) exactly what ssh -G says when asked directly
      const direct = directSshG([...v.direct(f), ...(row.port ? ['-p', String(row.port)] : []), dest]);
      assert.deepEqual(got, direct);
      if (row.port) assert.equal(got.port, row.port);
      if (row.user) assert.equal(got.user, row.user);
    });
  }
  test(`${row.config} ${dest}: where the values come from`, () => {
    const f = file(row.config);
    const opts = { user: row.user ?? null, dialect: sshDialect() };
    const place = (s: ReturnType<typeof findSettingSource>): string | null =>
      s === null ? null : `${basename(s.file)}:${s.line}${s.certain ? '' : '?'}`;
    const interval = findSettingSource(f, row.host, 'ServerAliveInterval', opts);
    const count = findSettingSource(f, row.host, 'ServerAliveCountMax', opts);
    assert.equal(place(interval), row.intervalAt, 'ServerAliveInterval');
    assert.equal(place(count), row.countAt, 'ServerAliveCountMax');
    // A certain source must agree with ssh -G; none means ssh's default.
    if (interval?.certain !== false) assert.equal(interval ? parseTimeValue(interval.value) : 0, row.interval);
    if (count?.certain !== false) assert.equal(count ? Number(count.value) : 3, row.count);
  });
}

test('resolveSshSettings: a broken config is an SshConfigError (exit 2) with what ssh said, on one line', () => {
  const bad = file('bad.conf');
  writeFileSync(bad, 'Host x\n  ServerAliveInterval 5#c\n  Bogus 1\n');
  assert.throws(
    () => resolveSshSettings(['ssh', '-F', bad, 'x']),
    (e: unknown) =>
      e instanceof SshConfigError &&
      e.exitCode === 2 &&
      !e.message.includes('\n') &&
      e.message.startsWith('ssh -G failed for x: ') &&
      /invalid time value/.test(e.message),
  );
  assert.throws(() => resolveSshSettings(['ssh', '-F', '/nonexistent/cfg', 'h']), /ssh -G failed for h: Can't open user config file/);
  assert.throws(
    () => resolveSshSettings(['/nonexistent/ssh', 'h']),
    (e: unknown) => e instanceof SshConfigError && /ssh -G failed for h: .*ENOENT/.test((e as Error).message),
  );
});

test('resolveSshSettings: a Match exec that hangs is stopped at the limit, and the message says so', () => {
  const f = file('hang.conf');
  // Without the limit this would answer after 3 s (interval 9): the error is the limit's.
  writeFileSync(f, 'Match exec "sleep 3"\n  ServerAliveInterval 9\n');
  assert.throws(
    () => resolveSshSettings(['ssh', '-F', f, 'h'], { timeoutMs: 1000 }),
    (e: unknown) =>
      e instanceof SshConfigError &&
      e.exitCode === 2 &&
      e.message === 'ssh -G failed for h: no answer after 1 s (a Match exec command that hangs?)',
  );
});

test('resolveSshSettings: other fields, and -G goes right after the program', () => {
  const f = file('basic.conf');
  const s = resolveSshSettings([
    'ssh',
    '-F',
    f,
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=1m',
    '-o',
    'TCPKeepAlive=no',
    '-l',
    'bob',
    'backup',
  ]);
  assert.equal(s.batchMode, true);
  assert.equal(s.connectTimeout, 60);
  assert.equal(s.tcpKeepAlive, false);
  assert.equal(s.user, 'bob');
  assert.equal(s.hostname, 'backup');
  const d = resolveSshSettings(['ssh', '-F', f, 'backup']);
  assert.equal(d.connectTimeout, null);
  assert.equal(d.batchMode, false);
});

test('resolveSshSettings never reads stdin and never prompts', () => {
  // stdin is ignored: a Match exec that reads stdin sees end-of-file at once.
  const f = file('stdin.conf');
  writeFileSync(f, 'Match exec "read x"\n  ServerAliveInterval 9\n');
  assert.equal(resolveSshSettings(['ssh', '-F', f, 'h']).serverAliveInterval, 0);
});

// Relative, not a number of milliseconds (shared 2-core machines): resolveSshSettings costs one
// `ssh -G` and a parse, so it stays near a bare `ssh -G` of the same target timed beside it, and well
// under two of them (what a second ssh run per call would cost).
test('resolveSshSettings costs one ssh -G: medians of interleaved calls beside a bare ssh -G', (t) => {
  const target = ['ssh', '-F', file('include-main.conf'), 'inc'];
  const bare = (): void => {
    // Spawned as src/process/buffered-child.ts spawns it, so only what resolveSshSettings adds differs.
    spawnSync('ssh', ['-G', ...target.slice(1)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      env: process.env,
      timeout: 10_000,
      killSignal: 'SIGKILL',
    });
  };
  const time = (f: () => void): number => {
    const start = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  resolveSshSettings(target);
  bare();
  const ours: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < 15; i++) {
    ours.push(time(() => resolveSshSettings(target)));
    plain.push(time(bare));
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [m, b] = [median(ours), median(plain)];
  t.diagnostic(`resolveSshSettings: ${m.toFixed(1)} ms per call; bare ssh -G: ${b.toFixed(1)} ms`);
  assert.ok(m < 1.5 * b, `resolveSshSettings ${m.toFixed(1)} ms against a bare ssh -G's ${b.toFixed(1)} ms`);
});

// docs/facts.md says the default ServerAliveInterval is 0. On Debian's OpenSSH (Debian 12's 9.2p1 and
// Debian 13's 10.0p2 alike) it is 300 when BatchMode is yes, and ProtocolKeepAlives is an alias of
// ServerAliveInterval: Debian patches, documented in Debian's ssh_config(5). SetupTimeOut was such an
// alias too, until Debian's 9.9p1 made it one of ConnectTimeout: which one this ssh does is measured
// here through a config file, and tborg's probe (one `ssh -G -o`) must say the same.
const debianSsh = /Debian/.test(spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr ?? '');
test('facts: Debian ssh: BatchMode yes makes ServerAliveInterval default to 300; ProtocolKeepAlives and SetupTimeOut are aliases', {
  skip: !debianSsh && 'not Debian OpenSSH',
}, () => {
  const f = file('debian.conf');
  writeFileSync(f, 'Host batch\n  BatchMode yes\nHost alias1\n  ProtocolKeepAlives 7\nHost alias2\n  SetupTimeOut 8\n');
  assert.equal(resolveSshSettings(['ssh', '-F', f, 'batch']).serverAliveInterval, 300);
  assert.equal(resolveSshSettings(['ssh', '-F', f, 'other']).serverAliveInterval, 0);
  assert.equal(defaultServerAliveInterval(true), 300);
  assert.equal(defaultServerAliveInterval(false), 0);
  assert.equal(resolveSshSettings(['ssh', '-F', f, 'alias1']).serverAliveInterval, 7);
  assert.equal(findSettingSource(f, 'alias1', 'ServerAliveInterval', { dialect: sshDialect() })?.line, 4);
  assert.equal(findSettingSource(f, 'batch', 'ServerAliveInterval', { dialect: sshDialect() }), null);

  const alias2 = resolveSshSettings(['ssh', '-F', f, 'alias2']);
  const asInterval = alias2.serverAliveInterval === 8;
  // Exactly one of the two meanings, whichever this ssh has.
  assert.equal(
    asInterval,
    alias2.connectTimeout !== 8,
    `SetupTimeOut 8 gave interval ${alias2.serverAliveInterval}, ConnectTimeout ${alias2.connectTimeout}`,
  );
  assert.equal(setupTimeoutIsServerAlive(), asInterval, 'the probe agrees with ssh reading a file');
  assert.equal(findSettingSource(f, 'alias2', 'ServerAliveInterval', { dialect: sshDialect() })?.value, asInterval ? '8' : undefined);
  assert.deepEqual(findKeepaliveOptions(['ssh', '-o', 'SetupTimeOut=8'], setupTimeoutIsServerAlive()).serverAliveInterval, asInterval);
});
