import type { AlivePair } from '../ssh/alive-pair.js';
import { joinRsh, type RshWords } from '../ssh/rsh.js';
import { formatDuration, type LockWaitModel } from './lock-wait.js';
import type { PlanInput } from './plan-input.js';

// The warnings a plan carries (plan.ts buildPlan), each with its words.

// What a warning is about, so readers (doctor's checks, a run) choose by kind, never by wording.
type PlanWarningKind =
  | 'keepalive-missing' // ssh has no ServerAliveInterval and tborg only warns (--tborg-keepalive-mode warn)
  | 'ssh-port-ignored' // borg2 runs BORGSTORE_RSH/BORG_RSH as is: ssh goes to another port than the URL's
  | 'rsh-not-ssh' // the rsh is not ssh: nothing to check or add
  | 'server-alive-none' // --tborg-server-alive none: a stale serve lasts until TCP keepalive gives up
  | 'short-lock-wait'; // the user's own lock wait is shorter than a stale lock can last

export interface PlanWarning {
  kind: PlanWarningKind;
  text: string;
  // Printed before borg runs (true), or only shown by `tborg plan`/`doctor` (false).
  onRun: boolean;
  // Printed by a run only once it had to wait (a lock timeout or a lost connection happened), so
  // a nightly cron job whose lock is free stays silent (next-step.ts).
  onWait?: true;
}

// ssh has no ServerAliveInterval for the host, and tborg only warns (--tborg-keepalive-mode warn).
export function warnKeepaliveMissing(input: PlanInput, wanted: AlivePair): PlanWarning {
  const host = input.commandLine.repository?.location.host ?? '?';
  const block = input.ssh?.hostBlock;
  const where = block ? `in the "Host" block at ${block.file}:${block.line}` : `in a "Host ${host}" block of your ssh config`;
  const has = input.ssh?.intervalIsDefault
    ? `only Debian's BatchMode default ServerAliveInterval (${input.ssh.configured.interval} s)`
    : 'no ServerAliveInterval';
  const text =
    `ssh to ${host} has ${has}: a dropped connection can hang this backup and leave a stale lock. ` +
    `Add "ServerAliveInterval ${wanted.interval}" and "ServerAliveCountMax ${wanted.countMax}" ${where}, ` +
    `or run: tborg ssh-config ${host} --write`;
  return { kind: 'keepalive-missing', text, onRun: true };
}

// borgstore runs a BORGSTORE_RSH (or the BORG_RSH borg copies there) verbatim and adds no -p
// (rest.py ssh_cmd): plain borg2 connects to ssh's port, not the URL's. tborg does the same, and says so.
export function warnSshPortIgnored(source: string, sshPort: number, urlPort: number): PlanWarning {
  const text =
    `borg2 runs ${source} as it is, without the URL's port: ssh will connect to port ${sshPort}, not ${urlPort}; ` +
    `add "-p ${urlPort}" to ${source}, or "Port ${urlPort}" to the host's block in your ssh config`;
  return { kind: 'ssh-port-ignored', text, onRun: true };
}

// The rsh is not ssh (`sh -c 'exec socat ...'`): there is nothing to check or add.
export function warnRshNotSsh(rsh: RshWords): PlanWarning {
  return {
    kind: 'rsh-not-ssh',
    text: `${rsh.source} (${joinRsh(rsh.words)}) is not ssh: no ssh keepalive is checked or added`,
    onRun: false,
  };
}

// --tborg-server-alive none: a stale serve lasts until TCP keepalive gives up (`serverBound` s).
export function warnServerAliveNone(serverBound: number): PlanWarning {
  const text =
    `the server's sshd has no ClientAliveInterval (--tborg-server-alive none): a stale borg serve keeps the lock ` +
    `until TCP keepalive gives up, about ${formatDuration(serverBound)}; add "ClientAliveInterval 10" and ` +
    `"ClientAliveCountMax 30" to the server's sshd_config (tborg sshd-config prints them)`;
  return { kind: 'server-alive-none', text, onRun: true };
}

// The user's own lock wait (`seconds`, from `source`) is shorter than the model's: said only by
// `tborg plan`/`doctor`, and by a run once it had to wait.
export function warnShortLockWait(source: '--lock-wait' | 'BORG_LOCK_WAIT', seconds: number, model: LockWaitModel): PlanWarning {
  const holder = model.kind === 'store' ? "a vanished client's lock can last in the repository" : 'a stale borg serve can hold the lock';
  const text =
    `${source === 'BORG_LOCK_WAIT' ? 'BORG_LOCK_WAIT=' : '--lock-wait '}${seconds} is shorter than the ` +
    `${formatDuration(model.seconds)} ${holder} after a dropped connection (${model.formula}); this run may still fail with a lock timeout`;
  return { kind: 'short-lock-wait', text, onRun: false, onWait: true };
}
