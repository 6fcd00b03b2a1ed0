import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { splitArguments } from '../../src/cli/tborg-options.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { PlanInput } from '../../src/plan/plan-input.js';
import type { BufferedChildResult } from '../../src/process/buffered-child.js';
import { readRsh, sshTarget } from '../../src/ssh/rsh.js';

// What the doctor tests share: plans built the way gatherPlanInput builds them (with ssh -G's answer
// given, so no ssh runs), doctor's ssh options, and what a probe's child did.

export const defaults = splitArguments([], {}).options;

// A plan for `args`, as a run would make it, with `ssh` as ssh -G's ServerAlive* (null: no ssh).
export function planFor(
  args: string[],
  env: NodeJS.ProcessEnv,
  ssh: { interval: number; countMax: number; intervalIsDefault?: boolean } | null,
  major: 1 | 2 = 1,
  options = defaults,
) {
  const commandLine = parseBorgCommandLine(args, env, major);
  const loc = commandLine.repository!.location;
  const rsh = readRsh(commandLine.rsh?.value ?? null, env);
  const input: PlanInput = {
    args,
    env,
    options,
    borg: { path: major === 1 ? '/usr/bin/borg' : '/usr/bin/borg2', version: major === 1 ? '1.2.4' : '2.0.0b5', major },
    commandLine,
    ssh:
      ssh && loc.host
        ? {
            rsh,
            target: sshTarget(rsh.words, { user: loc.user, host: loc.host, port: loc.port }),
            configured: { interval: ssh.interval, countMax: ssh.countMax },
            intervalIsDefault: ssh.intervalIsDefault ?? false,
            hostBlock: null,
          }
        : null,
    nonSshRsh: null,
  };
  return { input, plan: buildPlan(input), commandLine };
}

// probeSshOptions(10).
export const SSH_OPTS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];

// A child that exited 0 after 0.42 s with nothing said, with `over` changed.
export const probe = (over: Partial<BufferedChildResult>): BufferedChildResult => ({
  exitCode: 0,
  signal: null,
  stdout: '',
  stderr: '',
  timedOut: false,
  aborted: false,
  durationMs: 420,
  ...over,
});

// borg 1.2.4's `borg list --json --last 1` of a repository with one archive.
export const LIST_JSON = JSON.stringify({
  archives: [{ name: 'host-2026-11-26', time: '2026-11-26T03:00:00.000000', id: 'ab' }],
  encryption: { mode: 'repokey' },
  repository: { id: 'f00e', last_modified: '2026-11-26T03:00:01.000000', location: 'ssh://lab/r' },
});
