import {
  BORG_CONNECTION_LOST,
  BORG_LOCK_TIMEOUT,
  BORG_LOCK_TIMEOUT_JSON,
  BORG_LOCK_TIMEOUT_MSGID,
  BORG_SERVE_NOT_STARTED,
} from './borg-words.js';
import { SSH_CANNOT_CONNECT, SSH_SERVER_SILENT } from './ssh-words.js';
import { matchesSome, type ScannedWording } from './wording.js';

// Reads borg's stderr as it streams past, in bounded memory, and keeps what an attempt's end is
// judged by (attempt-failure.ts, reach-failure.ts): borg's lock timeout, a lost connection, a server
// that could not be reached, and the last lines. The words are borg's and ssh's own (borg-words.ts,
// ssh-words.ts).

interface LockTimeoutFinding {
  // The lock file borg named, e.g. /srv/repo/lock.exclusive (a server path for ssh repositories).
  path: string | undefined;
}

export interface StderrFindings {
  lockTimeout: LockTimeoutFinding | undefined;
  connectionLost: string | undefined; // the first line that showed it
  unreachable: string | undefined; // the first line that showed it
  // The last few lines, for tborg's own final message.
  lastLines: string[];
}

// What a line is, in the order the scan decides: the first list it matches names it.
const UNREACHABLE: readonly ScannedWording[] = [...SSH_CANNOT_CONNECT, ...BORG_SERVE_NOT_STARTED];
const LOST: readonly ScannedWording[] = [SSH_SERVER_SILENT, ...BORG_CONNECTION_LOST];
// Every wording the scan must see.
export const SCANNED_WORDINGS: readonly ScannedWording[] = [BORG_LOCK_TIMEOUT, BORG_LOCK_TIMEOUT_JSON, ...UNREACHABLE, ...LOST];

// Every wording above holds its needle, so a line holding no needle cannot match: only lines with a
// needle are decoded and matched, in the order borg wrote them. Speed on millions of lines depends on
// two things (npm run bench, streaming): a needle shorter than 8 bytes is found by memchr on its first
// byte and a compare (node's src/string_search.h, kBMMinPatternLength; longer ones switch to
// Boyer-Moore-Horspool, which is several times slower on file lists full of lower-case letters), and
// that first byte must be rare in borg's usual output. "Remote", on every line of a remote borg's
// debug output, is therefore no needle.
export const NEEDLES: readonly string[] = [...new Set(SCANNED_WORDINGS.map((w) => w.needle))];
const NEEDLE_BYTES: readonly Buffer[] = NEEDLES.map((n) => Buffer.from(n, 'latin1'));

const MAX_CARRY = 64 * 1024;
const KEEP_LINES = 12;
const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

// Scanning works on whole reads, never line by line: a read without a needle costs one native search
// per needle and a few for its first and last line ends, and no bytes are copied but the line still
// open at its end and the end of the read that holds the last lines.
// Splitting every line of a 3-million-line `create --list` cost more than passing the bytes on.
export class StderrScanner {
  // The open line: what followed the last line end, at most MAX_CARRY bytes (its end when longer).
  private carry: Buffer = EMPTY;
  // The latest read's last KEEP_LINES lines, not decoded yet (a copy of the read's end that holds
  // them all); they follow findings.lastLines. Decoded only when a later read does not hold as many
  // lines, and at the end: a fast stream decodes none of its lines but those that hold a needle.
  private tail: Buffer | undefined;
  // Per needle, where it occurs next in the buffer being scanned (-1: nowhere).
  private readonly next: number[] = NEEDLE_BYTES.map(() => -1);
  private readonly findings: StderrFindings = {
    lockTimeout: undefined,
    connectionLost: undefined,
    unreachable: undefined,
    lastLines: [],
  };

  feed(chunk: Uint8Array): void {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength); // a view, not a copy
    const firstEnd = firstLineEnd(data);
    if (firstEnd === -1) {
      this.carry = keepTail(this.carry, data);
      return;
    }
    const from = this.carry.length > 0 ? firstEnd + 1 : 0;
    const lastEnd = lastLineEnd(data);
    const lastLinesFrom = lastLinesStart(data, from, lastEnd);
    if (this.carry.length > 0) {
      // The line begun in earlier reads ends in this one: the only line ever joined.
      const line = Buffer.concat([this.carry, data.subarray(0, firstEnd)]);
      this.scan(line, 0, line.length);
      if (lastLinesFrom === -1) this.keepLine(line);
      this.carry = EMPTY;
    }
    this.scan(data, from, lastEnd);
    if (lastLinesFrom === -1) {
      this.decodeTail();
      this.rememberLastLines(data, from, lastEnd);
    } else {
      // This read alone holds the last lines: nothing before them counts any more.
      if (this.findings.lastLines.length > 0) this.findings.lastLines.length = 0;
      this.tail = Buffer.from(data.subarray(lastLinesFrom, lastEnd + 1));
    }
    this.carry = keepTail(EMPTY, data.subarray(lastEnd + 1));
  }

  end(): StderrFindings {
    if (this.carry.length > 0) {
      this.scan(this.carry, 0, this.carry.length);
      this.keepLine(this.carry);
    }
    this.carry = EMPTY;
    this.decodeTail();
    return this.findings;
  }

  // One whole line, without its terminator, among the last lines.
  private keepLine(line: Buffer): void {
    this.decodeTail();
    if (line.length > 0) this.keep([line.toString('utf8')]);
  }

  private decodeTail(): void {
    if (this.tail === undefined) return;
    this.rememberLastLines(this.tail, 0, this.tail.length - 1);
    this.tail = undefined;
  }

  // Matches each line of data[from, end) that holds a needle, once, in order; end is a line end or
  // data.length (needles hold no line end, so a needle starting before end lies wholly before it).
  private scan(data: Buffer, from: number, end: number): void {
    const next = this.next;
    for (let i = 0; i < NEEDLE_BYTES.length; i++) next[i] = data.indexOf(NEEDLE_BYTES[i]!, from);
    for (;;) {
      let at = -1;
      for (const n of next) if (n !== -1 && n < end && (at === -1 || n < at)) at = n;
      if (at === -1) return;
      const lineEnd = lineEndFrom(data, at);
      this.match(data.toString('utf8', lineStartBefore(data, at, from), lineEnd));
      for (let i = 0; i < NEEDLE_BYTES.length; i++) {
        if (next[i]! !== -1 && next[i]! < lineEnd) next[i] = data.indexOf(NEEDLE_BYTES[i]!, lineEnd);
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
    const lock = BORG_LOCK_TIMEOUT.line.exec(line);
    if (lock) {
      f.lockTimeout = { path: lock[1] };
      return;
    }
    if (BORG_LOCK_TIMEOUT_JSON.line.test(line)) {
      const record = readJsonRecord(line);
      if (record?.msgid === BORG_LOCK_TIMEOUT_MSGID && record.type === 'log_message') {
        const path = typeof record.message === 'string' ? BORG_LOCK_TIMEOUT.line.exec(record.message)?.[1] : undefined;
        f.lockTimeout = { path };
        return;
      }
    }
    if (matchesSome(line, UNREACHABLE)) {
      f.unreachable ??= line;
      return;
    }
    if (matchesSome(line, LOST)) f.connectionLost ??= line;
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

// Where the last KEEP_LINES non-empty lines of data[from, lastEnd] (lastEnd a line end) start, when
// they surely all lie there: KEEP_LINES stretches ended by LF (or by lastEnd), not empty and each
// beginning with a byte that is no CR, so each holds a non-empty line. -1 when that is not sure.
// One native search per line, and nothing decoded.
function lastLinesStart(data: Buffer, from: number, lastEnd: number): number {
  let found = 0;
  for (let end = lastEnd; end > from; ) {
    const start = Math.max(data.lastIndexOf(LF, end - 1) + 1, from);
    if (data[start] === CR) return -1;
    if (start < end && ++found === KEEP_LINES) return start;
    end = start - 1;
  }
  return -1;
}

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
