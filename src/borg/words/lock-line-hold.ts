import { BORG_LOCK_TIMEOUT, BORG_RELAY_PREFIX, BORG_SERVE_HINT } from './borg-words.js';
import { SSH_CANNOT_CONNECT } from './ssh-words.js';

// Holds back borg's "Failed to create/acquire the lock ... (timeout)." and whatever follows it until
// the attempt ends. When tborg retries, that message is not true any more (the run goes on), and 64
// copies of it over a ten minute wait would bury the real output; when tborg gives up, the held bytes
// are passed on unchanged, just later. Everything before the message's line passes at once, byte for
// byte.
//
// borg writes the message in one write() (logging's StreamHandler: the line, then a flush), but a read
// of the pipe can still end inside it when borg wrote more than one read takes before it. So a line
// still open at the end of a read, whose end could be the message's beginning ("F", "Failed to cr"),
// waits for the next read: it is the only thing ever delayed, only until borg's next write or exit,
// and never a prompt (borg's prompts end in ": " or "] ", which no beginning of the message ends in).
// The whole line waits, not just its end, so a held line is never cut in two; a `--log-json` line
// (the message inside a JSON object) waits until it is complete.
//
// The same hold serves ssh's "cannot connect" line at the start of an attempt (borg passes it on as
// "Remote: ssh: ..." before its own "Connection closed by remote host. Is borg working on the
// server?"): while tborg waits for an unreachable server (src/run/connect-wait.ts), its one line per attempt
// says what ssh said, and the last attempt's lines are passed on unchanged. ssh says it before borg
// says anything else, so it is looked for only in an attempt's first EARLY_BYTES: a long stderr
// stream costs one search per read, as before.
const LOCK_MESSAGE = Buffer.from(BORG_LOCK_TIMEOUT.words);
// borg's own "Is borg working on the server?" line comes alone when borg 1.2.4 loses ssh's line (about
// 1 in 10 refused connections, docs/facts.md): then it is the attempt's first line, and held the same way.
const SSH_MESSAGES = [...SSH_CANNOT_CONNECT.map((w) => `${BORG_RELAY_PREFIX}${w.words}`), BORG_SERVE_HINT.words].map((m) => Buffer.from(m));
const ALL_MESSAGES = [LOCK_MESSAGE, ...SSH_MESSAGES];
const EARLY_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;
// The longest open line that waits: borg's message line, even as a --log-json object with a long lock
// path, is far shorter. A longer line passes on, so a stream that never ends its line (gigabytes on
// stderr) is never gathered up here: memory stays bounded.
const MAX_WAITING_LINE = 64 * 1024;

export class LockLineHold {
  private held: Buffer[] = [];
  // The open line that may yet turn out to be the message's.
  private pending = EMPTY;
  private seen = 0;

  // Returns what may be written now.
  filter(chunk: Buffer): Buffer {
    if (this.held.length > 0) {
      this.held.push(chunk);
      return EMPTY;
    }
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    const messages = this.seen < EARLY_BYTES ? ALL_MESSAGES : [LOCK_MESSAGE];
    this.seen += chunk.length;
    const at = firstMessageAt(data, messages);
    if (at !== -1) {
      const from = lineStart(data, at);
      this.held.push(data.subarray(from));
      return data.subarray(0, from);
    }
    const openFrom = lineStart(data, data.length);
    if (openFrom < data.length && data.length - openFrom <= MAX_WAITING_LINE && mayBecomeMessageLine(data.subarray(openFrom), messages)) {
      this.pending = Buffer.from(data.subarray(openFrom)); // a copy: the read's buffer is not ours
      return data.subarray(0, openFrom);
    }
    return data;
  }

  // At the end of the attempt: the message and what followed it (empty when there was none), and the
  // bytes that waited only in case they began it (to be written: they are plain output).
  end(): { held: Buffer; unheld: Buffer } {
    const result = { held: Buffer.concat(this.held), unheld: this.pending };
    this.held = [];
    this.pending = EMPTY;
    return result;
  }
}

// Where the line holding data[at] starts: after a \n, or after a \r (borg's progress line before it
// is over and passes on).
// The CR is looked for only after the last LF: most output has no CR, and a search for it would run
// back through the whole read.
function lineStart(data: Buffer, at: number): number {
  if (at === 0) return 0; // (lastIndexOf takes a negative offset as counted from the end)
  const afterLf = data.lastIndexOf(LF, at - 1) + 1;
  const cr = data.subarray(afterLf, at).lastIndexOf(CR);
  return cr === -1 ? afterLf : afterLf + cr + 1;
}

// An open line that may yet hold the message: a `--log-json` line (borg writes each JSON object
// whole, and never prompts in JSON), or one whose end could be the message's beginning.
function mayBecomeMessageLine(line: Buffer, messages: readonly Buffer[]): boolean {
  return line[0] === OPEN_BRACE || endsWithMessageStart(line, messages);
}

function firstMessageAt(data: Buffer, messages: readonly Buffer[]): number {
  let first = -1;
  for (const message of messages) {
    const at = data.indexOf(message);
    if (at !== -1 && (first === -1 || at < first)) first = at;
  }
  return first;
}

// True when some end of `line` is a beginning of a message. Only ends starting with its first letter can be.
function endsWithMessageStart(line: Buffer, messages: readonly Buffer[]): boolean {
  return messages.some((message) => {
    const from = Math.max(0, line.length - message.length + 1);
    for (let i = line.indexOf(message[0]!, from); i !== -1; i = line.indexOf(message[0]!, i + 1)) {
      const end = line.subarray(i);
      if (message.subarray(0, end.length).equals(end)) return true;
    }
    return false;
  });
}
