import { asServerAliveOptions } from '../../ssh/alive-pair.js';
import type { CommandContext } from '../command-context.js';
import { formatDuration } from '../../plan/lock-wait.js';
import { buildPlan, type Plan } from '../../plan/plan.js';
import { gatherPlanInput } from '../../plan/plan-facts.js';
import type { PlanArgs } from '../own-command-words.js';

// `tborg plan [--json] BORG_ARGUMENTS...`: what running those arguments would do. Runs nothing but
// `ssh -G` (which never connects). Its words are read by own-command-words.ts / own-commands.ts: plan's
// options only before borg's first word, so borg's own `--json` (`tborg plan list --json repo`) stays borg's.
export async function runPlanCommand(context: CommandContext, { json, borgArgs: args }: PlanArgs): Promise<number> {
  // The host block's place is looked up only where a warning names it (warn mode, gatherPlanInput
  // knows): it loads and runs the ssh-config parser, 30-90 ms, most of plan's 150 ms budget (README "Performance").
  const plan = buildPlan(await gatherPlanInput({ ...context, args }));
  context.terminal.out(json ? `${JSON.stringify(toJson(plan), null, 2)}\n` : describePlan(plan));
  return 0;
}

// The JSON contract (README "tborg plan"): scripts and tests rely on these field names.
export function toJson(plan: Plan): Record<string, unknown> {
  return {
    borg: { path: plan.borg.path, version: plan.borg.version, argv: plan.borg.argv },
    env: plan.env,
    repository: plan.repository,
    ssh: plan.ssh && {
      configured: asServerAliveOptions(plan.ssh.configured),
      effective: asServerAliveOptions(plan.ssh.effective),
      rsh: plan.ssh.rsh,
      transport: plan.ssh.transport,
      argv: plan.ssh.argv,
      remoteCommand: plan.ssh.remoteCommand,
    },
    keepalive: plan.keepalive,
    lockWait: {
      seconds: plan.lockWait.seconds,
      userGiven: plan.lockWait.userGiven,
      userSource: plan.lockWait.userSource,
      // 'serve' or 'store' (lock-wait.ts LockModelKind) and why that borg line has it.
      model: plan.lockWait.model && { kind: plan.lockWait.model.kind, why: plan.lockWait.model.why },
      attemptSeconds: plan.lockWait.attemptSeconds,
      formula: plan.lockWait.model?.formula ?? null,
      clientBound: plan.lockWait.model?.clientBound ?? null,
      serverBound: plan.lockWait.model?.serverBound ?? null,
      margin: plan.lockWait.model?.margin ?? null,
    },
    retry: plan.retry,
    // README "The server half": { on, sent, notApplicable }.
    serverGuard: plan.serverGuard ?? { on: false, sent: false, notApplicable: null },
    command: plan.command,
    warnings: plan.warnings.map((w) => w.text),
  };
}

export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  lines.push(`borg:       ${plan.borg.path} (${plan.borg.version ?? 'version unknown'})`);
  lines.push(`runs:       ${[plan.borg.path, ...plan.borg.argv].map(showWord).join(' ')}`);
  for (const [name, value] of Object.entries(plan.env)) lines.push(`with:       ${name}=${showWord(value)}`);
  const r = plan.repository;
  lines.push(
    r
      ? `repository: ${r.location} (${r.proto}${r.host ? `, host ${r.host}${r.port ? ` port ${r.port}` : ''}${r.user ? `, user ${r.user}` : ''}` : ''}, path ${r.path})`
      : 'repository: none (nothing to lock, nothing to retry)',
  );
  if (plan.ssh) {
    const c = plan.ssh.configured;
    const e = plan.ssh.effective;
    lines.push(`ssh:        ${plan.ssh.rsh.words.map(showWord).join(' ')} (from ${plan.ssh.rsh.source})`);
    // borg 1.x adds its log level and debug topics after `serve` (remote.py borg_cmd): "...".
    const remote = plan.ssh.transport === 'borg serve' ? ` ${plan.ssh.remoteCommand.map(showWord).join(' ')} ...` : '';
    lines.push(`ssh argv:   ${plan.ssh.argv.map(showWord).join(' ')}${remote}`);
    lines.push(
      `keepalive:  ${plan.keepalive}: configured ServerAliveInterval ${c.interval}, CountMax ${c.countMax}; ` +
        `effective ${e.interval} x ${e.countMax}`,
    );
  } else {
    lines.push(`keepalive:  ${plan.keepalive}`);
  }
  if (plan.lockWait.model) {
    const m = plan.lockWait.model;
    const yours =
      plan.lockWait.userSource === 'BORG_LOCK_WAIT' ? ' (your BORG_LOCK_WAIT)' : plan.lockWait.userGiven ? ' (your --lock-wait)' : '';
    lines.push(`lock wait:  ${formatDuration(plan.lockWait.seconds)}${yours}; tborg's ${m.kind}-lock model: ${m.formula}`);
    lines.push(`            ${m.why}`);
    lines.push(
      plan.serverGuard?.sent
        ? `            client bound (ServerAlive (C+1) x I) ${m.clientBound} s, the guard ending the stale serve ${m.serverBound} s, margin ${m.margin} s`
        : m.kind === 'store'
          ? `            client bound (ServerAlive (C+1) x I) ${m.clientBound} s, store lock expiry ${m.serverBound} s, margin ${m.margin} s`
          : `            client bound (ServerAlive (C+1) x I) ${m.clientBound} s, server bound (2 x (CountMax+1) x Interval of ClientAlive) ${m.serverBound} s, margin ${m.margin} s`,
    );
    lines.push(describeRetry(plan));
  } else {
    lines.push('retry:      none');
  }
  if (plan.retry.connectWaitSeconds > 0) {
    lines.push(
      `connect:    a server that cannot be reached at start is retried for up to ${formatDuration(plan.retry.connectWaitSeconds)} (--tborg-connect-wait)`,
    );
  }
  if (plan.serverGuard?.on) {
    lines.push(
      `guard:      ${plan.serverGuard.sent ? 'a run token goes to the server\'s guard in the remote path (README "The server half")' : `no run token: ${plan.serverGuard.notApplicable}`}`,
    );
  }
  for (const w of plan.warnings) lines.push(`warning:    ${w.text}`);
  return `${lines.join('\n')}\n`;
}

// The retry line: what is retried, and the bound on the whole wait (README "How long tborg waits for
// a lock": a bound of the user's holds lost connections included; tborg's model starts over after each).
function describeRetry(plan: Plan): string {
  const { retry, lockWait } = plan;
  if (retry.userCommand) {
    const wait =
      lockWait.attemptSeconds !== null
        ? `borg itself waits up to ${formatDuration(lockWait.attemptSeconds)} for the lock (--lock-wait ${lockWait.attemptSeconds})`
        : 'borg itself waits for the lock (your lock wait)';
    return `retry:      none: ${retry.userCommand}, so it gets one attempt; ${wait}`;
  }
  const lost = retry.noConnectionRetry ? `not retried (${retry.noConnectionRetry})` : `up to ${retry.connectionRetries} times`;
  const each = lockWait.attemptSeconds !== null ? `, each borg attempt with --lock-wait ${lockWait.attemptSeconds}` : '';
  const bound =
    retry.boundSource === 'model'
      ? retry.connectionRetries > 0
        ? `; each lost connection starts the wait over: at most ${formatDuration(retry.boundSeconds)} of waiting in all`
        : ''
      : `; at most ${formatDuration(retry.boundSeconds)} of waiting in all, lost connections included (${retry.boundSource})`;
  return `retry:      lock timeouts for up to ${formatDuration(retry.deadlineSeconds)}${each}; lost connections ${lost}${bound}`;
}

function showWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
