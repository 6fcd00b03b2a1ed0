import { setTimeout as delay } from 'node:timers/promises';
import type { CommandContext } from './main.js';
import { buildPlan, type Plan } from './plan.js';
import { gatherPlanInput } from './plan-facts.js';
import { BorgRunner } from './run-borg.js';

// `tborg <borg arguments>`: plan, then run borg, retrying what is safe to retry.
export async function runBorg(context: CommandContext): Promise<number> {
  const plan = buildPlan(await gatherPlanInput(context));
  for (const warning of plan.warnings) if (warning.onRun) context.terminal.warn(warning.text);
  const env = { ...context.env, ...plan.env };
  const runner = new BorgRunner(plan.borg.path, context.terminal, context.env);
  try {
    if (!plan.retry.lockTimeouts && plan.retry.connectionRetries === 0) {
      // Nothing to retry (--version, help, serve, ...): one attempt, no retry machinery loaded.
      return (await runner.attempt(plan.borg.argv, env)).exitCode;
    }
    const { runAttempts } = await import('./attempts.js');
    const outcome = await runAttempts(plan, env, {
      attempt: (argv, attemptEnv, options) => runner.attempt(argv, attemptEnv, options),
      now: () => Date.now(),
      sleep: async (ms, signal) => {
        await delay(ms, undefined, { signal }).catch(() => undefined);
      },
      random: Math.random,
      signal: runner.signal,
      stoppedBy: () => runner.received,
      terminal: context.terminal,
      spinDuringAttempts: spinnerSafeDuringAttempts(plan, context.env),
    });
    return outcome.exitCode;
  } finally {
    runner.dispose();
  }
}

// Commands whose stdout is their result: a spinner on the same terminal would garble it.
const STDOUT_COMMANDS = new Set(['list', 'info', 'diff', 'rlist', 'rinfo', 'config', 'key', 'export-tar', 'extract', 'debug']);

// A spinner may stay up while a retried borg attempt runs only when borg cannot write to the same
// screen without tborg seeing it first: borg's stderr passes through tborg (which stops the spinner
// at borg's first byte), but its stdout and its passphrase prompt (getpass writes to /dev/tty) do not.
export function spinnerSafeDuringAttempts(plan: Plan, env: NodeJS.ProcessEnv): boolean {
  const command = plan.command[0] ?? '';
  const writesStdout = STDOUT_COMMANDS.has(command) || plan.baseArgv.includes('--json');
  if (process.stdout.isTTY && writesStdout) return false;
  const passphraseGiven = Boolean(env.BORG_PASSPHRASE !== undefined || env.BORG_PASSCOMMAND || env.BORG_PASSPHRASE_FD);
  if (process.stdin.isTTY && !passphraseGiven) return false;
  return true;
}
