import { formatDuration } from '../plan/lock-wait.js';

// The message tborg prints when it stops waiting for a lock. It has to tell a person reading a cron
// mail what happened, why it usually happens and what to do next — and when breaking the lock is safe.
export interface GiveUpFacts {
  waitedSeconds: number;
  attempts: number;
  repository: string;
  host: string | null;
  lockPath: string | undefined;
  cacheLock: boolean;
  // The server's ClientAlive as the lock-wait model has it (next-step.ts): "10x30", or "not set".
  serverAlive: string;
}

export function describeGiveUp(f: GiveUpFacts): string[] {
  const waited = `gave up after waiting ${formatDuration(f.waitedSeconds)} over ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}`;
  if (f.cacheLock) {
    return [
      `${waited}: the local cache lock${f.lockPath ? ` ${f.lockPath}` : ''} is held by another borg on this machine, not by the server.`,
      `Find it with: pgrep -af borg. Only when no borg runs here is \`borg break-lock ${f.repository}\` safe.`,
    ];
  }
  const where = f.host ? ` on ${f.host}` : '';
  return [
    `${waited}: the repository lock${f.lockPath ? ` ${f.lockPath}` : ''}${where} is still held.`,
    `Usual causes: a stale \`borg serve\` left by a dropped connection (it holds the lock until the server's sshd ` +
      `notices, ClientAlive ${f.serverAlive}), or another client's long job.`,
    `Next: tborg doctor ${f.repository}; check ClientAliveInterval/ClientAliveCountMax on the server (tborg sshd-config). ` +
      `\`borg break-lock ${f.repository}\` is safe only when no borg process uses the repository${f.host ? ` (pgrep -af 'borg serve' on ${f.host})` : ''}.`,
  ];
}
