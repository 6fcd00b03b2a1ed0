// Reads borg's stderr as it streams past (in bounded memory) and, from it and the exit code, decides
// what kind of failure an attempt was. Patterns are borg's own messages (docs/facts.md):
//   borg/locking.py  LockTimeout  "Failed to create/acquire the lock {} (timeout)."
//   borg/remote.py   ConnectionClosed "Connection closed by remote host"
//   ssh clientloop.c "Timeout, server %s not responding." (borg prefixes server stderr with "Remote: ")
//   borg 1.2 BrokenPipeError traceback under "Local Exception"

export interface LockTimeoutFinding {
  // The lock file borg named, e.g. /srv/repo/lock.exclusive (a server path for ssh repositories).
  path: string | undefined;
}

export interface StderrFindings {
  lockTimeout: LockTimeoutFinding | undefined;
  connectionLost: string | undefined; // the line that showed it
  unreachable: string | undefined;
  // The last few lines, for tborg's own final message.
  lastLines: string[];
}

// borg's LockTimeout message; group 1 is the lock's path. doctor reads the same message.
export const LOCK_TIMEOUT_RE = /Failed to create\/acquire the lock (.*?) \(timeout\)\./;
const LOCK_JSON_RE = /"msgid":\s*"LockTimeout"/;
const LOST_PATTERNS: readonly RegExp[] = [
  /Remote: Timeout, server .* not responding\./,
  /Connection to remote host is broken/,
  /BrokenPipeError/,
  /Connection closed by remote host(?!\. Is borg working on the server\?)/,
];
const UNREACHABLE_PATTERNS: readonly RegExp[] = [
  /ssh: connect to host .*: /,
  /ssh: Could not resolve hostname/,
  /Connection closed by remote host\. Is borg working on the server\?/,
];
// Cheap pre-filter: a line is only matched against the regular expressions above when it contains
// one of these words. With `create --list` printing millions of lines this keeps scanning cheap.
const TRIGGERS = ['lock', 'Lock', 'Remote', 'remote', 'Broken', 'ssh'];

const MAX_CARRY = 64 * 1024;
const KEEP_LINES = 12;

// Scanning works on whole chunks: the raw bytes are searched for the trigger words (Buffer.indexOf is
// a native memchr-class search) and only the lines around a hit are decoded and matched. Splitting
// every line of a 3-million-line `create --list` cost more than passing the bytes on (npm run bench).
const TRIGGER_BYTES = TRIGGERS.map((t) => Buffer.from(t, 'latin1'));
const LF = 0x0a;
const CR = 0x0d;

export class StderrScanner {
  private carry: Buffer = Buffer.alloc(0);
  readonly findings: StderrFindings = {
    lockTimeout: undefined,
    connectionLost: undefined,
    unreachable: undefined,
    lastLines: [],
  };

  feed(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, bytes]) : bytes;
    // Complete lines end at the last terminator; what follows waits for the next chunk.
    const lastEnd = Math.max(data.lastIndexOf(LF), data.lastIndexOf(CR));
    if (lastEnd === -1) {
      this.carry = keepTail(data);
      return;
    }
    const complete = data.subarray(0, lastEnd + 1);
    this.scanTriggers(complete);
    this.rememberLastLines(complete);
    this.carry = keepTail(data.subarray(lastEnd + 1));
  }

  end(): StderrFindings {
    if (this.carry.length > 0) {
      const rest = Buffer.concat([this.carry, Buffer.from('\n')]);
      this.carry = Buffer.alloc(0);
      this.scanTriggers(rest);
      this.rememberLastLines(rest);
    }
    return this.findings;
  }

  // Every line (of complete lines only) that holds a trigger word, matched once.
  private scanTriggers(data: Buffer): void {
    let lastLineStart = -1;
    for (const trigger of TRIGGER_BYTES) {
      let at = data.indexOf(trigger);
      while (at !== -1) {
        const lineStart = lineStartBefore(data, at);
        const lineEnd = lineEndFrom(data, at);
        if (lineStart !== lastLineStart) this.match(data.toString('utf8', lineStart, lineEnd));
        lastLineStart = lineStart;
        at = data.indexOf(trigger, lineEnd);
      }
    }
  }

  // The last KEEP_LINES non-empty lines, for tborg's own messages; read backwards from the end.
  private rememberLastLines(data: Buffer): void {
    const found: string[] = [];
    let end = data.length - 1; // index of a terminator
    while (end >= 0 && found.length < KEEP_LINES) {
      const start = end > 0 ? lineStartBefore(data, end - 1) : 0;
      if (end > start) found.push(data.toString('utf8', start, end));
      end = start - 1;
    }
    found.reverse();
    const lines = this.findings.lastLines;
    lines.push(...found);
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  }

  private match(line: string): void {
    const f = this.findings;
    const lock = LOCK_TIMEOUT_RE.exec(line);
    if (lock) {
      f.lockTimeout = { path: lock[1] };
      return;
    }
    if (LOCK_JSON_RE.test(line)) {
      const inner = /"message":\s*"(.*?)(?<!\\)"/.exec(line);
      const path = inner ? LOCK_TIMEOUT_RE.exec(inner[1]!.replaceAll('\\"', '"'))?.[1] : undefined;
      f.lockTimeout = { path };
      return;
    }
    if (UNREACHABLE_PATTERNS.some((re) => re.test(line))) {
      f.unreachable ??= line;
      return;
    }
    if (LOST_PATTERNS.some((re) => re.test(line))) f.connectionLost ??= line;
  }
}

// The line around a hit, found without ever scanning past the neighbouring terminators: a search for
// the terminator that does not occur (CR in most output, LF in \r-only progress output) would
// otherwise run to the end of the buffer for every hit.
function lineStartBefore(data: Buffer, at: number): number {
  const lf = data.lastIndexOf(LF, at);
  const cr = data.subarray(lf + 1, at + 1).lastIndexOf(CR);
  return cr === -1 ? lf + 1 : lf + 1 + cr + 1;
}

function lineEndFrom(data: Buffer, from: number): number {
  const lf = data.indexOf(LF, from);
  const limit = lf === -1 ? data.length : lf;
  const cr = data.subarray(from, limit).indexOf(CR);
  return cr === -1 ? limit : from + cr;
}

// A "line" longer than MAX_CARRY is not one of borg's messages; keep its tail only.
function keepTail(data: Buffer): Buffer {
  const tail = data.length > MAX_CARRY ? data.subarray(data.length - MAX_CARRY) : data;
  // Copy: the chunk's memory belongs to the stream.
  return Buffer.from(tail);
}

export type FailureKind = 'ok' | 'lock-timeout' | 'connection-lost' | 'other';

// Modern exit codes (borg 1.4 with BORG_EXIT_CODES=modern, the default in borg 2): helpers.errors.
export const EXIT_LOCK_TIMEOUT = 73;
export const EXIT_CONNECTION_CLOSED = 80;
export const EXIT_CONNECTION_CLOSED_WITH_HINT = 81;
export const EXIT_CONNECTION_BROKEN_WITH_HINT = 87;

// Decides what an attempt's end means. Only the legacy error code 2 (or a modern code) together with
// borg's own message counts; a user's Ctrl-C (130, or rc 2 with "Got Ctrl-C") is never a lock problem.
export function classifyAttempt(exitCode: number, findings: StderrFindings): FailureKind {
  if (exitCode === 0 || exitCode === 1) return 'ok';
  if (exitCode === EXIT_LOCK_TIMEOUT) return 'lock-timeout';
  if (
    exitCode === EXIT_CONNECTION_CLOSED ||
    exitCode === EXIT_CONNECTION_CLOSED_WITH_HINT ||
    exitCode === EXIT_CONNECTION_BROKEN_WITH_HINT
  ) {
    return findings.unreachable ? 'other' : 'connection-lost';
  }
  if (exitCode !== 2) return 'other';
  if (findings.lastLines.some((l) => l.includes('Got Ctrl-C / SIGINT'))) return 'other';
  if (findings.lockTimeout) return 'lock-timeout';
  if (findings.unreachable) return 'other';
  if (findings.connectionLost) return 'connection-lost';
  return 'other';
}

// borg's cache directory, as borg 1.2 computes it (helpers/fs.py get_cache_dir): BORG_CACHE_DIR, else
// BORG_BASE_DIR/.cache/borg, else XDG_CACHE_HOME/borg, else ~/.cache/borg. A lock under it is the
// local cache lock: another borg on *this* machine, not the server.
export function borgCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  if (env.BORG_CACHE_DIR) return env.BORG_CACHE_DIR;
  if (env.BORG_BASE_DIR) return `${env.BORG_BASE_DIR}/.cache/borg`;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/borg`;
  return `${home}/.cache/borg`;
}

export function isCacheLock(lockPath: string | undefined, env: NodeJS.ProcessEnv, home: string): boolean {
  if (!lockPath) return false;
  const dir = borgCacheDir(env, home).replace(/\/+$/, '');
  return lockPath === dir || lockPath.startsWith(`${dir}/`);
}

// Why an attempt did not get past borg's handshake with the server, read from its last stderr lines:
//   'unreachable' — ssh could not reach the server (sshconnect.c "ssh: connect to host %s port %s: %s":
//     Connection refused, No route to host, Connection timed out, Network is unreachable; "ssh: Could
//     not resolve hostname %s: %s"). borg 1.x and 2 pass ssh's stderr on as "Remote: ..." and then say
//     "Connection closed by remote host. Is borg working on the server?" (remote.py
//     ConnectionClosedWithHint); borg2's rest-over-ssh carries the same ssh line inside its own message.
//     The network may come back: worth waiting for (README "Monitoring").
//   'final' — the server answered and said no: authentication (sshconnect2.c "Permission denied
//     (...)"), a changed or unknown host key ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key
//     verification failed."), no borg on the server (the login shell's "borg: command not found", or
//     "No such file or directory" for a --remote-path), a wrong repository path (borg's
//     "Repository ... does not exist."). Waiting cannot fix these.
//   'ambiguous' — borg's hint line alone: borg 1.2 raises ConnectionClosedWithHint at the EOF of ssh's
//     stdout without draining ssh's stderr, so ssh's own line is lost in about 1 of 10 refused
//     connections (measured over the lab's sshd, docs/facts.md). Another attempt shows the reason.
export type ReachFailure = 'unreachable' | 'final' | 'ambiguous';

const REACH_HINT_RE = /Connection closed by remote host\. Is borg working on the server\?/;
const SSH_UNREACHABLE_RES: readonly RegExp[] = [
  /ssh: connect to host .* port \S+: (Connection refused|No route to host|Connection timed out|Network is unreachable|Operation timed out)/,
  /ssh: Could not resolve hostname /,
];
const REACH_FINAL_RES: readonly RegExp[] = [
  /Permission denied \(/,
  /REMOTE HOST IDENTIFICATION HAS CHANGED/,
  /Host key verification failed\./,
  /No [A-Z0-9]+ host key is known for/,
  /command not found/, // bash "borg: command not found", zsh "command not found: borg"
  /^Remote: \S*sh: \d+: .*: not found/, // dash "sh: 1: borg: not found"
  /^Remote: .*(borg|serve).*: No such file or directory/,
  /Repository .* does not exist\./,
];

// See ReachFailure; undefined when the attempt shows no reach failure at all (borg ran, or failed
// for another reason). Only failed attempts (not 0 or 1) count.
export function classifyReach(exitCode: number, findings: StderrFindings): ReachFailure | undefined {
  if (exitCode === 0 || exitCode === 1) return undefined;
  const lines = findings.lastLines;
  if (lines.some((l) => REACH_FINAL_RES.some((re) => re.test(l)))) return 'final';
  if (lines.some((l) => SSH_UNREACHABLE_RES.some((re) => re.test(l)))) return 'unreachable';
  const meaningful = lines.filter((l) => l.trim() !== '');
  if (meaningful.length === 1 && REACH_HINT_RE.test(meaningful[0]!)) return 'ambiguous';
  return undefined;
}
