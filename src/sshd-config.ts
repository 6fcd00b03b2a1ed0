import { UsageError } from './errors.js';
import { computeServerBound, formatDuration } from './lock-wait.js';
import type { AlivePair } from './tborg-options.js';

// The sshd_config lines that make the server's sshd notice a vanished client, so a stale
// `borg serve` exits and releases the repository lock (docs/facts.md: without them sshd waits for TCP
// keepalive, ~2 h 11 min). Pure: options in, text out.

export interface SshdConfigOptions {
  serverAlive: AlivePair;
  // Wrap the lines in `Match User ...` so only the backup user's sessions get them.
  matchUser?: string | undefined;
}

// sshd's Match User takes a pattern list (sshd_config(5) PATTERNS): names, `*`, `?`, `!`, commas.
// Whitespace would end the pattern list and a `#` starts a comment, so both are refused.
const MATCH_USER_PATTERN = /^[A-Za-z0-9._@*?!,+-]+$/;

export function validateMatchUser(user: string): string {
  if (!MATCH_USER_PATTERN.test(user)) {
    throw new UsageError(
      `tborg: sshd-config: --match-user ${JSON.stringify(user)}: expected a user name or sshd pattern list (letters, digits, . _ - @ * ? ! ,)`,
    );
  }
  return user;
}

// "620 s (10m20s)", or just "40 s" where the second spelling would say the same.
function describeSeconds(seconds: number): string {
  return seconds >= 60 ? `${seconds} s (${formatDuration(seconds)})` : `${seconds} s`;
}

export function formatSshdConfig(options: SshdConfigOptions): string {
  const { interval, countMax } = options.serverAlive;
  const bound = computeServerBound(options.serverAlive);
  const lines = [
    '# borg serve: let sshd notice a vanished client so a stale `borg serve` releases the repository lock',
    `# (tborg: with these values a stale lock is released after about ${describeSeconds(bound)}; ` +
      `run clients with --tborg-server-alive ${interval}x${countMax})`,
  ];
  const settings = [`ClientAliveInterval ${interval}`, `ClientAliveCountMax ${countMax}`];
  if (options.matchUser === undefined) {
    lines.push(...settings);
  } else {
    // sshd ends a Match block only at the next Match or the end of the file, so everything after it
    // would silently apply to this user alone (sshd_config(5) Match).
    lines.push('# a Match block lasts until the next Match line: put it at the end of sshd_config');
    lines.push(`Match User ${validateMatchUser(options.matchUser)}`);
    lines.push(...settings.map((line) => `    ${line}`));
  }
  return `${lines.join('\n')}\n`;
}
