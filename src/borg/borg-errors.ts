// Reads borg's stderr as it streams past (in bounded memory) and, from it and the exit code, decides
// what kind of failure an attempt was. Patterns are borg's own messages (docs/facts.md):
//   borg/locking.py  LockTimeout  "Failed to create/acquire the lock {} (timeout)."
//   borg/remote.py   ConnectionClosed "Connection closed by remote host"
//   ssh clientloop.c "Timeout, server %s not responding." (borg prefixes server stderr with "Remote: ")
//   borg 1.2 BrokenPipeError traceback under "Local Exception"
//   borgstore rest.py/sftp.py (borg2 b22+) "rest connection was lost and could not be reestablished: ..."
//     after its own reconnect tries (3, 5 s apart); with "ssh: connect to host" in it, unreachable

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

// borg's LockTimeout message as borg writes it, a whole line of its own (locking.py LockTimeout's
// text through the logging handler, format '%(message)s'; borg2 b19+ storelocking.py adds " {}", who
// holds it); group 1 is the lock's path. Anchored at the line's start: the same words inside another
// line (a file name in `create --list`) are not borg's answer. doctor reads the same message
// (multi-line text, hence the m flag).
export const LOCK_TIMEOUT_RE = /^Failed to create\/acquire the lock (.*?) \(timeout\)\.(?: .*)?$/m;
// With --log-json: one JSON object per line, {"type": "log_message", ..., "msgid": "LockTimeout"}
// (borg's JsonFormatter); read as JSON, never matched inside a longer line.
const LOCK_JSON_RE = /^\{.*"msgid":\s*"LockTimeout".*\}$/;
const LOST_PATTERNS: readonly RegExp[] = [
  /Remote: Timeout, server .* not responding\./,
  /Connection to remote host is broken/,
  /BrokenPipeError/,
  /Connection closed by remote host(?!\. Is borg working on the server\?)/,
  /(?:rest|sftp) connection was lost and could not be reestablished/,
];
const UNREACHABLE_PATTERNS: readonly RegExp[] = [
  /ssh: connect to host .*: /,
  /ssh: Could not resolve hostname/,
  /Connection closed by remote host\. Is borg working on the server\?/,
  // borg2 b22+'s hint (repository.py Repository.__enter__): the first request to borg serve --rest
  // failed, before the repository was opened; nothing of the command ran.
  /Could not access the repository via borg serve on the remote host: /,
];
// Every pattern above contains one of these needles, so a line holding none of them cannot match:
// only lines with a needle are decoded and matched, in the order borg wrote them. Speed on millions
// of lines depends on two things (npm run bench, streaming): a needle shorter than 8 bytes is found
// by memchr on its first byte and a compare (node's src/string_search.h, kBMMinPatternLength; longer
// ones switch to Boyer-Moore-Horspool, which is several times slower on file lists full of lower-case
// letters), and that first byte must be rare in borg's usual output. "Remote", on every line of a
// remote borg's debug output, is therefore no needle; ':' is on such lines once.
const NEEDLES: readonly Buffer[] = [
  'Failed ', // LOCK_TIMEOUT_RE
  'Timeout', // LOCK_JSON_RE ("LockTimeout"), "Remote: Timeout, server"
  'Connect', // "Connection to remote host is broken", "Connection closed by remote host"
  'PipeErr', // "BrokenPipeError" (not "BrokenP": "B" is in DEBUG, on every line of a debug log)
  'Could n', // "ssh: Could not resolve hostname"
  ': conne', // "ssh: connect to host "
  'was los', // borgstore's "rest connection was lost and could not be reestablished" (borg2 b25)
].map((n) => Buffer.from(n, 'latin1'));

const MAX_CARRY = 64 * 1024;
const KEEP_LINES = 12;
const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

// Scanning works on whole reads, never line by line: a read without a needle costs one native search
// per needle and four for its first and last line ends, and no bytes are copied but the line still
// open at its end.
// Splitting every line of a 3-million-line `create --list` cost more than passing the bytes on.
export class StderrScanner {
  // The open line: what followed the last line end, at most MAX_CARRY bytes (its end when longer).
  private carry: Buffer = EMPTY;
  // Per needle, where it occurs next in the buffer being scanned (-1: nowhere).
  private readonly next: number[] = NEEDLES.map(() => -1);
  readonly findings: StderrFindings = {
    lockTimeout: undefined,
    connectionLost: undefined,
    unreachable: undefined,
    lastLines: [],
  };

  feed(chunk: Uint8Array): void {
    const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength); // a view, not a copy
    const firstEnd = firstLineEnd(data);
    if (firstEnd === -1) {
      this.carry = keepTail(this.carry, data);
      return;
    }
    let from = 0;
    if (this.carry.length > 0) {
      // The line begun in earlier reads ends in this one: the only line ever copied.
      this.completeLine(Buffer.concat([this.carry, data.subarray(0, firstEnd)]));
      this.carry = EMPTY;
      from = firstEnd + 1;
    }
    const lastEnd = lastLineEnd(data);
    this.scan(data, from, lastEnd);
    this.rememberLastLines(data, from, lastEnd);
    this.carry = keepTail(EMPTY, data.subarray(lastEnd + 1));
  }

  end(): StderrFindings {
    if (this.carry.length > 0) this.completeLine(this.carry);
    this.carry = EMPTY;
    return this.findings;
  }

  // One whole line, without its terminator.
  private completeLine(line: Buffer): void {
    this.scan(line, 0, line.length);
    if (line.length > 0) this.keep([line.toString('utf8')]);
  }

  // Matches each line of data[from, end) that holds a needle, once, in order; end is a line end or
  // data.length (needles hold no line end, so a needle starting before end lies wholly before it).
  private scan(data: Buffer, from: number, end: number): void {
    const next = this.next;
    for (let i = 0; i < NEEDLES.length; i++) next[i] = data.indexOf(NEEDLES[i]!, from);
    for (;;) {
      let at = -1;
      for (const n of next) if (n !== -1 && n < end && (at === -1 || n < at)) at = n;
      if (at === -1) return;
      const lineEnd = lineEndFrom(data, at);
      this.match(data.toString('utf8', lineStartBefore(data, at, from), lineEnd));
      for (let i = 0; i < NEEDLES.length; i++) {
        if (next[i]! !== -1 && next[i]! < lineEnd) next[i] = data.indexOf(NEEDLES[i]!, lineEnd);
      }
    }
  }

  // The last KEEP_LINES non-empty lines of data[from, lastEnd], lastEnd a line end; read backwards.
  private rememberLastLines(data: Buffer, from: number, lastEnd: number): void {
    const found: string[] = [];
    let end = lastEnd; // index of a terminator
    while (end >= from && found.length < KEEP_LINES) {
      const start = lineStartBefore(data, end - 1, from);
      if (end > start) found.push(data.toString('utf8', start, end));
      end = start - 1;
    }
    this.keep(found.reverse());
  }

  private keep(lines: readonly string[]): void {
    const kept = this.findings.lastLines;
    kept.push(...lines);
    if (kept.length > KEEP_LINES) kept.splice(0, kept.length - KEEP_LINES);
  }

  private match(line: string): void {
    const f = this.findings;
    const lock = LOCK_TIMEOUT_RE.exec(line);
    if (lock) {
      f.lockTimeout = { path: lock[1] };
      return;
    }
    if (LOCK_JSON_RE.test(line)) {
      const record = readJsonRecord(line);
      if (record?.msgid === 'LockTimeout' && record.type === 'log_message') {
        const path = typeof record.message === 'string' ? LOCK_TIMEOUT_RE.exec(record.message)?.[1] : undefined;
        f.lockTimeout = { path };
        return;
      }
    }
    if (UNREACHABLE_PATTERNS.some((re) => re.test(line))) {
      f.unreachable ??= line;
      return;
    }
    if (LOST_PATTERNS.some((re) => re.test(line))) f.connectionLost ??= line;
  }
}

// One --log-json line as an object, or undefined when it is none.
function readJsonRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// Line ends are found without ever scanning past the neighbouring ones: a search for the terminator
// that does not occur (CR in most output, LF in \r-only progress output) would otherwise run to the
// far end of the buffer every time.

// The first line end (LF or CR) in data, or -1.
function firstLineEnd(data: Buffer): number {
  const lf = data.indexOf(LF);
  const cr = (lf === -1 ? data : data.subarray(0, lf)).indexOf(CR);
  return cr === -1 ? lf : cr;
}

// The last line end (LF or CR) in data, or -1.
function lastLineEnd(data: Buffer): number {
  const lf = data.lastIndexOf(LF);
  const cr = data.subarray(lf + 1).lastIndexOf(CR);
  return cr === -1 ? lf : lf + 1 + cr;
}

// Where the line holding data[at] starts: after the last line end at or before `at`, but not before
// `floor` (where the scanned part of data begins).
function lineStartBefore(data: Buffer, at: number, floor: number): number {
  if (at < floor) return floor; // (lastIndexOf takes a negative offset as counted from the end)
  const afterLf = Math.max(data.lastIndexOf(LF, at) + 1, floor);
  const cr = data.subarray(afterLf, at + 1).lastIndexOf(CR);
  return cr === -1 ? afterLf : afterLf + cr + 1;
}

// Where the line holding data[from] ends: its terminator, or data.length.
function lineEndFrom(data: Buffer, from: number): number {
  const lf = data.indexOf(LF, from);
  const limit = lf === -1 ? data.length : lf;
  const cr = data.subarray(from, limit).indexOf(CR);
  return cr === -1 ? limit : from + cr;
}

// The open line so far: carry followed by more, a copy (a read's memory belongs to the stream). A
// "line" longer than MAX_CARRY is not one of borg's messages; only its end is kept.
function keepTail(carry: Buffer, more: Buffer): Buffer {
  if (more.length >= MAX_CARRY) return Buffer.from(more.subarray(more.length - MAX_CARRY));
  const fromCarry = Math.min(carry.length, MAX_CARRY - more.length);
  return Buffer.concat([carry.subarray(carry.length - fromCarry), more]);
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
// borg2 b22+ at open (repository.py Repository.__enter__), borgstore's reason after it; with ssh's
// words inside, SSH_UNREACHABLE_RES decides first.
const REST_OPEN_HINT_RE = /^(?:Error: )?Could not access the repository via borg serve on the remote host: /;
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
  // ssh's line as the scanner first saw it, too: borg2 b19 follows it with a 10-line traceback
  // (RemoteRepository.__del__), which pushes it out of the last lines.
  const lines = findings.unreachable === undefined ? findings.lastLines : [findings.unreachable, ...findings.lastLines];
  if (lines.some((l) => REACH_FINAL_RES.some((re) => re.test(l)))) return 'final';
  if (lines.some((l) => SSH_UNREACHABLE_RES.some((re) => re.test(l)))) return 'unreachable';
  const meaningful = findings.lastLines.filter((l) => l.trim() !== '');
  if (meaningful.length === 1 && REACH_HINT_RE.test(meaningful[0]!)) return 'ambiguous';
  if (lines.some((l) => REST_OPEN_HINT_RE.test(l))) return 'ambiguous';
  return undefined;
}
