import type { BorgCommandLine } from './command-line.js';
import { decideKeepalive, findKeepaliveOptions, type KeepaliveState, type SshKeepalive } from './keepalive.js';
import { attemptLockWait, computeLockWait, formatDuration, GUIDE_KEEPALIVE, type LockWaitModel } from './lock-wait.js';
import { joinRsh, withKeepalive, type RshWords } from './rsh.js';
import { connectWaitSeconds } from './connect-wait.js';
import type { TborgOptions } from './tborg-options.js';

// Planning is pure: (borg's argv, environment, tborg's options, what ssh -G said) -> Plan. Running the
// plan is run.ts's job. `tborg plan --json` prints exactly this object.

export interface PlanInput {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  options: TborgOptions;
  borg: { path: string; version: string | null; major: 1 | 2 };
  commandLine: BorgCommandLine;
  // Present when the repository is reached through an ssh client (not for local repositories, and
  // not when BORG_RSH/--rsh is something else than ssh).
  ssh: null | {
    rsh: RshWords;
    target: string[];
    configured: SshKeepalive;
    // True when configured.serverAliveInterval is Debian's BatchMode default (300), not a user's value.
    intervalIsDefault?: boolean;
    // Where the host's block is (for the warn mode's message); null: none; undefined: not looked up.
    hostBlock?: { file: string; line: number } | null;
  };
  // The rsh words when they are not ssh (e.g. `sh -c 'exec socat ...'`), for the explanation.
  nonSshRsh?: RshWords | null;
  // Whether stdin is a terminal (a person is there): the connect wait's default is 0 then.
  stdinIsTTY?: boolean;
}

export interface PlanWarning {
  text: string;
  // Printed before borg runs (true), or only shown by `tborg plan`/`doctor` (false).
  onRun: boolean;
}

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
    configured: SshKeepalive;
    effective: SshKeepalive;
  };
  keepalive: KeepaliveState;
  lockWait: {
    seconds: number;
    userGiven: boolean;
    // How `seconds` was reached, with its numbers (also when the user gave --lock-wait: tborg's W).
    model: LockWaitModel | null;
    // --lock-wait of each borg attempt, null when tborg does not add one (the user gave theirs).
    attemptSeconds: number | null;
  };
  retry: {
    deadlineSeconds: number;
    lockTimeouts: boolean;
    connectionRetries: number;
    // Why a lost connection will not be retried (input that cannot be replayed), or null.
    noConnectionRetry: string | null;
    // How long a server that cannot be reached at start is retried (connect-wait.ts); 0: not at all.
    connectWaitSeconds: number;
  };
  command: string[];
  // The borg argv without tborg's --lock-wait; attempts are built from it (see attemptArgv).
  baseArgv: string[];
  warnings: PlanWarning[];
}

export function buildPlan(input: PlanInput): Plan {
  const { commandLine, options } = input;
  const location = commandLine.repository?.location ?? null;
  const warnings: PlanWarning[] = [];
  let baseArgv = [...input.args];
  const env: Record<string, string> = {};

  const wanted = options.keepalive ?? GUIDE_KEEPALIVE;
  const decision = decideKeepalive(
    input.ssh?.configured ?? null,
    options.keepaliveMode,
    wanted,
    input.ssh?.intervalIsDefault ?? false,
    input.ssh ? findKeepaliveOptions(input.ssh.rsh.words) : undefined,
  );

  if (input.ssh && decision.state === 'injected') {
    const words = withKeepalive(input.ssh.rsh.words, decision.inject);
    const value = joinRsh(words);
    const rsh = commandLine.rsh;
    if (rsh && input.ssh.rsh.source === '--rsh') {
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
    warnings.push({ text: keepaliveWarning(input, wanted), onRun: true });
  }
  if (input.nonSshRsh && location && location.proto === 'ssh') {
    warnings.push({
      text: `${input.nonSshRsh.source} (${joinRsh(input.nonSshRsh.words)}) is not ssh: no ssh keepalive is checked or added`,
      onRun: false,
    });
  }

  // A line borg's own parser will reject is run once, untouched: borg's usage error is the answer.
  const opensRepository = commandLine.opensRepository && commandLine.repository !== null && commandLine.invalid === null;
  const remoteSsh = input.ssh !== null;
  const effective = decision.effective;
  const model = opensRepository
    ? computeLockWait(
        remoteSsh && effective && effective.serverAliveInterval > 0
          ? { interval: effective.serverAliveInterval, countMax: effective.serverAliveCountMax }
          : null,
        remoteSsh ? options.serverAlive : undefined,
      )
    : null;
  if (model?.tcpKeepaliveFallback && remoteSsh) {
    warnings.push({
      text:
        `the server's sshd has no ClientAliveInterval (--tborg-server-alive none): a stale borg serve keeps the lock ` +
        `until TCP keepalive gives up, about ${formatDuration(model.serverBound)}; add "ClientAliveInterval 10" and ` +
        `"ClientAliveCountMax 30" to the server's sshd_config (tborg sshd-config prints them)`,
      onRun: true,
    });
  }

  const userLockWait = commandLine.lockWait;
  let lockSeconds = 0;
  if (opensRepository && model) {
    lockSeconds = userLockWait ?? model.seconds;
    if (userLockWait !== null && userLockWait < model.seconds && remoteSsh) {
      warnings.push({
        text:
          `--lock-wait ${userLockWait} is shorter than the ${formatDuration(model.seconds)} a stale borg serve can hold ` +
          `the lock after a dropped connection (${model.formula}); this run may still fail with a lock timeout`,
        onRun: true,
      });
    }
  }
  const deadlineSeconds = opensRepository ? (options.maxWait ?? lockSeconds) : 0;
  const attemptSeconds = opensRepository && userLockWait === null ? attemptLockWait(deadlineSeconds, input.borg.major) : null;

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
      configured: input.ssh.configured,
      effective: effective ?? input.ssh.configured,
    },
    keepalive: decision.state,
    lockWait: { seconds: lockSeconds, userGiven: userLockWait !== null, model, attemptSeconds },
    retry: {
      deadlineSeconds,
      lockTimeouts: opensRepository,
      connectionRetries: opensRepository && remoteSsh ? options.connectionRetries : 0,
      noConnectionRetry: commandLine.consumesStdin
        ? `${commandLine.consumesStdin} reads input that cannot be replayed`
        : null,
      connectWaitSeconds: opensRepository && location?.host ? connectWaitSeconds(options.connectWait, input.stdinIsTTY ?? false) : 0,
    },
    command: [...commandLine.command],
    baseArgv,
    warnings,
  };
  plan.borg.argv = attemptArgv(plan, attemptSeconds);
  return plan;
}

// The argv of one attempt. tborg's --lock-wait goes first, as a common option before the command
// (borg 1.x and 2 both accept common options there), so the user's words keep their positions.
export function attemptArgv(plan: Plan, lockWaitSeconds: number | null): string[] {
  if (lockWaitSeconds === null || plan.lockWait.userGiven || !plan.retry.lockTimeouts) return [...plan.baseArgv];
  return ['--lock-wait', String(lockWaitSeconds), ...plan.baseArgv];
}

function keepaliveWarning(input: PlanInput, wanted: { interval: number; countMax: number }): string {
  const host = input.commandLine.repository?.location.host ?? '?';
  const block = input.ssh?.hostBlock;
  const where = block ? `in the "Host" block at ${block.file}:${block.line}` : `in a "Host ${host}" block of your ssh config`;
  const has = input.ssh?.intervalIsDefault
    ? `only Debian's BatchMode default ServerAliveInterval (${input.ssh.configured.serverAliveInterval} s)`
    : 'no ServerAliveInterval';
  return (
    `ssh to ${host} has ${has}: a dropped connection can hang this backup and leave a stale lock. ` +
    `Add "ServerAliveInterval ${wanted.interval}" and "ServerAliveCountMax ${wanted.countMax}" ${where}, ` +
    `or run: tborg ssh-config ${host} --write`
  );
}
