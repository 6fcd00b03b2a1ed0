import { commandFacts } from '../borg/command-facts.js';
import { borg2Generation } from '../borg/location.js';
import type { AlivePair } from '../ssh/alive-pair.js';
import type { ServerGuardDecision } from './guard-plan.js';
import { computeLockWait, computeStoreLockWait, type LockWaitModel } from './lock-wait.js';
import type { PlanInput } from './plan-input.js';

// Which lock a line that opens a repository waits for, and how long (plan.ts buildPlan): a store
// lock in the repository (borg2 b10+), the server guard's wait, or the wait for a stale `borg serve`.
// `keepalive`: the ssh keepalive the attempts will run with, null when none.
export function chooseLockModel(input: PlanInput, keepalive: AlivePair | null, guard: ServerGuardDecision): LockWaitModel {
  const remoteSsh = input.ssh !== null;
  // The lock this command takes (CommandSpec.lock: exclusive, shared or none).
  const exclusive = commandFacts(input.borg.major, input.borg.version, input.commandLine.command)?.lock === 'exclusive';
  if (input.ssh?.rest) return computeStoreLockWait(keepalive, exclusive);
  // borg2 2.0.0b10..b24 over ssh:// run borg serve, but its lock is a store lock in the repository as
  // well: measured on b19 (docs/facts.md), a cut session's lock stayed until the 30-minute expiry, for
  // plain borg2 too. So every borg2 with store locks gets the store model.
  if (remoteSsh && input.borg.major === 2 && borg2Generation(input.borg.version ?? undefined) >= 10) {
    return computeStoreLockWait(
      keepalive,
      exclusive,
      `borg2 ${input.borg.version ?? ''} runs borg serve, which keeps its lock in the repository (storelocking.py); measured on b19, a cut session's lock stayed`,
    );
  }
  if (guard.plan.sent) return guard.lockWait(keepalive);
  return withWhy(computeLockWait(keepalive, remoteSsh ? input.options.serverAlive : undefined), input);
}

// Says which borg line chose the serve model (lock-wait.ts computeLockWait knows only the numbers).
function withWhy(model: LockWaitModel, input: PlanInput): LockWaitModel {
  const line = input.borg.major === 1 ? 'borg 1.x' : `borg2 ${input.borg.version ?? ''}`.trim();
  if (!input.ssh) return { ...model, why: `${line}, repository not reached through an ssh client: tborg's usual wait` };
  return { ...model, why: `${line} over ssh runs borg serve on the server: ${model.why}` };
}
