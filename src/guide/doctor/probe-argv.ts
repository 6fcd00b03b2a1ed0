import type { BorgCommandLine } from '../../borg/command-line.js';
import type { Plan } from '../../plan/plan.js';
import { joinRsh, readRsh, splitLikePython, sshTarget } from '../../ssh/rsh.js';
import type { DoctorWords } from './doctor-argument.js';

// The two probes' command lines, built from the plan a run would use: `ssh ... HOST borg --version`
// (the server probe) and `borg list --json --last 1 --lock-wait 5 REPO` (the repository probe), each
// with doctor's ssh options after the user's words. Pure.

// The rsh words a run of this plan hands borg: the plan's --rsh (possibly with tborg's keepalive),
// else its BORG_RSH, else the user's.
export function planRshWords(plan: Plan, commandLine: BorgCommandLine, env: NodeJS.ProcessEnv): string[] {
  const rsh = commandLine.rsh;
  if (rsh) {
    const word = plan.baseArgv[rsh.form === 'separate' ? rsh.index + 1 : rsh.index] ?? '';
    const value = rsh.form === 'separate' ? word : word.slice(word.indexOf('=') + 1);
    return splitLikePython(value);
  }
  if (plan.env.BORG_RSH !== undefined) return splitLikePython(plan.env.BORG_RSH);
  return readRsh(null, env).words;
}

// borg2 rest over ssh: the words before the destination in the argv a run of this plan makes ssh run.
export function storeRshWords(plan: Plan): string[] {
  if (plan.env.BORGSTORE_RSH !== undefined) return splitLikePython(plan.env.BORGSTORE_RSH);
  return [...(plan.ssh?.rsh.words ?? [])];
}

// ssh options doctor adds after the user's words: never ask anything (BatchMode also stops
// host-key questions and password prompts, ssh_config(5)); give up connecting after N s.
export function probeSshOptions(connectTimeoutSeconds: number): string[] {
  return ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${connectTimeoutSeconds}`];
}

// Long enough that another borg's moment on a lock is not taken for a held lock. Even readers take
// locks for a moment, with the same --lock-wait: every command takes the local cache's exclusive lock
// while it checks the repository's security (borg 1.2.4 cache.py SecurityManager.assert_secure:
// `with cache_config:` -> CacheConfig.open -> Lock(..., exclusive=True)), and a shared repository lock
// takes lock.exclusive as the mutex of lock.roster (locking.py Lock.acquire/release). On a busy
// machine such a moment can pass 1 s. A held lock is still reported within these seconds.
const PROBE_LOCK_WAIT_SECONDS = 5;

// The borg argv and environment of the repository probe: the plan's argv with doctor's ssh
// options in the rsh and, last (so they win over the user's at the same level: argparse keeps the
// last value), `--json --last 1 --lock-wait 5` before the repository.
export function repositoryProbe(
  plan: Plan,
  commandLine: BorgCommandLine,
  env: NodeJS.ProcessEnv,
  split: DoctorWords,
  major: 1 | 2,
  sshOptions: readonly string[] | null,
): { argv: string[]; env: Record<string, string> } {
  const argv = [...plan.baseArgv];
  const probeEnv: Record<string, string> = { ...plan.env };
  if (sshOptions !== null && plan.ssh?.transport === 'borg serve --rest') {
    // borgstore runs BORGSTORE_RSH verbatim: the words a run uses (with -p PORT where borgstore's
    // default has it) plus doctor's options.
    probeEnv.BORGSTORE_RSH = joinRsh([...storeRshWords(plan), ...sshOptions]);
  } else if (sshOptions !== null && plan.ssh !== null) {
    const words = [...planRshWords(plan, commandLine, env), ...sshOptions];
    const rsh = commandLine.rsh;
    if (rsh && rsh.form === 'separate') argv[rsh.index + 1] = joinRsh(words);
    else if (rsh) argv[rsh.index] = `--rsh=${joinRsh(words)}`;
    else probeEnv.BORG_RSH = joinRsh(words);
  }
  const repoWords = split.repository === null ? 0 : major === 1 ? 1 : 2;
  argv.splice(argv.length - repoWords, 0, '--json', '--last', '1', '--lock-wait', String(PROBE_LOCK_WAIT_SECONDS));
  return { argv, env: probeEnv };
}

// The ssh argv of the reachability probe: the plan's rsh words (with tborg's keepalive, as a run
// would have them) + doctor's -o options + borg's `-p PORT` and [user@]host + the remote command.
export function serverProbeArgv(
  rshWords: readonly string[],
  sshOptions: readonly string[],
  loc: { user: string | null; host: string; port: number | null },
  remotePath: string,
): string[] {
  return [...sshTarget([...rshWords, ...sshOptions], loc), remotePath, '--version'];
}
