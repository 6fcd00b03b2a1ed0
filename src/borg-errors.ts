// Reads borg's stderr as it streams past (in bounded memory) and, from it and the exit code, decides
// what kind of failure an attempt was. Patterns are borg's own messages (facts.md):
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

const LOCK_RE = /Failed to create\/acquire the lock (.*?) \(timeout\)\./;
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

export class StderrScanner {
  private carry = '';
  readonly findings: StderrFindings = {
    lockTimeout: undefined,
    connectionLost: undefined,
    unreachable: undefined,
    lastLines: [],
  };

  feed(chunk: Uint8Array): void {
    // latin1 decoding is byte-for-byte and cannot throw; borg's messages are ASCII.
    const text = this.carry + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    let start = 0;
    for (;;) {
      const nl = indexOfLineEnd(text, start);
      if (nl === -1) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.carry = text.slice(start);
    // A "line" longer than this is not one of borg's messages; keep its tail only.
    if (this.carry.length > MAX_CARRY) this.carry = this.carry.slice(-MAX_CARRY);
  }

  end(): StderrFindings {
    if (this.carry !== '') this.line(this.carry);
    this.carry = '';
    return this.findings;
  }

  private line(line: string): void {
    if (line === '') return;
    const f = this.findings;
    f.lastLines.push(line);
    if (f.lastLines.length > KEEP_LINES) f.lastLines.shift();
    if (!TRIGGERS.some((t) => line.includes(t))) return;
    const lock = LOCK_RE.exec(line);
    if (lock) {
      f.lockTimeout = { path: lock[1] };
      return;
    }
    if (LOCK_JSON_RE.test(line)) {
      const inner = /"message":\s*"(.*?)(?<!\\)"/.exec(line);
      const path = inner ? LOCK_RE.exec(inner[1]!.replaceAll('\\"', '"'))?.[1] : undefined;
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

function indexOfLineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (nl === -1) return cr;
  if (cr === -1) return nl;
  return Math.min(nl, cr);
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
