import { existsSync } from 'node:fs';
import { findBorg } from '../borg/borg-binary.js';
import { borgLine, readBorgVersion, type BorgVersion } from '../borg/borg-version.js';
import { parseBorgCommandLine } from '../borg/command-line.js';
import { remoteShellVariable } from '../borg/location.js';
import { createPlaceholderResolver } from '../borg/placeholders.js';
import type { PlanRequest } from './plan-options.js';
import type { PlanInput } from './plan-input.js';
import { findKeepaliveOptions, mentionsSetupTimeout } from './keepalive.js';
import { isSsh, parseSshArgv, readRsh, sshTarget } from '../ssh/rsh.js';
import {
  DEBIAN_BATCHMODE_INTERVAL,
  intervalIsBatchModeDefault,
  resolveSshSettings,
  setupTimeoutIsServerAlive,
  sshDialect,
  type SshSettings,
  type SshSettingsResolver,
} from '../ssh/ssh-settings.js';

// The two facts planning asks of programs, and who answers: OpenSSH (`ssh -G`) and borg
// (`borg --version`) by default; a test gives its own answers, so the planner's tests need no ssh
// (test/unit/plan-facts.test.ts), while test/cli/plan-cli.test.ts keeps real ssh as the referee.
export interface PlanFactSources {
  resolveSshSettings: SshSettingsResolver;
  readBorgVersion: (borgPath: string, env: NodeJS.ProcessEnv) => BorgVersion | undefined;
}

// The real programs' answers.
const PROGRAM_FACTS: Readonly<PlanFactSources> = Object.freeze({ resolveSshSettings, readBorgVersion });

export interface GatherOptions {
  // Look up the host's block in the user's ssh config even when no warning needs it (doctor).
  locateHostBlock?: boolean;
  // Other answers than the programs' (tests).
  facts?: Partial<PlanFactSources>;
}

// The impure half of planning: finds borg and its version, parses borg's command line and asks
// OpenSSH (`ssh -G`, never a connection) what it will do for the repository's host. Every program
// runs with the caller's environment (context.env), never process.env.
export async function gatherPlanInput(context: PlanRequest, options: GatherOptions = {}): Promise<PlanInput> {
  const { env } = context;
  const facts: PlanFactSources = { ...PROGRAM_FACTS, ...options.facts };
  const borgPath = findBorg(context.options.borg, env, context.selfPaths);
  const version = facts.readBorgVersion(borgPath, env);
  const major = borgLine(version?.version);
  const commandLine = parseBorgCommandLine(context.args, env, major, {
    ...(version ? { version: version.version } : {}),
    cwd: context.cwd,
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
    stdinIsTTY: context.stdinIsTTY,
  };
  // README "The server half": one fresh token per tborg run, the same for all its attempts.
  if (context.options.serverGuard) input.runToken = (await import('node:crypto')).randomBytes(16).toString('hex');
  const location = commandLine.repository?.location;
  if (!commandLine.opensRepository || commandLine.invalid !== null || !location || !location.host) return input;
  // borg 2.0.0b22+ over ssh: borgstore's ssh command (BORGSTORE_RSH, BORG_RSH, or its own default with
  // its keepalive and the URL's port), not borg's (rest-ssh.ts, loaded only for a borg2: one module
  // less to load on every borg 1.x run).
  const store = major === 2 ? await import('../ssh/rest-ssh.js') : null;
  const rest = store?.servesRestOverSsh(location, major, version?.version ?? null) ? store : null;
  // Otherwise only where borg itself starts an OpenSSH client: ssh:// and scp-style (BORG_RSH / --rsh).
  // sftp:// (paramiko) and the other borgstore backends use no OpenSSH client.
  if (!rest && remoteShellVariable(location) !== 'BORG_RSH') return input;
  const rsh = rest ? rest.readStoreRsh(env, location.port) : readRsh(commandLine.rsh?.value ?? null, env);
  if (!isSsh(rsh.words)) {
    input.nonSshRsh = rsh;
    return input;
  }
  const target = rest
    ? rest.storeSshTarget(rsh.words, location)
    : sshTarget(rsh.words, { user: location.user, host: location.host, port: location.port });
  const settings = facts.resolveSshSettings(target, { env });
  input.ssh = {
    rsh,
    target,
    configured: { interval: settings.serverAliveInterval, countMax: settings.serverAliveCountMax },
    destination: { hostname: settings.hostname, port: settings.port, user: settings.user },
    intervalIsDefault: await intervalIsDefault(target, settings, env, facts.resolveSshSettings),
    // One more ssh -G, only for words that use the old keyword.
    ...(mentionsSetupTimeout(rsh.words)
      ? { setupTimeoutIsInterval: setupTimeoutIsServerAlive(target[0], { env }, facts.resolveSshSettings) }
      : {}),
    ...(rest ? { rest: { remoteCommand: rest.restServeCommand(env, location), sshPort: settings.port } } : {}),
    probe: probeTarget(settings),
  };
  const wantsPlace = options.locateHostBlock || context.options.keepaliveMode === 'warn';
  // Interval 0 or Debian's BatchMode default: the two cases the warn mode speaks about.
  if (wantsPlace && (settings.serverAliveInterval === 0 || input.ssh.intervalIsDefault)) {
    // Only the warning needs to know where the host's block is: the ssh-config parser is loaded lazily.
    const { userConfigFile, findHostBlock } = await import('../ssh/ssh-config-source.js');
    const file = userConfigFile(rsh.words);
    const place = file ? findHostBlock(file, location.host) : null;
    input.ssh.hostBlock = place ? { file: place.file, line: place.line } : null;
  }
  return input;
}

// Whether ssh -G's ServerAliveInterval is Debian's BatchMode default (ssh-settings.ts). Asking ssh a
// second time runs the user's `Match exec` commands a second time, where borg's own connection runs
// them once; so ssh is asked again only when something could have set the value: an -o in the ssh
// words or a ServerAliveInterval line (or an alias of it) in a config file ssh reads that applies or
// may apply to the host. With none, a 300 under BatchMode can only be Debian's default. A file that
// exists but cannot be read as ssh config counts as "may set it".
async function intervalIsDefault(
  target: readonly string[],
  settings: SshSettings,
  env: NodeJS.ProcessEnv,
  resolve: SshSettingsResolver,
): Promise<boolean> {
  if (!settings.batchMode || settings.serverAliveInterval !== DEBIAN_BATCHMODE_INTERVAL) return false;
  const askAgain = (): boolean => intervalIsBatchModeDefault(target, settings, { env }, resolve);
  const dialect = sshDialect(target[0], { env }, resolve);
  if (findKeepaliveOptions(target).serverAliveInterval) return askAgain();
  const source = await import('../ssh/ssh-config-source.js');
  const argv = parseSshArgv(target.slice(1));
  const destination = argv.destination ?? '';
  const at = destination.lastIndexOf('@');
  const alias = at === -1 ? destination : destination.slice(at + 1);
  const user = argv.loginName ?? (at === -1 ? null : destination.slice(0, at));
  const userFile = source.userConfigFile(target);
  const files = [
    ...(userFile ? [{ file: userFile, system: false }] : []),
    ...(argv.configFile === undefined ? [{ file: source.SYSTEM_CONFIG_FILE, system: true }] : []),
  ];
  for (const { file, system } of files) {
    let mentioned = false;
    try {
      source.walkConfig(
        file,
        alias,
        { user, system },
        {
          onLine(line, active) {
            if (active === false || source.canonicalKeyword(line.keyword, dialect) !== 'serveraliveinterval') return false;
            mentioned = true;
            return true;
          },
        },
      );
    } catch (error) {
      if (!(error instanceof source.ConfigParseError)) throw error;
      if (existsSync(file)) mentioned = true;
    }
    if (mentioned) return askAgain();
  }
  return true;
}

// Where ssh will open its TCP connection, when ssh itself opens it: ssh -G's hostname and port,
// unless a ProxyCommand or ProxyJump carries the connection (then a probe of the host would test
// another path than ssh's; readconf.c prints "none" for an unset one, or leaves it out).
function probeTarget(settings: SshSettings): { host: string; port: number } | null {
  const set = (key: string): boolean => (settings.raw[key] ?? []).some((v) => v !== '' && v.toLowerCase() !== 'none');
  if (set('proxycommand') || set('proxyjump')) return null;
  return { host: settings.hostname, port: settings.port };
}
