import type { AlivePair } from '../ssh/alive-pair.js';
import type { BorgCommandLine } from '../borg/command-line.js';
import type { RshWords } from '../ssh/rsh.js';
import type { PlanOptions } from './plan-options.js';

// What the planner reads (plan.ts buildPlan): borg's argv and environment, tborg's options, the borg,
// the parsed line and what ssh -G said (plan-facts.ts gathers it).
export interface PlanInput {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  options: PlanOptions;
  borg: { path: string; version: string | null; major: 1 | 2 };
  commandLine: BorgCommandLine;
  // Present when the repository is reached through an ssh client (not for local repositories, and
  // not when BORG_RSH/--rsh is something else than ssh).
  ssh: null | {
    rsh: RshWords;
    target: string[];
    // ServerAliveInterval x ServerAliveCountMax as ssh -G reports them for the user's own words.
    configured: AlivePair;
    // Where ssh -G says the connection goes: one repository's status record however its location
    // is spelled (run-record.ts repositoryKey).
    destination?: SshDestination;
    // True when configured.interval is Debian's BatchMode default (300), not a user's value.
    intervalIsDefault?: boolean;
    // True when this ssh reads SetupTimeOut as ServerAliveInterval (Debian before 9.9p1).
    setupTimeoutIsInterval?: boolean;
    // Where the host's block is (for the warn mode's message); null: none; undefined: not looked up.
    hostBlock?: { file: string; line: number } | null;
    // Present when borg2 runs `ssh ... borg serve --rest` (rest-ssh.ts servesRestOverSsh): rsh is then
    // borgstore's (BORGSTORE_RSH, BORG_RSH or its default), `target` ends in the destination, and
    // this is what follows it.
    rest?: { remoteCommand: string[]; sshPort?: number };
    // Where ssh -G says ssh will connect (hostname, port), for the connect wait's TCP probe
    // (connect-wait.ts); null when a ProxyCommand or ProxyJump is in the way (the probe would test
    // another connection than ssh's). Absent: not known.
    probe?: { host: string; port: number } | null;
  };
  // The rsh words when they are not ssh (e.g. `sh -c 'exec socat ...'`), for the explanation.
  nonSshRsh?: RshWords | null;
  // Whether stdin is a terminal (a person is there): the connect wait's default is 0 then.
  stdinIsTTY?: boolean;
  // This run's token for the server's guard (--tborg-server-guard on; README "The server half").
  runToken?: string;
}

// ssh -G's hostname, port and user for the repository's host.
export interface SshDestination {
  hostname: string;
  port: number;
  user: string;
}
