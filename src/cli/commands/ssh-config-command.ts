import { GUIDE_ALIVE_PAIR, type AlivePair } from '../../ssh/alive-pair.js';
import { TborgError, UsageError } from '../../core/errors.js';
import type { CommandContext } from '../command-context.js';
import { checkHostAlias, planSshConfigEdit } from '../../ssh/ssh-config-edit.js';
import { describePlace, findSettingSource, parseTimeValue, SYSTEM_CONFIG_FILE, type SettingSource } from '../../ssh/ssh-config-source.js';
import { readConfigFile, writeChecked, type ConfigFile, type WriteResult } from '../../ssh/ssh-config-write.js';
import { joinRsh } from '../../ssh/rsh.js';
import { defaultServerAliveInterval, intervalIsBatchModeDefault, resolveSshSettings, sshDialect } from '../../ssh/ssh-settings.js';
import { parseAlivePair } from '../tborg-options.js';
import { SSH_CONFIG_USAGE_LINE } from '../own-command-usage.js';
import { describePlacement, describeSource, toNumber } from './ssh-config-report.js';

// `tborg ssh-config HOST [--config FILE] [--write] [--keepalive IxC]` (README "tborg ssh-config"): shows, or writes,
// the ServerAlive* keepalive for HOST in the user's ssh config. `ssh -G` says what is in effect,
// ssh-config-source.ts where it comes from, ssh-config-edit.ts where new lines must go, and
// ssh-config-write.ts writes them, checked with `ssh -G -F candidate`, with a backup beside the file.

// ssh-config's words, as the one parser (own-commands.ts) reads them.
export interface SshConfigArgs {
  hosts: string[];
  config: string | undefined;
  write: boolean;
  keepalive: string | undefined;
}

interface Request {
  host: string;
  config: string | undefined;
  write: boolean;
  keepalive: AlivePair;
}

// Checks the words beyond what yargs checks: one plain HOST, an IxC keepalive, a file name.
function requestOf(context: CommandContext, args: SshConfigArgs): Request {
  if (args.hosts.length === 0) throw new UsageError(`missing HOST (usage: ${SSH_CONFIG_USAGE_LINE})`);
  if (args.hosts.length > 1) throw new UsageError(`one HOST only, got ${args.hosts.join(' ')}`);
  const host = args.hosts[0]!;
  checkHostAlias(host);
  const keepalive =
    args.keepalive !== undefined ? parseAlivePair(args.keepalive, '--keepalive') : (context.options.keepalive ?? GUIDE_ALIVE_PAIR);
  if (args.config === '') throw new UsageError('--config needs a file name');
  return { host, config: args.config, write: args.write, keepalive: { interval: keepalive.interval, countMax: keepalive.countMax } };
}

// The ssh command whose -G output is "what ssh uses now": the given file with -F (an empty one when
// it does not exist yet), else ssh's own defaults (~/.ssh/config, then /etc/ssh/ssh_config).
function currentTarget(file: ConfigFile, host: string): string[] {
  if (file.explicit) return ['ssh', '-F', file.exists ? file.realPath : '/dev/null', host];
  return ['ssh', host];
}

export async function runSshConfigCommand(context: CommandContext, words: SshConfigArgs): Promise<number> {
  const args = requestOf(context, words);
  const out = (text: string): void => context.terminal.out(`${text}\n`);
  const { host, keepalive } = args;
  const file = readConfigFile(args.config);
  const target = currentTarget(file, host);
  const now = resolveSshSettings(target, { env: context.env });
  const dialect = sshDialect('ssh', { env: context.env });

  const sourceOf = (keyword: 'ServerAliveInterval' | 'ServerAliveCountMax'): SettingSource | null => {
    if (file.exists) {
      const s = findSettingSource(file.realPath, host, keyword, { user: null, dialect });
      if (s) return s;
    }
    if (!file.explicit) return findSettingSource(SYSTEM_CONFIG_FILE, host, keyword, { system: true, user: null, dialect });
    return null;
  };
  const intervalSource = sourceOf('ServerAliveInterval');
  const countSource = sourceOf('ServerAliveCountMax');
  // Debian's ssh sends keepalives every 300 s when BatchMode is yes and nothing sets the interval:
  // that is ssh's default, not the user's choice, so tborg may still write its own. Asked once; when
  // the interval in effect is that default, it is also the default to show.
  const intervalIsDefault = intervalIsBatchModeDefault(target, now, { env: context.env });
  const defaultInterval = intervalIsDefault
    ? now.serverAliveInterval
    : defaultServerAliveInterval(now.batchMode, 'ssh', { env: context.env });
  const intervalDefaultText = defaultInterval === 0 ? 'off' : `${defaultInterval}, as BatchMode is yes (Debian's ssh)`;
  out(
    `${host}: ServerAliveInterval ${now.serverAliveInterval}, ServerAliveCountMax ${now.serverAliveCountMax} (${joinRsh([target[0]!, '-G', ...target.slice(1)])})`,
  );
  out(
    `  ServerAliveInterval ${now.serverAliveInterval}: ${describeSource(intervalSource, now.serverAliveInterval, parseTimeValue, intervalDefaultText)}`,
  );
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

  const plan = planSshConfigEdit(file.text, host, keepalive, { file: file.path, dialect });
  const silence = (keepalive.countMax + 1) * keepalive.interval;
  out(
    `To give ${host} a keepalive of ${keepalive.interval} s x ${keepalive.countMax} (ssh gives up after about ${silence} s of silence), ` +
      `tborg ${args.write ? 'adds' : 'would add'} to ${file.path}${file.exists ? '' : ' (a new file)'} ${describePlacement(plan)}:`,
  );
  for (const line of plan.inserted) out(`    + ${line}`.trimEnd());
  for (const s of plan.shadowed) {
    out(
      `  ${s.keyword} ${s.value} at ${file.path}:${s.line} then no longer applies to ${host}${s.certain ? '' : ' (where it did)'}; other hosts keep it.`,
    );
  }
  if (!args.write) {
    out(
      `Run \`tborg ssh-config ${host}${args.config !== undefined ? ` --config ${args.config}` : ''} --write\` to write it (a backup copy is kept beside the file).`,
    );
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
