import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runOwnCommandLine } from '../../src/cli/own-commands.js';
import { TborgError } from '../../src/core/errors.js';
import type { CommandContext } from '../../src/cli/command-context.js';
import { collectHostNames } from '../../src/ssh/ssh-config-source.js';
import { defaultOptions } from '../../src/cli/tborg-options.js';
import type { AlivePair } from '../../src/ssh/alive-pair.js';
import { Terminal } from '../../src/cli/terminal.js';
import { contextFacts } from '../helpers/context-facts.js';

// `tborg ssh-config` through the one parser with a Terminal on PassThrough streams, and through
// `node bin/tborg.js`, with the real ssh -G. Every file lives in a temporary directory and is named with
// --config, so the machine's own ~/.ssh is never read or written. The default file (a home of its own in
// a mount namespace) and the keepalive against the lab's sshd: test/e2e/ssh-config-e2e.test.ts.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-ssh-config-'));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', '10-nas.conf'), 'Host nas\n  ServerAliveInterval 20 # set by hand\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

// The file: end-of-line comments, `Host *` defaults first, an Include and a Match block.
const CONFIG = `# ~/.ssh/config of a backup client
Host *            # defaults for every host
  ServerAliveCountMax 5   # give up late
  Compression yes

Include "@DIR@/conf.d/*.conf"

Match originalhost db,db2   # databases
  User dbadmin
  ServerAliveInterval 15

Host web web2
  HostName web.example.com # the web server
  Port 2222

Host backup
  HostName nas.example.com
  User borg
`;

let files = 0;
function configFile(text = CONFIG, mode = 0o640): string {
  const f = join(dir, `config-${++files}`);
  writeFileSync(f, text.replaceAll('@DIR@', dir));
  chmodSync(f, mode);
  return f;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCommand(args: string[], keepalive?: AlivePair, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const options = defaultOptions();
  options.keepalive = keepalive;
  const context: CommandContext = { args, options, env, terminal: new Terminal({ stdout, stderr }, { quiet: true }), ...contextFacts() };
  // As main does: the one parser, and a refusal printed once as `tborg: ssh-config: message`.
  let code: number;
  try {
    code = await runOwnCommandLine(['ssh-config', ...args], context);
  } catch (error) {
    if (!(error instanceof TborgError)) throw error;
    context.terminal.error(error.message, 'ssh-config');
    code = error.exitCode;
  }
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Outcome {
  const r = spawnSync(process.execPath, [TBORG, 'ssh-config', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function sshG(file: string, host: string): string {
  const r = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function keepaliveOf(file: string, host: string): [number, number] {
  const out = sshG(file, host);
  return [Number(/^serveraliveinterval (\d+)$/m.exec(out)?.[1]), Number(/^serveralivecountmax (\d+)$/m.exec(out)?.[1])];
}

function backupsOf(file: string): string[] {
  const base = file.split('/').pop()!;
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${base}.tborg-backup-`))
    .map((n) => join(dir, n));
}

function tempFilesLeft(): string[] {
  return readdirSync(dir).filter((n) => n.includes('.tborg-') && n.endsWith('.tmp'));
}

test('--write: HOST gets the keepalive, nobody else changes, comments, mode and a backup are kept; a second run changes nothing', async () => {
  const f = configFile();
  const original = readFileSync(f, 'utf8');
  const first = await runCommand(['backup', '--config', f, '--write']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, '');
  assert.match(first.stdout, /^backup: ServerAliveInterval 0, ServerAliveCountMax 5 /m);
  assert.match(first.stdout, /ServerAliveCountMax 5: from .*:3 \(Host \*\)/);
  assert.match(
    first.stdout,
    /Wrote .*: ssh -G now shows ServerAliveInterval 10, ServerAliveCountMax 30 for backup; \d+ other host names checked, unchanged\./,
  );

  // ssh -G shows it.
  assert.deepEqual(keepaliveOf(f, 'backup'), [10, 30]);
  // The backup is the old file, with its mode; the file keeps its mode.
  const backups = backupsOf(f);
  assert.equal(backups.length, 1);
  assert.match(backups[0]!, /\.tborg-backup-\d{8}T\d{6}Z$/);
  assert.equal(readFileSync(backups[0]!, 'utf8'), original);
  assert.equal(statSync(backups[0]!).mode & 0o777, 0o640);
  assert.equal(statSync(f).mode & 0o777, 0o640);
  assert.match(first.stdout, new RegExp(`Backup of the previous file: ${backups[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.deepEqual(tempFilesLeft(), []);

  // Only whole lines were added, before `Host *` (line 2); every original byte is still there.
  const now = readFileSync(f, 'utf8');
  const [heading, ...rest] = original.split('\n');
  const block = [
    '',
    'Host backup',
    '  # keepalive for borg, added by tborg ssh-config',
    '  ServerAliveInterval 10',
    '  ServerAliveCountMax 30',
    '',
  ];
  assert.equal(now, [heading, ...block, ...rest].join('\n'));
  assert.ok(now.includes('  ServerAliveCountMax 5   # give up late\n'), 'the space before an end-of-line comment is kept');

  // Every other host, named in the file or not: ssh -G output identical.
  const names = new Set([...collectHostNames(f), 'db', 'db2', 'web', 'web2', 'nas', 'unlisted.example', 'Backup', 'backup2']);
  names.delete('backup');
  for (const name of names) assert.equal(sshG(f, name), sshG(backups[0]!, name), name);
  const strip = (s: string): string => s.replace(/^serveralive(interval|countmax) .*$/gm, '');
  assert.equal(strip(sshG(f, 'backup')), strip(sshG(backups[0]!, 'backup')), 'backup: only the keepalive changed');

  // Again: nothing to do, nothing touched, no new backup.
  const mtime = statSync(f).mtimeMs;
  const second = await runCommand(['backup', '--config', f, '--write']);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /backup already has ServerAliveInterval 10 and ServerAliveCountMax 30: nothing to change\./);
  assert.equal(readFileSync(f, 'utf8'), now);
  assert.equal(statSync(f).mtimeMs, mtime);
  assert.equal(backupsOf(f).length, 1);
});

test('show (default): effective values, where they come from, the lines it would add; the file is untouched', async () => {
  const f = configFile();
  const before = readFileSync(f, 'utf8');
  const r = await runCommand(['backup', '--config', f]);
  assert.equal(r.code, 0);
  assert.equal(readFileSync(f, 'utf8'), before);
  assert.equal(backupsOf(f).length, 0);
  assert.match(r.stdout, /ServerAliveInterval 0: not set for this host in the config files \(ssh's default: off\)/);
  assert.match(r.stdout, /would add to .* as a new block before line 2, ahead of .*:2 \(Host \*\)/);
  assert.match(r.stdout, /^ {4}\+ Host backup$/m);
  assert.match(r.stdout, /^ {4}\+ {3}ServerAliveInterval 10$/m);
  assert.match(r.stdout, /ServerAliveCountMax 5 at .*:3 then no longer applies to backup; other hosts keep it\./);
  assert.match(r.stdout, /Run `tborg ssh-config backup --config .* --write`/);
});

test('a keepalive the user set (here through an Include) is not overridden', async () => {
  const f = configFile();
  const before = readFileSync(f, 'utf8');
  for (const host of ['nas', 'db']) {
    const r = await runCommand([host, '--config', f, '--write']);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      new RegExp(
        `${host} already has a keepalive you set: ServerAliveInterval (20|15) \\(.*\\)\\. tborg does not override it; nothing written\\.`,
      ),
    );
  }
  assert.match((await runCommand(['nas', '--config', f])).stdout, /ServerAliveInterval 20: from .*10-nas\.conf:2 \(Host nas\)/);
  assert.equal(readFileSync(f, 'utf8'), before);
  assert.equal(backupsOf(f).length, 0);
});

const debianSsh = /Debian/.test(spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr ?? '');

test("BatchMode yes alone is not the user's keepalive (Debian's default 300): tborg still writes its own", async () => {
  const f = configFile('Host backup\n  BatchMode yes\n');
  const r = await runCommand(['backup', '--config', f, '--write']);
  assert.equal(r.code, 0, r.stderr);
  if (debianSsh)
    assert.match(r.stdout, /ServerAliveInterval 300: not set for this host in the config files \(ssh's default: 300, as BatchMode is yes/);
  assert.match(r.stdout, /Wrote /);
  assert.deepEqual(keepaliveOf(f, 'backup'), [10, 30]);
});

// The 300 ssh -G shows is asked about, not guessed at: a `ServerAliveInterval 300` under a Match that
// tborg cannot evaluate looks like a place the value may come from, and 300 is also the default. ssh,
// asked again with BatchMode off, says which: here the Match does not apply, so it is the default and
// tborg writes; where the user's 300 does apply, it is theirs and kept.
test("BatchMode's default 300 beside a `Match exec` that does not apply: still Debian's default, written; a 300 that applies is kept", {
  skip: !debianSsh && 'not Debian OpenSSH',
}, async () => {
  const f = configFile('Host backup\n  BatchMode yes\nMatch exec false\n  ServerAliveInterval 300\n');
  const r = await runCommand(['backup', '--config', f, '--write']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ServerAliveInterval 300: perhaps from .*:4 \(Match exec false\), if that Match applies/);
  assert.match(r.stdout, /Wrote /);
  assert.deepEqual(keepaliveOf(f, 'backup'), [10, 30]);

  const g = configFile('Host backup\n  BatchMode yes\nMatch exec true\n  ServerAliveInterval 300\n');
  const before = readFileSync(g, 'utf8');
  const kept = await runCommand(['backup', '--config', g, '--write']);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /backup already has a keepalive you set: ServerAliveInterval 300 .*nothing written/);
  assert.equal(readFileSync(g, 'utf8'), before);
});

test("Debian's alias ProtocolKeepAlives counts as the user's ServerAliveInterval", {
  skip: !debianSsh && 'not Debian OpenSSH',
}, async () => {
  const f = configFile('Host backup\n  ProtocolKeepAlives 20 # old spelling\n');
  const r = await runCommand(['backup', '--config', f, '--write']);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /backup already has a keepalive you set: ServerAliveInterval 20 \(.*:2 \(Host backup\)\)\. tborg does not override it/,
  );
  assert.equal(backupsOf(f).length, 0);
});

test('--keepalive IxC, else --tborg-keepalive/TBORG_KEEPALIVE, else 10x30', async () => {
  const a = configFile();
  assert.equal((await runCommand(['backup', '--config', a, '--write', '--keepalive', '5x4'], { interval: 7, countMax: 8 })).code, 0);
  assert.deepEqual(keepaliveOf(a, 'backup'), [5, 4]);
  const b = configFile();
  assert.equal((await runCommand(['backup', '--config', b, '--write'], { interval: 7, countMax: 8 })).code, 0);
  assert.deepEqual(keepaliveOf(b, 'backup'), [7, 8]);
  const c = configFile();
  const r = cli(['backup', '--config', c, '--write'], { ...process.env, TBORG_KEEPALIVE: '12x6' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(keepaliveOf(c, 'backup'), [12, 6]);
});

test('a missing --config file is created (mode 600) and a symlinked one is written through the link', async () => {
  const missing = join(dir, 'new-config');
  const r = await runCommand(['backup', '--config', missing, '--write']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Created .*new-config/);
  assert.equal(statSync(missing).mode & 0o777, 0o600);
  assert.deepEqual(keepaliveOf(missing, 'backup'), [10, 30]);

  const target = configFile();
  const link = join(dir, 'config-link');
  symlinkSync(target, link);
  assert.equal((await runCommand(['backup', '--config', link, '--write'])).code, 0);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
  assert.deepEqual(keepaliveOf(target, 'backup'), [10, 30]);
  assert.equal(backupsOf(target).length, 1);
});

test('errors: one line on stderr, exit 2, file untouched', async () => {
  const f = configFile();
  const before = readFileSync(f, 'utf8');
  const cases: Array<[string[], RegExp]> = [
    [['backup', '--config', f, '--bogus'], /^tborg: ssh-config: Unknown argument: bogus/],
    [['--config', f, '--write'], /^tborg: ssh-config: missing HOST/],
    [['backup', 'web', '--config', f], /^tborg: ssh-config: one HOST only/],
    [['web*', '--config', f, '--write'], /not a plain host name/],
    [['backup', '--config'], /Not enough arguments following: config/],
    [['backup', '--config', f, '--keepalive', '10'], /expected INTERVALxCOUNT/],
    [['backup', '--config', dir], /is not a regular file/],
    [['backup', '--config', join(f, 'below-a-file'), '--write'], /^tborg: ssh-config: cannot read .*ENOTDIR/],
  ];
  for (const [args, message] of cases) {
    const r = await runCommand(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
  // A config ssh itself refuses: ssh -G's own words.
  const broken = configFile('Host backup\n  ServerAliveInterval 5#c\n');
  const r = await runCommand(['backup', '--config', broken, '--write']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^tborg: ssh-config: ssh -G failed for backup: .*invalid time value/);
  assert.equal(readFileSync(f, 'utf8'), before);
  assert.equal(backupsOf(f).length, 0);
});

test('a candidate ssh refuses: exit 2, file untouched, no backup, no temp file (fake ssh first on PATH)', () => {
  const fake = join(dir, 'fake-bin');
  mkdirSync(fake, { recursive: true });
  const realSsh = spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim();
  // Refuses any candidate file (tborg names them .NAME.tborg-PID-RANDOM.tmp); otherwise the real ssh.
  writeFileSync(
    join(fake, 'ssh'),
    `#!/bin/sh\ncase "$*" in *.tborg-*.tmp*) echo "candidate line 3: Bad configuration option: nope" >&2; echo "terminating, 1 bad configuration options" >&2; exit 255;; esac\nexec '${realSsh}' "$@"\n`,
  );
  chmodSync(join(fake, 'ssh'), 0o755);
  const f = configFile();
  const before = readFileSync(f, 'utf8');
  const r = cli(['backup', '--config', f, '--write'], { ...process.env, PATH: `${fake}:${process.env.PATH}` });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^tborg: ssh-config: ssh refuses the edited file: candidate line 3: Bad configuration option: nope; terminating, 1 bad configuration options; .* untouched\n$/,
  );
  assert.equal(readFileSync(f, 'utf8'), before);
  assert.equal(backupsOf(f).length, 0);
  assert.deepEqual(tempFilesLeft(), []);
});

test('CLI: --help prints usage on stdout; errors are one line on stderr', () => {
  const help = cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: tborg ssh-config HOST \[--config FILE\] \[--write\] \[--keepalive IxC\]/);
  assert.match(help.stdout, /--write/);
  assert.equal(help.stderr, '');
  const bad = cli(['--nope']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^tborg: ssh-config: Unknown argument: nope \(see tborg ssh-config --help\)\n$/);
});
