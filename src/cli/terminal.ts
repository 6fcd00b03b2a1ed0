import type { Writable } from 'node:stream';
import type { LogLevel } from '../core/log-level.js';
import type { ProcessIo } from './process-io.js';

// The one module that writes to the terminal. borg's stderr passes through here too, so that a
// spinner is always stopped before borg's first byte lands on the screen. Under cron (stderr not a
// TTY) or with --tborg-quiet there is no spinner and no escape code: one timestamped line per event.
// When borg's own arguments include --log-json, tborg's lines are JSON lines in borg's log format.

// How much of borg's stderr may wait for our stderr's reader before borg is paused. Not the stream's
// own 16 KiB: a pipe holds 64 KiB, so even a reader that keeps up (a hash, `| logger`) made tborg pause
// and resume borg's pipe on one read in four (npm run bench, stderr scan: about 1600 pauses over 3 M
// lines, each a round of epoll and a smaller write; 215-311 with this bound). Bounded, as before:
// what waits here when tborg dies of borg's signal is lost (bin/tborg.js), so it stays small.
const PASSTHROUGH_QUEUE_BYTES = 256 * 1024;

export interface TerminalStreams {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; fd?: number };
}

interface Spinner {
  text: string;
  start(): unknown;
  stop(): unknown;
  isSpinning: boolean;
}

export class Terminal {
  private readonly streams: TerminalStreams;
  private readonly quiet: boolean;
  private spinner: Spinner | undefined;
  private spinnerTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  // Set when our stderr fails (EPIPE: the reader went away). borg must still be able to finish.
  private stderrBroken = false;
  private readonly brokenListeners = new Set<() => void>();

  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: () => number;
  // borg runs with --log-json: tborg's own lines become JSON lines too (speakJson()).
  private json = false;

  constructor(streams: TerminalStreams, options: { quiet?: boolean; now?: () => Date; env?: NodeJS.ProcessEnv } = {}) {
    this.streams = streams;
    this.env = options.env ?? process.env;
    streams.stderr.on('error', () => this.markBroken());
    this.quiet = options.quiet ?? false;
    this.now = options.now ?? (() => new Date());
    this.clock = () => this.now().getTime();
  }

  // From now on, tborg's own lines are JSON lines like borg's --log-json ones, so that a reader that
  // parses every stderr line as JSON (borg's own contract with --log-json) never meets plain text.
  speakJson(): void {
    this.json = true;
  }

  // A spinner only where a person watches: stderr is a terminal, not TERM=dumb, not --tborg-quiet.
  // A terminal that reports 0 columns (script(1), some CI ptys) is not one ora can draw on: it
  // computes lines to clear as width / columns and would erase lines without end. A CI variable means
  // a log, not a person (the same rule ora's is-interactive applies; tborg decides it here, once).
  get interactive(): boolean {
    const columns = (this.streams.stderr as { columns?: number }).columns ?? 0;
    return (
      !this.quiet && !this.json && this.streams.stderr.isTTY === true && this.env.TERM !== 'dumb' && !('CI' in this.env) && columns > 0
    );
  }

  // Results of tborg's own commands (plan, sshd-config, ...): stdout, verbatim.
  out(text: string): void {
    this.stopSpinner();
    this.streams.stdout.write(text);
  }

  // A message from tborg on stderr. Prefixed so it is never mistaken for borg's own output.
  message(text: string, level: LogLevel = 'INFO'): void {
    this.stopSpinner();
    if (this.json) {
      this.streams.stderr.write(this.jsonLine(text, level));
      return;
    }
    const prefix = this.interactive ? '' : `${this.timestamp()} `;
    this.streams.stderr.write(`${prefix}tborg: ${text}\n`);
  }

  warn(text: string): void {
    if (this.json) this.message(text, 'WARNING');
    else this.message(`warning: ${text}`);
  }

  // tborg's one-line error: `tborg: [COMMAND: ]message`. Messages carry no prefix of their own; this
  // is the one place that adds it (main for what is thrown, a command for what it reports itself).
  error(message: string, command?: string): void {
    this.stopSpinner();
    const text = `${command ? `${command}: ` : ''}${message}`.trimEnd();
    if (this.json) {
      this.streams.stderr.write(this.jsonLine(text, 'ERROR'));
      return;
    }
    this.streams.stderr.write(`tborg: ${text}\n`);
  }

  // One line as borg's JsonFormatter writes it (borg/logger.py: json.dumps of type, time (seconds
  // since the epoch, a float), message, levelname, name; Python's default separators and
  // ensure_ascii, so every non-ASCII character is a \uXXXX escape).
  private jsonLine(message: string, level: LogLevel): string {
    const seconds = this.clock() / 1000;
    const time = Number.isInteger(seconds) ? `${seconds}.0` : String(seconds);
    return `{"type": "log_message", "time": ${time}, "message": ${pythonJsonString(message)}, "levelname": "${level}", "name": "tborg"}\n`;
  }

  private markBroken(): void {
    if (this.stderrBroken) return;
    this.stderrBroken = true;
    for (const listener of this.brokenListeners) listener();
  }

  // Calls `listener` once our stderr's reader is gone (at once when it is already), until the
  // returned function is called: borg-process.ts then closes borg's pipe too.
  onBroken(listener: () => void): () => void {
    if (this.stderrBroken) {
      listener();
      return () => undefined;
    }
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
  }

  // borg's stderr, byte for byte. Returns false when PASSTHROUGH_QUEUE_BYTES or more wait to be
  // written (our stderr is a socket or a slow pipe whose reader lags): the caller then stops reading
  // borg's stderr until whenDrained() fires, so a slow reader slows borg down instead of filling
  // tborg's memory.
  passthrough(chunk: Uint8Array): boolean {
    this.stopSpinner();
    if (this.stderrBroken) return true;
    try {
      const stderr = this.streams.stderr;
      return stderr.write(chunk) || stderr.writableLength < PASSTHROUGH_QUEUE_BYTES;
    } catch {
      this.markBroken();
      return true;
    }
  }

  // Calls `resume` once our stderr has room again (or can never have: then borg's output is dropped
  // rather than left to block borg forever).
  whenDrained(resume: () => void): void {
    if (this.stderrBroken) {
      resume();
      return;
    }
    const done = (): void => {
      this.streams.stderr.off('drain', done);
      this.streams.stderr.off('error', done);
      resume();
    };
    this.streams.stderr.once('drain', done);
    this.streams.stderr.once('error', done);
  }

  // Shows that tborg is waiting. On a terminal: an ora spinner whose text is refreshed every second
  // from `status`, stopped for good when `status` says null (the wait is over). Otherwise: `status`
  // once, as a timestamped line.
  async waiting(status: () => string | null): Promise<void> {
    const first = status();
    if (first === null) {
      this.stopSpinner();
      return;
    }
    if (!this.interactive) {
      this.message(first);
      return;
    }
    if (!this.spinner) {
      const { default: ora } = await import('ora');
      // discardStdin: false — ora would otherwise put a TTY stdin into raw mode, and borg may be
      // about to prompt for a passphrase or a "yes" on that very terminal (docs/facts.md).
      // isEnabled: the decision is interactive's above, not ora's own second guess.
      this.spinner = ora({ stream: this.streams.stderr, discardStdin: false, hideCursor: false, isEnabled: true }) as Spinner;
    }
    this.spinner.text = first;
    if (!this.spinner.isSpinning) this.spinner.start();
    clearInterval(this.spinnerTimer);
    this.spinnerTimer = setInterval(() => {
      if (!this.spinner?.isSpinning) return;
      const text = status();
      if (text === null) this.stopSpinner();
      else this.spinner.text = text;
    }, 1000);
    this.spinnerTimer.unref();
  }

  stopSpinner(): void {
    clearInterval(this.spinnerTimer);
    this.spinnerTimer = undefined;
    if (this.spinner?.isSpinning) this.spinner.stop();
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  }
}

// A string as Python's json.dumps writes it: JSON's escapes, and every character outside printable
// ASCII as a \uXXXX escape (ensure_ascii; a character beyond U+FFFF as its two surrogates).
function pythonJsonString(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// The terminal of main's streams (the process's own, or a test's), judged by the environment main was
// given (TERM, CI), not process.env.
export function createProcessTerminal(quiet: boolean, env: NodeJS.ProcessEnv, io: Pick<ProcessIo, 'stdout' | 'stderr'>): Terminal {
  return new Terminal({ stdout: io.stdout, stderr: io.stderr }, { quiet, env });
}
