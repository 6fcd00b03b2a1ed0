import { formatDuration } from '../../plan/lock-wait.js';
import type { Plan } from '../../plan/plan.js';
import type { Check } from './check.js';

// The lock-wait check: how long a run would wait for a held lock, and the plan's reasons. Pure.

// The lock-wait check: the plan's wait and its formula; a warning when the plan warned about it.
export function checkLockWait(plan: Plan, options: { serverAliveGiven: boolean }): Check {
  const lw = plan.lockWait;
  const m = lw.model;
  const data = {
    seconds: lw.seconds,
    userGiven: lw.userGiven,
    attemptSeconds: lw.attemptSeconds,
    formula: m?.formula ?? null,
    clientBound: m?.clientBound ?? null,
    serverBound: m?.serverBound ?? null,
    margin: m?.margin ?? null,
    model: m && { kind: m.kind, why: m.why },
  };
  if (m === null) return { name: 'lock-wait', status: 'skip', detail: 'none: borg would not open a repository', data };
  // The plan's own warnings about the lock wait (not the keepalive ones, which checkKeepalive reports).
  const warnings = plan.warnings.filter((w) => w.kind !== 'keepalive-missing' && w.kind !== 'rsh-not-ssh').map((w) => w.text);
  if (m.kind === 'store') {
    const attempts = lw.attemptSeconds !== null ? `; borg attempts of --lock-wait ${lw.attemptSeconds}` : '';
    const detail = `${formatDuration(lw.seconds)}${lw.userGiven ? ` (your ${lw.userSource ?? '--lock-wait'})` : ''}: store-lock model, ${m.formula}: ${m.why}${attempts}`;
    if (warnings.length > 0) return { name: 'lock-wait', status: 'warn', detail: `${detail}; ${warnings.join('; ')}`, data };
    return { name: 'lock-wait', status: 'ok', detail, data };
  }
  const server = plan.serverGuard?.sent
    ? `the server's guard ends this run's stale borg serve when the next attempt connects, within ${m.serverBound} s, whatever the server's sshd does (--tborg-server-guard on)`
    : m.serverAlive
      ? `a stale borg serve is gone ~${m.serverBound} s after a drop (server ClientAlive ${m.serverAlive.interval} x ${m.serverAlive.countMax}${options.serverAliveGiven ? '' : ', assumed: tell tborg with --tborg-server-alive'})`
      : `a stale borg serve can hold the lock ~${formatDuration(m.serverBound)} (no ClientAlive on the server: TCP keepalive)`;
  const client = m.clientBound > 0 ? `your ssh gives up after ${m.clientBound} s, ` : '';
  const attempts = lw.attemptSeconds !== null ? `; borg attempts of --lock-wait ${lw.attemptSeconds}` : '';
  const detail = `${formatDuration(lw.seconds)}${lw.userGiven ? ' (your --lock-wait)' : ''}: ${m.formula}: ${client}${server}${attempts}`;
  if (warnings.length > 0) return { name: 'lock-wait', status: 'warn', detail: `${detail}; ${warnings.join('; ')}`, data };
  return { name: 'lock-wait', status: 'ok', detail, data };
}
