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
  'BrokenP', // "BrokenPipeError"
  'Could n', // "ssh: Could not resolve hostname"
  ': conne', // "ssh: connect to host "
].map((n) => Buffer.from(n, 'latin1'));

const MAX_CARRY = 64 * 1024;
const KEEP_LINES = 12;
const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const LF_BYTE = Buffer.from([LF]);

// Scanning works on whole reads, never line by line: a read without a needle costs one native search
// per needle, a few for its line ends and one per line of its last twelve (kept as bytes, decoded at
// the end). Splitting every line of a 3-million-line `create --list` cost more than passing the
// bytes on; so did copying each read behind the open line before it.
export class StderrScanner {
  // The open line: what followed the last line end, at most MAX_CARRY bytes (its end when longer).
  private carry: Buffer = EMPTY;
  // The last complete lines as borg wrote them, line ends included: at least KEEP_LINES non-empty
  // ones when there were that many (findings.lastLines, decoded at the end).
  private recent: Buffer = EMPTY;
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
      this.completeLine(Buffer.concat([this.carry, data.subarray(0, firstEnd + 1)]));
      this.carry = EMPTY;
      from = firstEnd + 1;
    }
    const lastEnd = lastLineEnd(data);
    this.scan(data, from, lastEnd);
    this.keepRecent(data, from, lastEnd);
    this.carry = keepTail(EMPTY, data.subarray(lastEnd + 1));
  }

  end(): StderrFindings {
    if (this.carry.length > 0) this.completeLine(Buffer.concat([this.carry, LF_BYTE]));
    this.carry = EMPTY;
    this.findings.lastLines = this.recent.length > 0 ? linesOf(this.recent) : [];
    return this.findings;
  }

  // One whole line, with its line end.
  private completeLine(line: Buffer): void {
    this.scan(line, 0, line.length - 1);
    this.keepRecent(line, 0, line.length - 1);
  }

  // Matches each line of data[from, end] that holds a needle, once, in order; data[end] is a line end
  // (needles hold none, so a needle starting before end lies wholly before it).
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

  // Keeps the bytes of the last KEEP_LINES non-empty lines of data[from, lastEnd] (lastEnd a line
  // end), with those before them when there are fewer; they are decoded only at the end.
  private keepRecent(data: Buffer, from: number, lastEnd: number): void {
    const { start, count } = lastLinesStart(data, from, lastEnd);
    const piece = data.subarray(start, lastEnd + 1);
    if (count === KEEP_LINES) {
      this.recent = Buffer.from(piece); // a copy: the read's memory belongs to the stream
      return;
    }
    const joined = Buffer.concat([this.recent, piece]);
    this.recent = joined.subarray(lastLinesStart(joined, 0, joined.length - 1).start);
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
// `floor` (where the scanned part of data begins). crFree: data[floor, at] is known to hold no \r.
function lineStartBefore(data: Buffer, at: number, floor: number, crFree = false): number {
  if (at < floor) return floor; // (lastIndexOf takes a negative offset as counted from the end)
  const afterLf = Math.max(data.lastIndexOf(LF, at) + 1, floor);
  if (crFree) return afterLf;
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

// Where the last KEEP_LINES non-empty lines of data[from, lastEnd] start (lastEnd a line end), and
// how many there are (fewer: all from `from`). Output without \r (most of it) takes one search a line.
function lastLinesStart(data: Buffer, from: number, lastEnd: number): { start: number; count: number } {
  const cr = data.indexOf(CR, from);
  const crFree = cr === -1 || cr > lastEnd;
  let end = lastEnd; // index of a line end
  let count = 0;
  while (end >= from) {
    const start = lineStartBefore(data, end - 1, from, crFree);
    if (end > start && ++count === KEEP_LINES) return { start, count };
    end = start - 1;
  }
  return { start: from, count };
}

// The non-empty lines of bytes that end in a line end, the last KEEP_LINES of them, decoded.
function linesOf(bytes: Buffer): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const end = firstLineEnd(bytes.subarray(start));
    if (end === -1) break;
    if (end > 0) lines.push(bytes.toString('utf8', start, start + end));
    start += end + 1;
  }
  return lines.slice(-KEEP_LINES);
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
