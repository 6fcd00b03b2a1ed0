import { borg2Generation } from '../borg/location.js';
import type { AlivePair } from '../ssh/alive-pair.js';
import { computeGuardedLockWait, GUARD_ALIVE_PAIR } from './guard-lock-wait.js';
import type { LockWaitModel } from './lock-wait.js';
import type { BorgCommandLine } from '../borg/command-line.js';
import { findGuardObstacle, injectRunToken } from './run-token.js';

// What --tborg-server-guard changes in a run's plan (README "The server half"). Pure. Off: nothing
// (no token, the usual keepalive and lock wait). On, for a borg whose lock belongs to the server's
// `borg serve`: a token in the remote path, the guard's lock wait, and a shorter injected keepalive.

export interface ServerGuardPlan {
  // --tborg-server-guard on.
  on: boolean;
  // This run sends a run token (the remote path starts with TBORG_RUN=<token>).
  sent: boolean;
  // Why it is on but sends none (the command, the transport, the borg line), else null.
  notApplicable: string | null;
}

export interface ServerGuardDecision {
  plan: ServerGuardPlan;
  // The keepalive to inject when the user gave none, undefined: tborg's usual one.
  keepalive: AlivePair | undefined;
  lockWait(effectiveKeepalive: AlivePair | null): LockWaitModel;
  inject(argv: readonly string[], env: Record<string, string>): { argv: string[]; env: Record<string, string> };
}

// What of plan-input.ts's PlanInput the decision reads.
export interface ServerGuardInput {
  env: NodeJS.ProcessEnv;
  options: { serverGuard: boolean };
  borg: { version: string | null; major: 1 | 2 };
  commandLine: BorgCommandLine;
  ssh: null | { rest?: unknown };
  runToken?: string;
}

export function decideServerGuard(input: ServerGuardInput): ServerGuardDecision {
  const { commandLine, options } = input;
  const notApplicable = options.serverGuard
    ? findGuardObstacle({
        opensRepository: commandLine.opensRepository && commandLine.repository !== null && commandLine.invalid === null,
        ssh: input.ssh !== null,
        rest: Boolean(input.ssh?.rest),
        storeLock: input.borg.major === 2 && borg2Generation(input.borg.version ?? undefined) >= 10,
        otherRepository: commandLine.otherRepository !== null,
      })
    : null;
  const token = input.runToken;
  const sent = options.serverGuard && notApplicable === null && token !== undefined;
  const line = input.borg.major === 1 ? 'borg 1.x' : `borg2 ${input.borg.version ?? ''}`.trim();
  return {
    plan: { on: options.serverGuard, sent, notApplicable },
    keepalive: sent ? GUARD_ALIVE_PAIR : undefined,
    lockWait: (keepalive) =>
      computeGuardedLockWait(
        keepalive,
        `${line} over ssh runs borg serve on the server, and the server's guard ends this run's stale borg serve ` +
          `when the next attempt connects (--tborg-server-guard on): the wait no longer depends on the server's sshd`,
      ),
    inject: (argv, env) => {
      if (!sent) return { argv: [...argv], env: {} };
      // The user's env plus what the plan already set (a BORG_REMOTE_PATH of the user's is kept as the rest).
      return injectRunToken(argv, commandLine.remotePathAt, commandLine.remotePath, { ...input.env, ...env }, token!);
    },
  };
}
