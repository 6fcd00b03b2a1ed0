import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { planSshConfigEdit, type Placement } from '../../src/ssh/ssh-config-edit.js';
import { sshDialect } from '../../src/ssh/ssh-settings.js';

// What the installed ssh makes of SetupTimeOut, for the edits below.
const EDIT = { dialect: sshDialect() };
import { collectHostNames } from '../../src/ssh/ssh-config-source.js';

// Every case is checked three ways: the placement (and, where written out, the exact text), that
// removing the inserted lines gives back the original byte for byte, and with ssh itself: `ssh -G -F`
// on the result gives HOST 10 x 30 and every other host exactly its old output.

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-edit-'));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'Host nas\n  ServerAliveInterval 20\nHost *\n  ServerAliveCountMax 6\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  text: string;
  host?: string;
  placement: Placement;
  expected?: string;
  // Extra names to compare before/after, beyond those the file mentions.
  others?: string[];
}

const H = 'backup';
const ADDED = ['  # keepalive for borg, added by tborg ssh-config', '  ServerAliveInterval 10', '  ServerAliveCountMax 30'];

const CASES: Case[] = [
  { name: 'empty file', text: '', placement: 'append', expected: ['Host backup', ...ADDED, ''].join('\n') },
  {
    name: 'no keepalive anywhere: a block at the end',
    text: 'Host web\n  HostName web.example.com # the web server\n',
    placement: 'append',
    expected: ['Host web', '  HostName web.example.com # the web server', '', 'Host backup', ...ADDED, ''].join('\n'),
  },
  {
    name: 'no final newline',
    text: 'Host web\n  User w',
    placement: 'append',
    expected: ['Host web', '  User w', '', 'Host backup', ...ADDED, ''].join('\n'),
  },
  {
    name: '`Host *` defaults first, with end-of-line comments: a new block before it',
    text: '# my ssh config\nHost *   # defaults\n  ServerAliveCountMax 5 # five\n  Compression yes\n\nHost web\n  User w\n',
    placement: 'new-block',
    expected: [
      '# my ssh config',
      '',
      'Host backup',
      ...ADDED,
      '',
      'Host *   # defaults',
      '  ServerAliveCountMax 5 # five',
      '  Compression yes',
      '',
      'Host web',
      '  User w',
      '',
    ].join('\n'),
  },
  {
    name: 'comments that belong to the block go with it',
    text: 'Host web\n  User w\n\n# defaults for all\n# (keep last)\nHost *\n  ServerAliveInterval 0\n',
    placement: 'new-block',
    expected: [
      'Host web',
      '  User w',
      '',
      'Host backup',
      ...ADDED,
      '',
      '# defaults for all',
      '# (keep last)',
      'Host *',
      '  ServerAliveInterval 0',
      '',
    ].join('\n'),
  },
  {
    name: "the host's own block first: into it",
    text: 'Host backup   # mine\n  HostName nas.example.com\n  User borg\nHost *\n  ServerAliveCountMax 5\n',
    placement: 'own-block',
    expected: ['Host backup   # mine', ...ADDED, '  HostName nas.example.com', '  User borg', 'Host *', '  ServerAliveCountMax 5', ''].join(
      '\n',
    ),
  },
  {
    name: "the host's own block after `Host *`: a new block before `Host *`",
    text: 'Host *\n  ServerAliveInterval 0\nHost backup\n  User borg\n',
    placement: 'new-block',
  },
  {
    name: 'own block with an explicit 0 and tab indentation',
    text: 'HOST backup\n\tServerAliveInterval 0\n\tUser borg\n',
    placement: 'own-block',
    expected: [
      'HOST backup',
      '\t# keepalive for borg, added by tborg ssh-config',
      '\tServerAliveInterval 10',
      '\tServerAliveCountMax 30',
      '\tServerAliveInterval 0',
      '\tUser borg',
      '',
    ].join('\n'),
  },
  {
    name: 'a shared block `Host backup web` is not its own: new block, web unchanged',
    text: 'Host backup web\n  ServerAliveCountMax 2\n',
    placement: 'new-block',
    others: ['web'],
  },
  {
    name: 'host case: `Host Backup` is another host',
    text: 'Host Backup\n  User b\nHost *\n  ServerAliveCountMax 4\n',
    placement: 'new-block',
    others: ['Backup'],
  },
  {
    name: 'a global line before any Host: new block, then `Host *` keeps the rest global',
    text: '# top\nServerAliveInterval 0\nUser everyone\n\nHost web\n  User w\n',
    placement: 'new-block-then-host-star',
    expected: [
      '# top',
      '',
      'Host backup',
      ...ADDED,
      '# added by tborg ssh-config: the lines below still apply to every host',
      'Host *',
      'ServerAliveInterval 0',
      'User everyone',
      '',
      'Host web',
      '  User w',
      '',
    ].join('\n'),
    others: ['web', 'x'],
  },
  {
    name: 'a global Include (could supply anything): before it',
    text: 'Compression yes\nInclude @DIR@/conf.d/*.conf\nHost web\n  User w\n',
    placement: 'new-block-then-host-star',
    others: ['nas', 'web'],
  },
  {
    name: 'an Include inside `Host *`: before that block',
    text: 'Host web\n  User w\nHost *\n  Include @DIR@/conf.d/*.conf\n',
    placement: 'new-block',
    others: ['nas'],
  },
  {
    name: 'an Include inside a block for another host does not matter',
    text: 'Host nas\n  Include @DIR@/conf.d/*.conf\nHost backup\n  User b\n',
    placement: 'own-block',
    others: ['nas'],
  },
  {
    name: 'Match exec (not evaluated by tborg) that sets it: before it',
    text: 'Host web\n  User w\nMatch exec "test %n = web"\n  ServerAliveInterval 5\n',
    placement: 'new-block',
    others: ['web'],
  },
  {
    name: 'Match originalhost for another host does not matter',
    text: 'Match originalhost web\n  ServerAliveInterval 5\nHost backup\n  User b\n',
    placement: 'own-block',
    others: ['web'],
  },
  {
    name: 'Match originalhost list naming the host, `=` separators',
    text: 'Match originalhost web,backup\n  ServerAliveInterval=5\n',
    placement: 'new-block',
    others: ['web'],
  },
  {
    name: 'negation keeps `Host * !backup` away from the host',
    text: 'Host * !backup\n  ServerAliveInterval 7\n',
    placement: 'append',
    others: ['web'],
  },
  {
    name: 'CRLF line ends stay CRLF',
    text: 'Host *\r\n  ServerAliveInterval 0\r\n',
    placement: 'new-block',
    expected: ['Host backup', ...ADDED, '', 'Host *', '  ServerAliveInterval 0', ''].join('\r\n'),
  },
  {
    name: 'an IP address as HOST',
    host: '192.0.2.7',
    text: 'Host 192.0.2.*\n  ServerAliveCountMax 9\n',
    placement: 'new-block',
    others: ['192.0.2.8'],
  },
];

function sshG(file: string, host: string): { status: number | null; stdout: string } {
  const r = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout };
}

for (const c of CASES) {
  test(`edit: ${c.name}`, () => {
    const host = c.host ?? H;
    const text = c.text.replaceAll('@DIR@', dir);
    const plan = planSshConfigEdit(text, host, { interval: 10, countMax: 30 }, EDIT);
    assert.equal(plan.placement, c.placement);
    if (c.expected !== undefined) assert.equal(plan.text, c.expected.replaceAll('@DIR@', dir));
    // The same edit again gives the same text (the plan depends on nothing but its arguments).
    assert.equal(planSshConfigEdit(text, host, { interval: 10, countMax: 30 }, EDIT).text, plan.text);

    // Only whole lines were added: taking them out gives back every byte of the original.
    const eol = plan.text.includes('\r\n') ? '\r\n' : '\n';
    const lines = plan.text.split(eol);
    lines.splice(plan.insertAt - 1, plan.inserted.length);
    const restored = lines.join(eol);
    assert.ok(restored === text || restored === text + eol, 'original lines kept');

    // ssh agrees.
    const beforeFile = join(dir, 'before.conf');
    const afterFile = join(dir, 'after.conf');
    writeFileSync(beforeFile, text);
    writeFileSync(afterFile, plan.text);
    const mine = sshG(afterFile, host);
    assert.equal(mine.status, 0);
    assert.match(mine.stdout, /^serveraliveinterval 10$/m);
    assert.match(mine.stdout, /^serveralivecountmax 30$/m);
    const strip = (s: string): string => s.replace(/^serveralive(interval|countmax) .*$/gm, '');
    assert.equal(strip(mine.stdout), strip(sshG(beforeFile, host).stdout), `${host}: only the keepalive changes`);
    const names = new Set([...collectHostNames(beforeFile), ...(c.others ?? []), 'unlisted.example', `${host}x`, host.toUpperCase()]);
    names.delete(host);
    for (const name of names) assert.deepEqual(sshG(afterFile, name), sshG(beforeFile, name), name);

    // Idempotent in effect: once written, a second plan would still put ours first; the command
    // sees the values in effect and changes nothing (test/host/ssh-config-command.test.ts).
  });
}

test('edit refuses what it cannot write as a Host pattern', () => {
  for (const bad of ['', 'a b', 'web*', '!web', 'u@web', '-oProxyCommand=x', 'a,b', 'a"b']) {
    assert.throws(() => planSshConfigEdit('', bad, { interval: 10, countMax: 30 }, EDIT), /not a plain host name/, bad);
  }
  assert.throws(() => planSshConfigEdit('', 'web', { interval: 0, countMax: 30 }, EDIT), /whole number >= 1/);
});

test('edit reports the lines it shadows for the host', () => {
  const plan = planSshConfigEdit(
    'Host *\n  ServerAliveCountMax 5\n  ServerAliveInterval 0\n',
    'backup',
    { interval: 10, countMax: 30 },
    EDIT,
  );
  assert.deepEqual(plan.shadowed.map((s) => `${s.keyword}=${s.value}@${s.line}`).sort(), [
    'ServerAliveCountMax=5@2',
    'ServerAliveInterval=0@3',
  ]);
});
