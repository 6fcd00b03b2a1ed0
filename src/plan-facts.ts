import { findBorg } from './borg-binary.js';
import { readBorgVersion } from './borg-version.js';
import { parseBorgCommandLine } from './command-line.js';
import { remoteShellVariable } from './location.js';
import { createPlaceholderResolver } from './placeholders.js';
import type { CommandContext } from './main.js';
import type { PlanInput } from './plan.js';
import { isSsh, readRsh, sshTarget } from './rsh.js';
import { intervalIsBatchModeDefault, resolveSshSettings } from './ssh-settings.js';

// The impure half of planning: finds borg and its version, parses borg's command line and asks
// OpenSSH (`ssh -G`, never a connection) what it will do for the repository's host.
export async function gatherPlanInput(context: CommandContext, options: { locateHostBlock?: boolean } = {}): Promise<PlanInput> {
  const { env } = context;
  const borgPath = findBorg(context.options.borg, env, context.selfPaths);
  const version = readBorgVersion(borgPath, env);
  const major: 1 | 2 = version && version.major >= 2 ? 2 : 1;
  const commandLine = parseBorgCommandLine(context.args, env, major, {
    ...(version ? { version: version.version } : {}),
    cwd: process.cwd(),
    placeholder: createPlaceholderResolver(version?.version ?? null),
  });
  const input: PlanInput = {
    args: context.args,
    env,
    options: context.options,
    borg: { path: borgPath, version: version?.version ?? null, major },
    commandLine,
    ssh: null,
    nonSshRsh: null,
    stdinIsTTY: process.stdin.isTTY === true,
  };
  const location = commandLine.repository?.location;
  // Only where borg itself starts an OpenSSH client: ssh:// and scp-style (BORG_RSH / --rsh). borg 2's
  // rest://host (BORGSTORE_RSH) and sftp:// (paramiko) are not handled yet.
  if (!commandLine.opensRepository || commandLine.invalid !== null || !location || remoteShellVariable(location) !== 'BORG_RSH' || !location.host) {
    return input;
  }
  const rsh = readRsh(commandLine.rsh?.value ?? null, env);
  if (!isSsh(rsh.words)) {
    input.nonSshRsh = rsh;
    return input;
  }
  const target = sshTarget(rsh.words, { user: location.user, host: location.host, port: location.port });
  const settings = resolveSshSettings(target);
  input.ssh = {
    rsh,
    target,
    configured: { serverAliveInterval: settings.serverAliveInterval, serverAliveCountMax: settings.serverAliveCountMax },
    intervalIsDefault: intervalIsBatchModeDefault(target, settings),
  };
  const wantsPlace = options.locateHostBlock || context.options.keepaliveMode === 'warn';
  // Interval 0 or Debian's BatchMode default: the two cases the warn mode speaks about.
  if (wantsPlace && (settings.serverAliveInterval === 0 || input.ssh.intervalIsDefault)) {
    // Only the warning needs to know where the host's block is: the ssh-config parser is loaded lazily.
    const { userConfigFile, findHostBlock } = await import('./ssh-config-source.js');
    const file = userConfigFile(rsh.words, env);
    const place = file ? findHostBlock(file, location.host) : null;
    input.ssh.hostBlock = place ? { file: place.file, line: place.line } : null;
  }
  return input;
}
