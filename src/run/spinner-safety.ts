import { commandFacts } from '../borg/command-facts.js';
import type { Plan } from '../plan/plan.js';

// A spinner may stay up while a retried borg attempt runs only when borg cannot write to the same
// screen without tborg seeing it first: borg's stderr passes through tborg (which stops the spinner
// at borg's first byte), but its stdout does not, nor does a passphrase prompt: getpass() opens
// /dev/tty and writes its prompt there whatever stdin is (Python's getpass.unix_getpass), so a
// spinner (drawn only when stderr is that terminal) would erase "Enter passphrase for key ...".
// Only BORG_PASSPHRASE and BORG_PASSPHRASE_FD rule a prompt out (borg's key.py env_passphrase);
// BORG_PASSCOMMAND runs a command of the user's, which may itself ask on the terminal (pinentry).
// Whether a command's stdout is its result is its table row's (CommandSpec.stdout); --json makes
// any command's so.
export function spinnerSafeDuringAttempts(
  plan: Pick<Plan, 'command' | 'baseArgv'> & { borg: Pick<Plan['borg'], 'major' | 'version'> },
  env: NodeJS.ProcessEnv,
  streams: { stdoutIsTTY: boolean },
): boolean {
  const facts = commandFacts(plan.borg.major, plan.borg.version, plan.command);
  const writesStdout = facts?.stdout === true || plan.baseArgv.includes('--json');
  if (streams.stdoutIsTTY && writesStdout) return false;
  const passphraseGiven = env.BORG_PASSPHRASE !== undefined || Boolean(env.BORG_PASSPHRASE_FD);
  return passphraseGiven;
}
