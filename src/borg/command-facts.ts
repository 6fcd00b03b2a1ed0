import { BORG1_COMMANDS } from './borg1-commands.js';
import { BORG2_COMMANDS } from './borg2-commands.js';
import { isInBetas, type BetaChange, type LockKind, type MonitorKind, type RetryRule } from './command-spec.js';
import { borg2Generation } from './location.js';

// What tborg knows of one command of one borg, read from its row of the grammar tables
// (borg1-commands.ts, borg2-commands.ts: CommandSpec), with the facts that changed between borg 2
// betas resolved for this borg's beta. The planner, the runner and the monitors ask this instead of
// keeping lists of command names of their own, so a command borg renames changes one table row.
export interface CommandFacts {
  // The command's words as the table keys them ('create', 'key export').
  readonly command: string;
  readonly stdout: boolean;
  readonly monitor: MonitorKind;
  readonly lock: LockKind;
  readonly bypassLock: boolean;
  readonly retry: RetryRule;
}

// The facts of `command` (borg's command words, e.g. ['key', 'export']) for borg `major` at `version`
// ("2.0.0b25"; null or undefined: unknown, any beta), or null when that borg has no such command
// (also [] for a line without one, such as `borg --version`).
export function commandFacts(major: 1 | 2, version: string | null | undefined, command: readonly string[]): CommandFacts | null {
  const key = command.join(' ');
  const table = major === 1 ? BORG1_COMMANDS : BORG2_COMMANDS;
  const spec = Object.hasOwn(table, key) ? table[key] : undefined;
  const beta = major === 2 && version !== null && version !== undefined ? borg2Generation(version) : null;
  if (!spec || !isInBetas(spec.betas, beta)) return null;
  return {
    command: key,
    stdout: spec.stdout,
    monitor: spec.monitor,
    lock: resolveBetaChange(spec.lock, beta),
    bypassLock: spec.bypassLock,
    retry: spec.retry,
  };
}

// The value for beta N; the newer one when the beta is unknown.
function resolveBetaChange<T extends string>(fact: T | BetaChange<T>, beta: number | null): T {
  if (typeof fact === 'string') return fact;
  return beta !== null && beta <= fact.until ? fact.before : fact.after;
}
