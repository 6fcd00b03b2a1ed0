import { GUIDE_ALIVE_PAIR, type AlivePair } from '../ssh/alive-pair.js';
import type { BorgCommandLine } from '../borg/command-line.js';
import { environmentRetryRefusal } from '../borg/connection-retry.js';
import { decideKeepalive, findKeepaliveOptions, type KeepaliveState } from './keepalive.js';
import { attemptLockWait, readBorgLockWait, type LockWaitModel } from './lock-wait.js';
import { chooseLockModel } from './lock-model.js';
import { planLandedCheck, type LandedCheck } from './landed.js';
import { joinRsh, sshTarget, withKeepalive } from '../ssh/rsh.js';
import { decideServerGuard, type ServerGuardPlan } from './guard-plan.js';
import type { PlanInput, SshDestination } from './plan-input.js';
import {
  warnKeepaliveMissing,
  warnRshNotSsh,
  warnServerAliveNone,
  warnShortLockWait,
  warnSshPortIgnored,
  type PlanWarning,
} from './plan-warnings.js';

// Planning is pure: (borg's argv, environment, tborg's options, what ssh -G said) -> Plan. Running the
// plan is src/run/run-borg.ts's job. `tborg plan --json` prints exactly this object.

export interface Plan {
  // major: which borg's locking rules apply to an attempt's --lock-wait (not part of plan --json).
  borg: { path: string; version: string | null; major: 1 | 2; argv: string[] };
  env: Record<string, string>;
  repository: null | {
    location: string;
    proto: string;
    user: string | null;
    host: string | null;
    port: number | null;
    path: string;
    archive: string | null;
  };
  ssh: null | {
    rsh: { source: string; words: string[] };
    configured: AlivePair;
    effective: AlivePair;
    destination?: SshDestination;
    // 'borg serve' (borg 1.x, borg2 ssh:// up to b24, legacy repositories) or 'borg serve --rest'
    // (borg2 rest:// on b22-b24, ssh:// from b25 on, through borgstore's ssh: rest-ssh.ts).
    transport: 'borg serve' | 'borg serve --rest';
    // The ssh argv borg will run, tborg's injection included: up to the destination, plus the remote
    // command for 'borg serve --rest' (borg 1.x adds its own options after `borg serve`).
    argv: string[];
    // Where tborg's TCP probe knocks when an attempt's end does not say whether the server could be
    // reached (connect-wait.ts): ssh -G's hostname and port; null behind a ProxyCommand/ProxyJump.
    probe: { host: string; port: number } | null;
    // The command ssh asks the server to run, as borg sends it: for 'borg serve', borg 1.x and 2
    // remote.py borg_cmd: [--remote-path or BORG_REMOTE_PATH or "borg", "serve"] (an empty
    // --remote-path falls back to the variable), followed by borg's log level and debug topics;
    // for 'borg serve --rest', borgstore's (rest-ssh.ts restServeCommand).
    remoteCommand: string[];
  };
  keepalive: KeepaliveState;
  lockWait: {
    seconds: number;
    userGiven: boolean;
    // Where the user's wait came from (borg2 also reads BORG_LOCK_WAIT); null when tborg chose it.
    userSource: '--lock-wait' | 'BORG_LOCK_WAIT' | null;
    // How `seconds` was reached, with its numbers (also when the user gave --lock-wait: tborg's W).
    model: LockWaitModel | null;
    // --lock-wait of each borg attempt, null when tborg does not add one (the user gave theirs).
    attemptSeconds: number | null;
  };
  retry: {
    deadlineSeconds: number;
    lockTimeouts: boolean;
    connectionRetries: number;
    // Why a lost connection will not be retried (connection-retry.ts: output that would be repeated,
    // input that cannot be replayed, a command of the user's run twice, ...), or null.
    noConnectionRetry: string | null;
    // How long a server that cannot be reached at start is retried (connect-wait.ts); 0: not at all.
    connectWaitSeconds: number;
    // The command of the user's that borg runs (CommandSpec.userCommand), or null. Such a
    // line gets one attempt, with the whole wait as borg's own --lock-wait: borg takes the lock before
    // it starts the command, and nothing the command prints or returns can be told from borg's.
    userCommand: string | null;
    // Who bounds the whole wait (README "How long tborg waits for a lock"): the user's
    // --tborg-max-wait, --lock-wait or BORG_LOCK_WAIT, which lost connections never extend; or
    // tborg's model, where each lost connection starts the wait over (the old borg serve may hold
    // the lock). null when nothing is waited for.
    boundSource: '--tborg-max-wait' | '--lock-wait' | 'BORG_LOCK_WAIT' | 'model' | null;
    // The longest tborg waits for locks and lost connections in all (not counting the connect wait):
    // deadlineSeconds under a bound of the user's, else deadlineSeconds plus one model wait per
    // lost connection retried.
    boundSeconds: number;
    // How tborg finds out, before retrying a lost create or rename, whether its archive landed
    // (landed.ts); null when no lost connection of this line is retried or it makes no archive.
    landedCheck: LandedCheck | null;
  };
  command: string[];
  // -n/--dry-run: borg changes nothing (the monitors record nothing, README "Monitoring").
  dryRun?: boolean;
  // The borg argv without tborg's --lock-wait; attempts are built from it (see attemptArgv).
  baseArgv: string[];
  warnings: PlanWarning[];
  // README "The server half": whether this run sends a run token, and why not.
  serverGuard?: ServerGuardPlan;
}

export function buildPlan(input: PlanInput): Plan {
  const { commandLine, options } = input;
  const location = commandLine.repository?.location ?? null;
  const warnings: PlanWarning[] = [];
  let baseArgv = [...input.args];
  const env: Record<string, string> = {};

  const guard = decideServerGuard(input);
  const wanted = options.keepalive ?? guard.keepalive ?? GUIDE_ALIVE_PAIR;
  const decision = decideKeepalive(
    input.ssh?.configured ?? null,
    options.keepaliveMode,
    wanted,
    input.ssh?.intervalIsDefault ?? false,
    input.ssh ? findKeepaliveOptions(input.ssh.rsh.words, input.ssh.setupTimeoutIsInterval ?? false) : undefined,
  );

  let sshWords = input.ssh ? [...input.ssh.rsh.words] : [];
  if (input.ssh && decision.state === 'injected') {
    const words = withKeepalive(input.ssh.rsh.words, decision.inject);
    sshWords = words;
    const value = joinRsh(words);
    const rsh = commandLine.rsh;
    if (input.ssh.rest) {
      // borgstore reads BORGSTORE_RSH (borg copies BORG_RSH there only when it is unset), and takes it
      // verbatim: the words are the user's own command plus the -o options, exactly what borgstore
      // would run otherwise; a -p PORT is among them only where borgstore would have added one.
      env.BORGSTORE_RSH = value;
    } else if (rsh && input.ssh.rsh.source === '--rsh') {
      // The user's --rsh wins over BORG_RSH in borg, so the options must go into --rsh itself. An
      // empty --rsh is not used (remote.py: `args.rsh or BORG_RSH`): then BORG_RSH gets them and the
      // user's argv stays byte for byte.
      if (rsh.form === 'separate') baseArgv[rsh.index + 1] = value;
      else baseArgv[rsh.index] = `--rsh=${value}`;
    } else {
      env.BORG_RSH = value;
    }
  }
  if (input.ssh && decision.state === 'warned') {
    warnings.push(warnKeepaliveMissing(input, wanted));
  }
  const sshPort = input.ssh?.rest?.sshPort;
  const portLost = Boolean(input.ssh?.rest && location?.port && sshPort !== undefined && sshPort !== location.port);
  if (input.ssh?.rest && location?.port && sshPort !== undefined && portLost) {
    warnings.push(warnSshPortIgnored(input.ssh.rsh.source, sshPort, location.port));
  }
  if (input.nonSshRsh && location && location.proto === 'ssh') warnings.push(warnRshNotSsh(input.nonSshRsh));

  // A line borg's own parser will reject is run once, untouched: borg's usage error is the answer.
  const opensRepository = commandLine.opensRepository && commandLine.repository !== null && commandLine.invalid === null;
  const remoteSsh = input.ssh !== null;
  const effective = decision.effective;
  const keepalive = remoteSsh && effective && effective.interval > 0 ? effective : null;
  const model = opensRepository ? chooseLockModel(input, keepalive, guard) : null;
  if (guard.plan.sent) {
    const injected = guard.inject(baseArgv, env);
    baseArgv = injected.argv;
    Object.assign(env, injected.env);
  }
  if (model?.tcpKeepaliveFallback && remoteSsh) {
    warnings.push(warnServerAliveNone(model.serverBound));
  }

  // borg2's --lock-wait defaults to BORG_LOCK_WAIT (archiver/_common.py: int(os.environ.get(
  // "BORG_LOCK_WAIT", 10))), so a user's BORG_LOCK_WAIT is their lock wait as much as --lock-wait is:
  // tborg adds no --lock-wait of its own then, and each attempt has exactly one wait (borg 1.x has no
  // such variable).
  const envLockWait = input.borg.major === 2 ? readBorgLockWait(input.env) : null;
  const userLockWait = commandLine.lockWait ?? envLockWait;
  const userSource = commandLine.lockWait !== null ? '--lock-wait' : envLockWait !== null ? 'BORG_LOCK_WAIT' : null;
  let lockSeconds = 0;
  if (opensRepository && model) {
    lockSeconds = userLockWait ?? model.seconds;
    if (userLockWait !== null && userLockWait < model.seconds && remoteSsh) {
      warnings.push(warnShortLockWait(userSource === 'BORG_LOCK_WAIT' ? 'BORG_LOCK_WAIT' : '--lock-wait', userLockWait, model));
    }
  }
  const noConnectionRetry = opensRepository ? (commandLine.noConnectionRetry ?? environmentRetryRefusal(input.env)) : null;
  const deadlineSeconds = opensRepository ? (options.maxWait ?? lockSeconds) : 0;
  const userCommand = opensRepository ? commandLine.userCommand : null;
  // The first attempt is short under every model, so that tborg can say within seconds what it waits
  // for; under store locks the later ones are long (lock-wait.ts attemptLockWait). A line that runs a
  // command of the user's has one attempt, which waits the whole wait inside borg.
  const attemptSeconds =
    opensRepository && userLockWait === null
      ? userCommand
        ? Math.max(1, deadlineSeconds)
        : attemptLockWait(deadlineSeconds, input.borg.major)
      : null;
  const connectionRetries = opensRepository && remoteSsh && noConnectionRetry === null && !userCommand ? options.connectionRetries : 0;
  const boundSource = !opensRepository ? null : options.maxWait !== undefined ? '--tborg-max-wait' : (userSource ?? 'model');
  const boundSeconds = boundSource === 'model' ? deadlineSeconds + connectionRetries * (model?.seconds ?? 0) : deadlineSeconds;

  const plan: Plan = {
    borg: { path: input.borg.path, version: input.borg.version, major: input.borg.major, argv: [] },
    env,
    repository: location && {
      location: location.location,
      proto: location.proto,
      user: location.user,
      host: location.host,
      port: location.port,
      path: location.path,
      archive: location.archive,
    },
    ssh: input.ssh && {
      rsh: { source: input.ssh.rsh.source, words: [...input.ssh.rsh.words] },
      configured: { ...input.ssh.configured },
      ...(input.ssh.destination ? { destination: { ...input.ssh.destination } } : {}),
      effective: { ...(effective ?? input.ssh.configured) },
      transport: input.ssh.rest ? 'borg serve --rest' : 'borg serve',
      argv: input.ssh.rest
        ? [...sshWords, ...input.ssh.target.slice(input.ssh.rsh.words.length), ...input.ssh.rest.remoteCommand]
        : sshTarget(sshWords, {
            user: location?.user ?? null,
            host: location?.host ?? '',
            port: location?.port ?? null,
          }),
      probe: input.ssh.probe ?? null,
      remoteCommand: input.ssh.rest
        ? [...input.ssh.rest.remoteCommand]
        : [remotePathOf(commandLine, baseArgv, { ...input.env, ...env }), 'serve'],
    },
    keepalive: decision.state,
    lockWait: { seconds: lockSeconds, userGiven: userLockWait !== null, userSource, model, attemptSeconds },
    retry: {
      deadlineSeconds,
      lockTimeouts: opensRepository && !userCommand,
      connectionRetries,
      noConnectionRetry,
      // Not when ssh is known to go to another port than the URL's: a refusal there is the set-up, not
      // a network still coming up, and plain borg2's error should come at once. Not for a line that
      // runs a command of the user's: its one attempt's failure cannot be told from the command's.
      connectWaitSeconds:
        opensRepository && location?.host && !portLost && !userCommand
          ? connectWaitSeconds(options.connectWait, input.stdinIsTTY ?? false)
          : 0,
      userCommand,
      boundSource,
      boundSeconds,
      landedCheck: connectionRetries > 0 ? planLandedCheck(commandLine, baseArgv, input.borg.major, input.borg.version) : null,
    },
    command: [...commandLine.command],
    dryRun: commandLine.dryRun,
    baseArgv,
    warnings,
    serverGuard: guard.plan,
  };
  plan.borg.argv = attemptArgv(plan, attemptSeconds);
  return plan;
}

// The argv of one attempt. tborg's --lock-wait goes first, as a common option before the command
// (borg 1.x and 2 both accept common options there), so the user's words keep their positions.
export function attemptArgv(plan: Plan, lockWaitSeconds: number | null): string[] {
  if (lockWaitSeconds === null || plan.lockWait.userGiven) return [...plan.baseArgv];
  return ['--lock-wait', String(lockWaitSeconds), ...plan.baseArgv];
}

// The remote path borg will send (borg 1.x and 2 remote.py borg_cmd: `args.remote_path or
// BORG_REMOTE_PATH or "borg"`), read from the argv and environment borg gets (the server guard's run
// token included).
function remotePathOf(commandLine: BorgCommandLine, argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const at = commandLine.remotePathAt;
  const word = at ? argv[at.form === 'separate' ? at.index + 1 : at.index] : undefined;
  const given = word === undefined ? '' : at?.form === 'joined' ? word.slice(word.indexOf('=') + 1) : word;
  return given || env.BORG_REMOTE_PATH || 'borg';
}

// How long a run rides out a server that cannot be reached at start (src/run/connect-wait.ts does
// the riding): --tborg-connect-wait, else 15 min without a terminal on stdin (a night's Wi-Fi usually
// comes back within minutes; cron wants the backup) and 0 with one (a person wants a typo's error at once).
const DEFAULT_CONNECT_WAIT_SECONDS = 15 * 60;
export function connectWaitSeconds(given: number | undefined, stdinIsTTY: boolean): number {
  return given ?? (stdinIsTTY ? 0 : DEFAULT_CONNECT_WAIT_SECONDS);
}
