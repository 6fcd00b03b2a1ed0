import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import {
  defaultAuthorizedKeysOptions,
  formatAuthorizedKeysLine,
  parsePublicKey,
  type AuthorizedKeysOptions,
  remotePathIsBorg2,
  buildServeArgv,
} from '../../src/guide/authorized-keys.js';
import { runOwnCommandLine } from '../../src/cli/own-commands.js';
import { TborgError } from '../../src/core/errors.js';
import type { CommandContext } from '../../src/cli/command-context.js';
import { defaultOptions } from '../../src/cli/tborg-options.js';
import { Terminal } from '../../src/cli/terminal.js';
import { contextFacts } from '../helpers/context-facts.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgOpCX1wHbaj7eO+mLVc6g9orqHZfVfoNtDeA+UVcyP';
const ED25519_PUB = `${ED25519} backup@client one\n`;
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLBd9b6xKokZRK2kIF3q32O5LfFrm2x723vLVEWdsm8PdWXbvHcM90nTlvJQ3gPuLb/8AZj7uHfr1C1WO8Nnwok=';
const PRIVATE =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n';

const dir = mkdtempSync(join(tmpdir(), 'tborg-authorized-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function opts(partial: Partial<AuthorizedKeysOptions>): AuthorizedKeysOptions {
  return { ...defaultAuthorizedKeysOptions(), ...partial };
}

// ---- the line, exactly -------------------------------------------------------------------------

const lines: Array<[string, Partial<AuthorizedKeysOptions>, string, string]> = [
  [
    "the guide's example",
    { restrictToPaths: ['/path'] },
    ED25519_PUB,
    `command="borg serve --restrict-to-path /path",restrict ${ED25519} backup@client one`,
  ],
  ['no restriction', {}, ED25519_PUB, `command="borg serve",restrict ${ED25519} backup@client one`],
  [
    'everything',
    {
      restrictToPaths: ['/srv/borg/a', '/srv/borg/b'],
      restrictToRepositories: ['/srv/repo'],
      appendOnly: true,
      storageQuota: '1.5T',
      remotePath: '/usr/local/bin/borg',
      setEnv: ['BORG_HOST_ID=backup1', 'TMPDIR=/var/tmp'],
    },
    ED25519_PUB,
    'command="BORG_HOST_ID=backup1 TMPDIR=/var/tmp /usr/local/bin/borg serve --restrict-to-path /srv/borg/a ' +
      '--restrict-to-path /srv/borg/b --restrict-to-repository /srv/repo --append-only --storage-quota 1.5T",' +
      `restrict ${ED25519} backup@client one`,
  ],
  [
    'legacy OpenSSH',
    { restrictToPaths: ['/srv/borg'], legacyOpenssh: true },
    ED25519_PUB,
    'command="borg serve --restrict-to-path /srv/borg",no-port-forwarding,no-X11-forwarding,no-pty,no-agent-forwarding,no-user-rc ' +
      `${ED25519} backup@client one`,
  ],
  [
    'a path with a space',
    { restrictToPaths: ['/srv/borg repos'] },
    ED25519_PUB,
    `command="borg serve --restrict-to-path '/srv/borg repos'",restrict ${ED25519} backup@client one`,
  ],
  [
    'quotes, $ and a backslash',
    { restrictToPaths: [`/srv/it's "$HOME"\\`] },
    ED25519_PUB,
    `command="borg serve --restrict-to-path '/srv/it'\\''s \\"$HOME\\"\\'",restrict ${ED25519} backup@client one`,
  ],
  [
    'an env value with a space; borg2',
    { setEnv: ['BORG_HOST_ID=a b', 'EMPTY='], remotePath: 'borg2', restrictToRepositories: ['/r'] },
    ED25519_PUB,
    `command="BORG_HOST_ID='a b' EMPTY='' borg2 serve --restrict-to-repository /r",restrict ${ED25519} backup@client one`,
  ],
  [
    'a borg path with = is quoted, never taken for an assignment',
    { remotePath: '/opt/a=b/borg' },
    ED25519_PUB,
    `command="'/opt/a=b/borg' serve",restrict ${ED25519} backup@client one`,
  ],
  [
    'no comment, trailing space, CRLF',
    { restrictToPaths: ['/p'] },
    `${ECDSA} \r\n`,
    `command="borg serve --restrict-to-path /p",restrict ${ECDSA}`,
  ],
  [
    'blank and # lines around the key; comment spacing kept',
    {},
    `# my key\n\n  ${ED25519}   two  words \n\n`,
    `command="borg serve",restrict ${ED25519} two  words`,
  ],
];
for (const [name, partial, keyText, expected] of lines) {
  test(`authorized_keys line: ${name}`, () => {
    assert.equal(formatAuthorizedKeysLine(opts(partial), parsePublicKey(keyText)), expected);
  });
}

// ---- bad input ---------------------------------------------------------------------------------

const badKeys: Array<[string, string, RegExp]> = [
  ['empty', '', /no public key in/],
  ['only comments', '# nothing\n\n', /no public key in/],
  ['two keys', `${ED25519} a\n${ECDSA} b\n`, /has 2 lines that could be keys; give exactly one key/],
  ['a private key', PRIVATE, /is a private key; give the public key \(the \.pub file\)/],
  ['a PEM RSA private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n', /is a private key/],
  ['a PuTTY key', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n', /is a private key/],
  ['RFC 4716', '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n', /RFC 4716.*ssh-keygen -i/],
  ['options already', `command="borg serve",restrict ${ED25519} c\n`, /already has options before the key/],
  ['from= options', `from="10.0.0.1" ${ED25519}\n`, /already has options/],
  ['not a key', 'hello world\n', /is not an OpenSSH public key/],
  ['type only', 'ssh-ed25519\n', /is not an OpenSSH public key/],
  ['damaged base64', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgOp!X1wHbaj7eO\n', /base64 data is damaged or of another type/],
  ['truncated', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n', /damaged/],
  ['type mismatch', `ssh-rsa ${ED25519.split(' ')[1]} c\n`, /damaged or of another type/],
  ['a certificate', 'ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t c\n', /certificate/],
];
for (const [name, text, message] of badKeys) {
  test(`parsePublicKey refuses: ${name}`, () => {
    assert.throws(
      () => parsePublicKey(text, 'key.pub'),
      (e: TborgError) => e instanceof TborgError && e.exitCode === 2 && message.test(e.message) && !e.message.includes('\n'),
    );
  });
}

const badOptions: Array<[string, Partial<AuthorizedKeysOptions>, RegExp]> = [
  ['relative path', { restrictToPaths: ['srv/borg'] }, /--restrict-to-path "srv\/borg" is not an absolute path/],
  ['~ path', { restrictToRepositories: ['~/repo'] }, /--restrict-to-repository "~\/repo" is not an absolute path/],
  ['empty path', { restrictToPaths: [''] }, /is not an absolute path/],
  ['newline in path', { restrictToPaths: ['/srv/a\nb'] }, /"\/srv\/a\\nb" contains a line break; authorized_keys takes one key per line/],
  ['CR in path', { restrictToPaths: ['/srv/a\rb'] }, /contains a line break/],
  ['tab in path', { restrictToRepositories: ['/srv/a\tb'] }, /contains a control character/],
  ['quota without number', { storageQuota: 'G' }, /--storage-quota "G": expected a number/],
  ['quota lowercase suffix', { storageQuota: '5g' }, /expected a number with an optional K, M, G, T or P suffix/],
  ['quota too small', { storageQuota: '9M' }, /--storage-quota "9M": borg needs at least 10M/],
  ['quota negative', { storageQuota: '-5G' }, /expected a number/],
  ['env without =', { setEnv: ['BORG_HOST_ID'] }, /--set-env "BORG_HOST_ID": expected NAME=VALUE/],
  ['env bad name', { setEnv: ['1X=2'] }, /expected NAME=VALUE/],
  ['env empty name', { setEnv: ['=x'] }, /expected NAME=VALUE/],
  ['env newline', { setEnv: ['X=a\nb'] }, /--set-env X "a\\nb" contains a line break/],
  ['empty remote path', { remotePath: '' }, /--remote-path needs/],
  ['~ remote path', { remotePath: '~/bin/borg' }, /~ is not expanded/],
];
for (const [name, partial, message] of badOptions) {
  test(`authorized_keys options refused: ${name}`, () => {
    assert.throws(
      () => formatAuthorizedKeysLine(opts(partial), parsePublicKey(ED25519_PUB)),
      (e: TborgError) => e instanceof TborgError && e.exitCode === 2 && message.test(e.message) && !e.message.includes('\n'),
    );
  });
}

test('storage quotas borg accepts', () => {
  for (const quota of ['10M', '10000000', '500G', '1.5T', '.5P', '2.T', '0.01G']) {
    assert.match(formatAuthorizedKeysLine(opts({ storageQuota: quota }), parsePublicKey(ED25519_PUB)), /--storage-quota /);
  }
});

// ---- the command ---------------------------------------------------------------------------------

async function runCommand(args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string; error?: TborgError }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const context: CommandContext = {
    args,
    options: defaultOptions(),
    env: {},
    terminal: new Terminal({ stdout, stderr }, { quiet: true }),
    ...contextFacts(),
  };
  try {
    return { code: await runOwnCommandLine(['authorized-keys', ...args], context), stdout: out, stderr: err };
  } catch (error) {
    if (!(error instanceof TborgError)) throw error;
    return { code: undefined, stdout: out, stderr: err, error };
  }
}

const pub = join(dir, 'id_ed25519.pub');
writeFileSync(pub, ED25519_PUB);
writeFileSync(join(dir, 'id_ed25519'), PRIVATE);
writeFileSync(join(dir, 'two.pub'), `${ED25519} a\n${ECDSA} b\n`);

test('authorized-keys command: options from the command line, repeated ones in order', async () => {
  const r = await runCommand([
    '--restrict-to-path',
    '/srv/borg repos',
    '--restrict-to-path=/srv/other',
    '--append-only',
    '--set-env',
    'BORG_HOST_ID=x',
    '--set-env',
    'A=1',
    '--storage-quota',
    '100G',
    '--remote-path',
    'borg-1.2',
    pub,
  ]);
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    "command=\"BORG_HOST_ID=x A=1 borg-1.2 serve --restrict-to-path '/srv/borg repos' --restrict-to-path /srv/other " +
      `--append-only --storage-quota 100G",restrict ${ED25519} backup@client one\n`,
  );
  assert.equal(r.stderr, '');
});

test('authorized-keys command: no restriction works but warns on stderr', async () => {
  const r = await runCommand(['--legacy-openssh', pub]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^command="borg serve",no-port-forwarding,/);
  assert.match(r.stderr, /warning: no --restrict-to-path or --restrict-to-repository/);
});

// --no-borg2 is yargs' boolean-negation of --borg2 (one parser configuration, own-commands.ts): it turns
// off what --remote-path borg2 turns on; given both, the last one counts.
test('authorized-keys command: --borg2, --no-borg2 and --remote-path borg2', async () => {
  const table: Array<[string[], boolean]> = [
    [['--remote-path', 'borg2'], true],
    [['--remote-path', 'borg2', '--no-borg2'], false],
    [['--no-borg2', '--remote-path', 'borg2'], false],
    [['--borg2'], true],
    [['--borg2', '--no-borg2'], false],
    [['--no-borg2', '--borg2'], true],
    [[], false],
  ];
  for (const [words, borg2] of table) {
    const r = await runCommand([...words, '--restrict-to-repository', '/srv/r', pub]);
    assert.equal(r.code, 0, `${words.join(' ')}: ${r.error?.message}`);
    assert.equal(/ serve --rest /.test(r.stdout), borg2, `${words.join(' ')}: ${r.stdout}`);
  }
});

test('authorized-keys command: --help', async () => {
  const r = await runCommand(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^tborg authorized-keys \[OPTIONS\] KEYFILE\|-/);
  assert.match(r.stdout, /--restrict-to-repository/);
});

const badCommands: Array<[string[], RegExp]> = [
  [[], /give the public key file \(or - for stdin\)/],
  [[pub, pub], /give one key file, got 2/],
  [['--nope', pub], /Unknown argument: nope/],
  [['--restrict-to-path'], /Not enough arguments following: restrict-to-path/],
  [['--restrict-to-path', 'relative', pub], /is not an absolute path/],
  [['--set-env', 'NOPE', pub], /expected NAME=VALUE/],
  [['--storage-quota', '1G', '--storage-quota', '2G', pub], /--storage-quota given more than once/],
  [[join(dir, 'missing.pub')], /cannot read .*missing\.pub: ENOENT/],
  [[join(dir, 'id_ed25519')], /id_ed25519 is a private key; give .*id_ed25519\.pub$/],
  [[join(dir, 'two.pub')], /two\.pub has 2 lines/],
];
for (const [args, message] of badCommands) {
  test(`authorized-keys command refuses ${JSON.stringify(args.map((a) => a.replace(dir, 'DIR')))}`, async () => {
    const r = await runCommand(args);
    assert.ok(r.error, 'expected an error');
    assert.equal(r.error.exitCode, 2);
    // No prefix: main writes `tborg: authorized-keys: ` once (the bin test below sees the whole line).
    assert.doesNotMatch(r.error.message, /^tborg:|^authorized-keys:/);
    assert.match(r.error.message, message);
    assert.ok(!r.error.message.includes('\n'));
    assert.equal(r.stdout, '');
  });
}

// ---- round trip through authorized_keys' and the shell's parsers ----------------------------------

// sshd's reading of command="..." (misc.c opt_dequote): up to the next unescaped quote; `\"` is a
// quote, every other backslash stays. Returns the command and the rest of the line.
function dequoteCommand(line: string): { command: string; rest: string } {
  assert.ok(line.startsWith('command="'), line);
  let i = 'command="'.length;
  let command = '';
  while (i < line.length && line[i] !== '"') {
    if (line[i] === '\\' && line[i + 1] === '"') i++;
    command += line[i];
    i++;
  }
  assert.equal(line[i], '"', 'missing end quote');
  return { command, rest: line.slice(i + 1) };
}

// A fake borg that prints the variables under test and its argv, each ended by a NUL (execa's
// echo-argv idea): a shell script, so each of the many round trips below costs no node start.
const binDir = join(dir, 'bin with space');
mkdirSync(binDir);
const fakeBorg = `#!/bin/sh
printf '%s\\0' "$BORG_HOST_ID" "$WEIRD" "$@"
`;
function echoed(stdout: string): { argv: string[]; env: { BORG_HOST_ID: string | undefined; WEIRD: string | undefined } } {
  const [host, weird, ...argv] = stdout.split('\0').slice(0, -1);
  return { argv, env: { BORG_HOST_ID: host, WEIRD: weird } };
}
for (const name of ['borg', 'my borg']) {
  writeFileSync(join(binDir, name), fakeBorg);
  chmodSync(join(binDir, name), 0o755);
}

const nasty = [
  '/srv/borg repos/main',
  "/srv/it's",
  '/srv/"quoted"',
  '/srv/$HOME/${USER}',
  '/srv/`id`/$(id)',
  '/srv/back\\slash',
  '/srv/ends-in-backslash\\',
  '/srv/\\"',
  '/srv/a\\"b',
  "/srv/'",
  "/srv/''\\''",
  '/srv/*?[a]',
  '/srv/a;b|c&d>e<f',
  '/srv/#hash',
  '/srv/~tilde',
  '/srv/über ✓',
  '/srv/-dash',
  '/srv/%h%u',
  '/srv/a=b',
  '/srv/  two  spaces  ',
  '/srv/,comma",restrict',
];
const shells = ['sh', 'dash', 'bash', 'zsh', 'ksh', 'mksh'].filter((shell) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0);

test(`round trip: every path reaches borg serve byte for byte (${shells.join(', ')})`, () => {
  assert.ok(shells.includes('sh'));
  for (const path of nasty) {
    for (const remotePath of ['borg', join(binDir, 'my borg')]) {
      const options = opts({
        restrictToPaths: [path],
        restrictToRepositories: [`${path}/repo`],
        setEnv: [`BORG_HOST_ID=${path}`, `WEIRD=${path}"\\`],
        remotePath,
        appendOnly: true,
      });
      const line = formatAuthorizedKeysLine(options, parsePublicKey(ED25519_PUB));
      assert.ok(!line.includes('\n'));
      const { command, rest } = dequoteCommand(line);
      assert.equal(rest, `,restrict ${ED25519} backup@client one`);
      for (const shell of shells) {
        // sshd: execve(shell, [shell, "-c", command]) with the account's environment (session.c).
        const r = spawnSync(shell, ['-c', command], {
          encoding: 'utf8',
          env: { PATH: `${binDir}:/usr/bin:/bin`, HOME: '/home/nobody', USER: 'nobody' },
        });
        assert.equal(r.status, 0, `${shell} ${JSON.stringify(path)}: ${r.stderr}`);
        assert.deepEqual(
          echoed(r.stdout),
          {
            argv: ['serve', '--restrict-to-path', path, '--restrict-to-repository', `${path}/repo`, '--append-only'],
            env: { BORG_HOST_ID: path, WEIRD: `${path}"\\` },
          },
          `${shell}: ${command}`,
        );
      }
    }
  }
});

test('round trip: a file named like a path is not created by the shell (no redirection, no expansion)', () => {
  const target = join(dir, 'pwned');
  const line = formatAuthorizedKeysLine(opts({ restrictToPaths: [`/srv/x > ${target}; touch ${target}`] }), parsePublicKey(ED25519_PUB));
  const r = spawnSync('sh', ['-c', dequoteCommand(line).command], { env: { PATH: `${binDir}:/usr/bin:/bin` } });
  assert.equal(r.status, 0);
  assert.equal(existsSync(target), false);
});

// borg2 2.0.0b22+ (archiver/serve_cmd.py of b25): `serve --rest`, --permissions, no --append-only
// or --storage-quota; --remote-path borg2 means borg 2.
test('buildServeArgv for borg2: --rest first, restrictions, then --permissions', () => {
  const base = { ...defaultAuthorizedKeysOptions(), borg2: true, remotePath: 'borg2' };
  assert.deepEqual(buildServeArgv({ ...base, restrictToRepositories: ['/srv/r'], permissions: 'write-only' }), [
    'borg2',
    'serve',
    '--rest',
    '--restrict-to-repository',
    '/srv/r',
    '--permissions',
    'write-only',
  ]);
  assert.deepEqual(buildServeArgv({ ...base, restrictToPaths: ['/srv'] }), ['borg2', 'serve', '--rest', '--restrict-to-path', '/srv']);
  assert.throws(
    () => buildServeArgv({ ...base, appendOnly: true }),
    /borg 2 has no --append-only; use --permissions no-delete or write-only/,
  );
  assert.throws(() => buildServeArgv({ ...base, storageQuota: '10G' }), /borg 2 has no --storage-quota/);
  assert.throws(() => buildServeArgv({ ...defaultAuthorizedKeysOptions(), permissions: 'read-only' }), /--permissions is borg 2's/);
});

test('remotePathIsBorg2: borg2 by name or path, nothing else', () => {
  for (const p of ['borg2', '/usr/bin/borg2']) assert.equal(remotePathIsBorg2(p), true, p);
  for (const p of ['borg', '/usr/local/bin/borg', 'borg2-wrapper', 'myborg2x']) assert.equal(remotePathIsBorg2(p), false, p);
});
