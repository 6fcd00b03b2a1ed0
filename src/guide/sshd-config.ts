import { UsageError } from '../core/errors.js';
import { computeServerBound, formatDuration } from '../plan/lock-wait.js';
import type { AlivePair } from '../ssh/alive-pair.js';

// The sshd_config lines that make the server's sshd notice a vanished client, so a stale
// `borg serve` exits and releases the repository lock (docs/facts.md: without them sshd waits for TCP
// keepalive, ~2 h 11 min). Pure: options in, text out.

export interface SshdConfigOptions {
  serverAlive: AlivePair;
  // Wrap the lines in `Match User ...` so only the backup user's sessions get them.
  matchUser?: string | undefined;
  // Say what the lines do and do not do for borg2 2.0.0b22+ (borg serve --rest, store locks).
  borg2?: boolean;
}

// For borg2 2.0.0b22+ the lock is not borg serve's: the client writes it into the repository
// (storelocking.py), so ClientAlive* only ends the vanished client's `borg serve --rest` (a process and
// its memory on the server); the lock itself stays until it is 30 minutes old (Lock(stale=30*60)).
const BORG2_SSHD_NOTE = [
  '# borg2 (2.0.0b22 and later, ssh:// served by `borg serve --rest`): these lines still end a vanished',
  "# client's `borg serve --rest` on the server, but they do NOT release its lock: borg2 keeps the lock",
  '# in the repository, and another client deletes it only once it is 30 minutes old (tborg waits that',
  "# long for it). The client side keepalive is borgstore's own (ServerAliveInterval 30, CountMax 3).",
];

// sshd's Match User takes a pattern list (sshd_config(5) PATTERNS): names, `*`, `?`, `!`, commas.
// Whitespace would end the pattern list and a `#` starts a comment, so both are refused.
const MATCH_USER_PATTERN = /^[A-Za-z0-9._@*?!,+-]+$/;

function validateMatchUser(user: string): string {
  if (!MATCH_USER_PATTERN.test(user)) {
    throw new UsageError(
      `--match-user ${JSON.stringify(user)}: expected a user name or sshd pattern list (letters, digits, . _ - @ * ? ! ,)`,
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
  if (options.borg2) lines.push(...BORG2_SSHD_NOTE);
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
