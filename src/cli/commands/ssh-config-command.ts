import { GUIDE_ALIVE_PAIR, type AlivePair } from '../../ssh/alive-pair.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  chmodSync,
  existsSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TborgError, UsageError } from '../errors.js';
import type { CommandContext } from '../command-context.js';
import { checkHostAlias, planSshConfigEdit, type EditPlan } from '../../ssh/ssh-config-edit.js';
import {
  collectHostNames,
  describePlace,
  findSettingSource,
  parseTimeValue,
  SYSTEM_CONFIG_FILE,
  userConfigFile,
  type SettingSource,
} from '../../ssh/ssh-config-source.js';
import { joinRsh } from '../../ssh/rsh.js';
import { defaultServerAliveInterval, intervalIsBatchModeDefault, parseSshG, resolveSshSettings, type SshSettings } from '../../ssh/ssh-settings.js';
import { parseAlivePair } from '../tborg-options.js';

// `tborg ssh-config HOST [--config FILE] [--write] [--keepalive IxC]` (issue 6): shows, or writes,
// the ServerAlive* keepalive for HOST in the user's ssh config. `ssh -G` says what is in effect,
// ssh-config-source.ts where it comes from, ssh-config-edit.ts where new lines must go; every edit is
// checked with `ssh -G -F candidate` (for HOST and every other host the file names) before it
// atomically replaces the file, and a backup copy stays beside it: FILE.tborg-backup-<UTC time>.

// The borg serve guide's values (docs/facts.md): ServerAliveInterval 10, ServerAliveCountMax 30.

const USAGE_LINE = 'tborg ssh-config HOST [--config FILE] [--write] [--keepalive IxC]';

interface Arguments {
  host: string;
  config: string | undefined;
  write: boolean;
  keepalive: AlivePair;
  help: boolean;
}

export async function runSshConfigCommand(context: CommandContext): Promise<number> {
  try {
    const args = await parseArguments(context);
    if (args === 'help') return 0;
    return await run(context, args);
  } catch (error) {
    if (error instanceof TborgError) {
      context.terminal.error(error.message, 'ssh-config');
      return error.exitCode;
    }
    throw error;
  }
}

async function parseArguments(context: CommandContext): Promise<Arguments | 'help'> {
  const { default: yargs } = await import('yargs');
  const parser = yargs(context.args)
    .scriptName('tborg ssh-config')
    .usage(
      `Usage: ${USAGE_LINE}

Shows the ssh keepalive (ServerAliveInterval x ServerAliveCountMax) that ssh uses for HOST, where
it comes from, and the lines tborg would add so that borg's ssh connection notices a dead server.
With --write, adds them where ssh reads them first for HOST and for no other host, after checking
the edited file with ssh -G; keeps FILE.tborg-backup-<time> beside it. HOST is the host as written
in the repository location (an alias from the ssh config, or a host name).`,
    )
    .help(false)
    .version(false)
    .option('config', { type: 'string', requiresArg: true, describe: 'the ssh config file (default: ~/.ssh/config of your user)' })
    .option('write', { type: 'boolean', default: false, describe: 'write the keepalive into the file' })
    .option('keepalive', {
      type: 'string',
      requiresArg: true,
      describe: 'ServerAliveInterval x ServerAliveCountMax (default: --tborg-keepalive / TBORG_KEEPALIVE, else 10x30)',
    })
    .option('help', { type: 'boolean', describe: 'show this help' })
    .strictOptions()
    .exitProcess(false)
    .parserConfiguration({ 'camel-case-expansion': false, 'dot-notation': false, 'parse-numbers': false, 'parse-positional-numbers': false })
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new UsageError(`${message ?? error?.message ?? 'bad arguments'} (see tborg ssh-config --help)`);
    })
    .wrap(100);
  const argv = (await parser.parseAsync()) as Record<string, unknown> & { _: Array<string | number> };
  if (argv.help === true) {
    context.terminal.out(`${await parser.getHelp()}\n`);
    return 'help';
  }
  for (const name of ['config', 'keepalive']) {
    if (Array.isArray(argv[name])) throw new UsageError(`--${name} given more than once`);
  }
  const positional = argv._.map(String);
  if (positional.length === 0) throw new UsageError(`missing HOST (usage: ${USAGE_LINE})`);
  if (positional.length > 1) throw new UsageError(`one HOST only, got ${positional.join(' ')}`);
  const host = positional[0]!;
  checkHostAlias(host);
  const keepaliveText = argv.keepalive as string | undefined;
  const keepalive = keepaliveText !== undefined ? parseAlivePair(keepaliveText, '--keepalive') : (context.options.keepalive ?? GUIDE_ALIVE_PAIR);
  const config = argv.config as string | undefined;
  if (config === '') throw new UsageError('--config needs a file name');
  return { host, config, write: argv.write === true, keepalive: { interval: keepalive.interval, countMax: keepalive.countMax }, help: false };
}

interface ConfigFile {
  // As the user named it (or ~/.ssh/config), and the file that is really written (through symlinks).
  path: string;
  realPath: string;
  explicit: boolean;
  text: string;
  exists: boolean;
  stats: Stats | undefined;
}

function readConfigFile(args: Arguments): ConfigFile {
  const explicit = args.config !== undefined;
  const path = explicit ? resolve(args.config!) : userConfigFile(['ssh'])!;
  let realPath = path;
  try {
    realPath = realpathSync(path);
  } catch {
    // Missing (or a dangling symlink: then ssh cannot read it either; we create the path given).
  }
  try {
    const stats = statSync(realPath);
    if (!stats.isFile()) throw new TborgError(`${path} is not a regular file`);
    return { path, realPath, explicit, text: readFileSync(realPath, 'utf8'), exists: true, stats };
  } catch (error) {
    if (error instanceof TborgError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, realPath, explicit, text: '', exists: false, stats: undefined };
    throw new TborgError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

// The ssh command whose -G output is "what ssh uses now": the given file with -F (an empty one when
// it does not exist yet), else ssh's own defaults (~/.ssh/config, then /etc/ssh/ssh_config).
function currentTarget(file: ConfigFile, host: string): string[] {
  if (file.explicit) return ['ssh', '-F', file.exists ? file.realPath : '/dev/null', host];
  return ['ssh', host];
}

async function run(context: CommandContext, args: Arguments): Promise<number> {
  const out = (text: string): void => context.terminal.out(`${text}\n`);
  const { host, keepalive } = args;
  const file = readConfigFile(args);
  const target = currentTarget(file, host);
  const now = resolveSshSettings(target, { env: context.env });

  const sourceOf = (keyword: 'ServerAliveInterval' | 'ServerAliveCountMax'): SettingSource | null => {
    if (file.exists) {
      const s = findSettingSource(file.realPath, host, keyword, { user: null });
      if (s) return s;
    }
    if (!file.explicit) return findSettingSource(SYSTEM_CONFIG_FILE, host, keyword, { system: true, user: null });
    return null;
  };
  const intervalSource = sourceOf('ServerAliveInterval');
  const countSource = sourceOf('ServerAliveCountMax');
  // Debian's ssh sends keepalives every 300 s when BatchMode is yes and nothing sets the interval:
  // that is ssh's default, not the user's choice, so tborg may still write its own. Asked once; when
  // the interval in effect is that default, it is also the default to show.
  const intervalIsDefault = intervalIsBatchModeDefault(target, now, { env: context.env });
  const defaultInterval = intervalIsDefault ? now.serverAliveInterval : defaultServerAliveInterval(now.batchMode, 'ssh', { env: context.env });
  const intervalDefaultText = defaultInterval === 0 ? 'off' : `${defaultInterval}, as BatchMode is yes (Debian's ssh)`;
  out(`${host}: ServerAliveInterval ${now.serverAliveInterval}, ServerAliveCountMax ${now.serverAliveCountMax} (${joinRsh([target[0]!, '-G', ...target.slice(1)])})`);
  out(`  ServerAliveInterval ${now.serverAliveInterval}: ${describeSource(intervalSource, now.serverAliveInterval, parseTimeValue, intervalDefaultText)}`);
  out(`  ServerAliveCountMax ${now.serverAliveCountMax}: ${describeSource(countSource, now.serverAliveCountMax, toNumber, '3')}`);

  if (now.serverAliveInterval === keepalive.interval && now.serverAliveCountMax === keepalive.countMax) {
    out(`${host} already has ServerAliveInterval ${keepalive.interval} and ServerAliveCountMax ${keepalive.countMax}: nothing to change.`);
    return 0;
  }
  const userSet = now.serverAliveInterval !== 0 && !intervalIsDefault;
  if (userSet) {
    const where = intervalSource ? ` (${describePlace(intervalSource)})` : '';
    out(
      `${host} already has a keepalive you set: ServerAliveInterval ${now.serverAliveInterval}${where}. ` +
        `tborg does not override it${args.write ? '; nothing written' : ''}.`,
    );
    return 0;
  }

  const plan = planSshConfigEdit(file.text, host, keepalive, { file: file.path });
  const silence = (keepalive.countMax + 1) * keepalive.interval;
  out(
    `To give ${host} a keepalive of ${keepalive.interval} s x ${keepalive.countMax} (ssh gives up after about ${silence} s of silence), ` +
      `tborg ${args.write ? 'adds' : 'would add'} to ${file.path}${file.exists ? '' : ' (a new file)'} ${describePlacement(plan)}:`,
  );
  for (const line of plan.inserted) out(`    + ${line}`.trimEnd());
  for (const s of plan.shadowed) {
    out(`  ${s.keyword} ${s.value} at ${file.path}:${s.line} then no longer applies to ${host}${s.certain ? '' : ' (where it did)'}; other hosts keep it.`);
  }
  if (!args.write) {
    out(`Run \`tborg ssh-config ${host}${args.config !== undefined ? ` --config ${args.config}` : ''} --write\` to write it (a backup copy is kept beside the file).`);
    return 0;
  }
  let result: WriteResult;
  try {
    result = await writeChecked(file, host, keepalive, plan, context.env);
  } catch (error) {
    if (error instanceof TborgError) throw error;
    // A directory tborg may not write to, a full disk: the rename never happened.
    throw new TborgError(`cannot write ${file.path}: ${(error as Error).message}; the file is untouched`, { cause: error });
  }
  out(
    `${file.exists ? 'Wrote' : 'Created'} ${file.path}: ssh -G now shows ServerAliveInterval ${keepalive.interval}, ` +
      `ServerAliveCountMax ${keepalive.countMax} for ${host}; ${result.checked} other host names checked, unchanged.`,
  );
  if (result.backup) out(`Backup of the previous file: ${result.backup}`);
  const after = resolveSshSettings(target, { env: context.env });
  if (after.serverAliveInterval !== keepalive.interval || after.serverAliveCountMax !== keepalive.countMax) {
    context.terminal.warn(
      `ssh -G for ${host} still shows ServerAliveInterval ${after.serverAliveInterval}, ServerAliveCountMax ${after.serverAliveCountMax}: something outside ${file.path} decides`,
    );
  }
  return 0;
}

function toNumber(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}

function describeSource(source: SettingSource | null, effective: number, parse: (t: string) => number | null, defaultText: string): string {
  if (source === null) return `not set for this host in the config files (ssh's default: ${defaultText})`;
  const where = describePlace(source);
  if (!source.certain) return `perhaps from ${where}, if that Match applies (tborg does not evaluate it)`;
  const written = parse(source.value);
  if (written !== effective) return `ssh -G shows ${effective}, not the ${source.value} at ${where}: it comes from elsewhere`;
  return `from ${where}`;
}

function describePlacement(plan: EditPlan): string {
  switch (plan.placement) {
    case 'own-block':
      return `into its own block (${describePlace(plan.near!)}), right after the Host line`;
    case 'new-block':
      return `as a new block before line ${plan.insertAt}, ahead of ${describePlace(plan.near!)} where ssh would otherwise read it first`;
    case 'new-block-then-host-star':
      return `as a new block before line ${plan.insertAt}, ahead of ${describePlace(plan.near!)}; a \`Host *\` after it keeps the lines below for every host`;
    case 'append':
      return 'as a new block at the end (nothing in the file gives it a keepalive now)';
  }
}

// ---------------------------------------------------------------------------------------------
// Writing: candidate beside the file, checked by ssh, backup, atomic rename.

interface WriteResult {
  backup: string | undefined;
  checked: number;
}

async function writeChecked(file: ConfigFile, host: string, keepalive: AlivePair, plan: EditPlan, env: NodeJS.ProcessEnv): Promise<WriteResult> {
  const dir = dirname(file.realPath);
  if (!existsSync(dir)) {
    if (file.explicit) throw new TborgError(`cannot create ${file.path}: ${dir} does not exist`);
    // ~/.ssh as ssh-keygen creates it: only the user may enter it.
    mkdirSync(dir, { mode: 0o700 });
  }
  const mode = file.stats ? file.stats.mode & 0o7777 : 0o600;
  const candidate = join(dir, `.${basename(file.realPath)}.tborg-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    writeFileDurably(candidate, plan.text, mode, file.stats);
    const checked = await checkCandidate(file, candidate, host, keepalive, env);
    // Someone (an editor, another tborg) changed the file meanwhile: do not overwrite their change.
    const nowText = file.exists ? readFileSync(file.realPath, 'utf8') : existsSync(file.realPath) ? '\0changed' : '';
    if (nowText !== file.text) {
      throw new TborgError(`${file.path} changed while tborg was checking the edit; nothing written, run again`);
    }
    const backup = file.exists ? makeBackup(file.realPath, mode) : undefined;
    renameSync(candidate, file.realPath);
    renamed = true;
    syncDirectory(dir);
    return { backup, checked };
  } finally {
    if (!renamed) {
      try {
        unlinkSync(candidate);
      } catch {
        // already gone
      }
    }
  }
}

function writeFileDurably(path: string, text: string, mode: number, like: Stats | undefined): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
    fchmodSync(fd, mode);
    if (like && process.getuid?.() === 0 && (like.uid !== 0 || like.gid !== 0)) {
      // root editing another user's file: the file stays theirs (ssh refuses a config owned by
      // someone else).
      try {
        fchownSync(fd, like.uid, like.gid);
      } catch {
        // best effort
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// FILE.tborg-backup-20260126T030405Z: sorts by time, never overwrites an earlier backup or the
// user's own config.bak, and says who made it.
function makeBackup(path: string, mode: number): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let n = 0; ; n++) {
    const backup = `${path}.tborg-backup-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      copyFileSync(path, backup, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue;
      throw new TborgError(`cannot write the backup ${backup}: ${(error as Error).message}; nothing written`, { cause: error });
    }
    chmodSync(backup, mode);
    return backup;
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a directory be fsynced; the rename itself is atomic.
  }
}

// The candidate must (1) be accepted by ssh, (2) give HOST the new values and change nothing else for
// HOST, (3) give every other host the file names (and a few made-up ones) exactly the `ssh -G` output
// it had. Returns how many other names were compared.
async function checkCandidate(file: ConfigFile, candidate: string, host: string, keepalive: AlivePair, env: NodeJS.ProcessEnv): Promise<number> {
  const original = file.exists ? file.realPath : '/dev/null';
  const mine = await runSshG(['-F', candidate, host], env);
  if (mine.status !== 0) {
    throw new TborgError(`ssh refuses the edited file: ${joinStderrLines(mine.stderr)}; ${file.path} untouched`);
  }
  const after = parseSshG(mine.stdout, host);
  if (after.serverAliveInterval !== keepalive.interval || after.serverAliveCountMax !== keepalive.countMax) {
    throw new TborgError(
      `the edit would not take effect (ssh -G shows ServerAliveInterval ${after.serverAliveInterval}, ` +
        `ServerAliveCountMax ${after.serverAliveCountMax} for ${host}); ${file.path} untouched`,
    );
  }
  const before = await runSshG(['-F', original, host], env);
  if (before.status === 0 && !onlyKeepaliveDiffers(parseSshG(before.stdout, host), after)) {
    throw new TborgError(`the edit would change more than the keepalive for ${host}; ${file.path} untouched`);
  }
  const names = new Set<string>([
    ...(file.exists ? collectHostNames(file.realPath) : []),
    ...collectHostNames(candidate),
    // Names the file does not mention: they get the file's defaults, which must stay as they were.
    'tborg-check-unlisted.example',
    `${host}-tborg-check`,
    `tborg-check.${host}`,
    host.toUpperCase(),
    'localhost',
  ]);
  names.delete(host);
  const list = [...names].slice(0, 400);
  const changed: string[] = [];
  await forEachLimited(list, 4, async (name) => {
    const [a, b] = await Promise.all([runSshG(['-F', original, name], env), runSshG(['-F', candidate, name], env)]);
    if (a.status !== b.status || a.stdout !== b.stdout) changed.push(name);
  });
  if (changed.length > 0) {
    throw new TborgError(`the edit would also change ssh settings for ${changed.sort().join(', ')}; ${file.path} untouched`);
  }
  return list.length;
}

function onlyKeepaliveDiffers(a: SshSettings, b: SshSettings): boolean {
  const keys = new Set([...Object.keys(a.raw), ...Object.keys(b.raw)]);
  keys.delete('serveraliveinterval');
  keys.delete('serveralivecountmax');
  return [...keys].every((k) => JSON.stringify(a.raw[k]) === JSON.stringify(b.raw[k]));
}

interface SshRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

// `ssh -G` without a shell, stdin closed: it never prompts and never connects.
function runSshG(args: string[], env: NodeJS.ProcessEnv): Promise<SshRun> {
  return new Promise((resolvePromise) => {
    const child = spawn('ssh', ['-G', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ status: null, stdout, stderr: error.message });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function joinStderrLines(stderr: string): string {
  return (
    stderr
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('Pseudo-terminal'))
      .join('; ') || 'no reason given'
  );
}
