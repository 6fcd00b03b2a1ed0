// ssh's stderr as tborg shows it: one cleaner for every place that reports what ssh (or borg through
// ssh) said. Lines are trimmed (ssh ends its messages in \r\n), blank lines dropped, ssh's chatter
// dropped (the pseudo-terminal notice it prints without a command even with -G, the host-key
// "Permanently added" note, and what a -v in the user's own words adds: "debugN:" and the version
// banner), and a borg --log-json line becomes its message (borg's LockTimeout keeps its msgid).

const NOISE = /^(Pseudo-terminal will not be allocated\b|Warning: Permanently added |debug\d?: |OpenSSH_)/;

// The lines worth showing, in order.
export function sshStderrLines(stderr: string): string[] {
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '' || NOISE.test(line)) continue;
    lines.push(jsonLogMessage(line) ?? line);
  }
  return lines;
}

// The same as one line for a message: "a; b; c" ('' when nothing is worth showing).
export function sshStderrLine(stderr: string): string {
  return sshStderrLines(stderr).join('; ');
}

// A borg `--log-json` line ({"type": "log_message", "message": ...}) as its message.
function jsonLogMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { message?: unknown; msgid?: unknown };
    if (typeof parsed.message !== 'string') return undefined;
    return parsed.msgid === 'LockTimeout' && !/Failed to create/.test(parsed.message) ? `${parsed.message} (LockTimeout)` : parsed.message;
  } catch {
    return undefined;
  }
}
