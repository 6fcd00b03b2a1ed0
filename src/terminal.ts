import type { Writable } from 'node:stream';

// The one module that writes to the terminal. borg's stderr passes through here too, so that a
// spinner is always stopped before borg's first byte lands on the screen. Under cron (stderr not a
// TTY) or with --tborg-quiet there is no spinner and no escape code: one timestamped line per event.

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

  private readonly env: NodeJS.ProcessEnv;

  constructor(streams: TerminalStreams, options: { quiet?: boolean; now?: () => Date; env?: NodeJS.ProcessEnv } = {}) {
    this.streams = streams;
    this.env = options.env ?? process.env;
    streams.stderr.on('error', () => {
      this.stderrBroken = true;
    });
    this.quiet = options.quiet ?? false;
    this.now = options.now ?? (() => new Date());
  }

  // A spinner only where a person watches: stderr is a terminal, not TERM=dumb, not --tborg-quiet.
  // A terminal that reports 0 columns (script(1), some CI ptys) is not one ora can draw on: it
  // computes lines to clear as width / columns and would erase lines without end. A CI variable means
  // a log, not a person (the same rule ora's is-interactive applies; tborg decides it here, once).
  get interactive(): boolean {
    const columns = (this.streams.stderr as { columns?: number }).columns ?? 0;
    return (
      !this.quiet &&
      this.streams.stderr.isTTY === true &&
      this.env.TERM !== 'dumb' &&
      !('CI' in this.env) &&
      columns > 0
    );
  }

  // Results of tborg's own commands (plan, sshd-config, ...): stdout, verbatim.
  out(text: string): void {
    this.stopSpinner();
    this.streams.stdout.write(text);
  }

  // A message from tborg on stderr. Prefixed so it is never mistaken for borg's own output.
  message(text: string): void {
    this.stopSpinner();
    const prefix = this.interactive ? '' : `${this.timestamp()} `;
    this.streams.stderr.write(`${prefix}tborg: ${text}\n`);
  }

  warn(text: string): void {
    this.message(`warning: ${text}`);
  }

  // A one-line error that already carries its "tborg:" prefix (TborgError messages do).
  error(text: string): void {
    this.stopSpinner();
    this.streams.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  // borg's stderr, byte for byte. Returns false when the chunk had to be queued (our stderr is a
  // socket or a slow pipe whose reader lags): the caller then stops reading borg's stderr until
  // whenDrained() fires, so a slow reader slows borg down instead of filling tborg's memory.
  passthrough(chunk: Uint8Array): boolean {
    this.stopSpinner();
    if (this.stderrBroken) return true;
    try {
      return this.streams.stderr.write(chunk);
    } catch {
      this.stderrBroken = true;
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
  // from `status`. Otherwise: `status` once, as a timestamped line.
  async waiting(status: () => string): Promise<void> {
    if (!this.interactive) {
      this.message(status());
      return;
    }
    if (!this.spinner) {
      const { default: ora } = await import('ora');
      // discardStdin: false — ora would otherwise put a TTY stdin into raw mode, and borg may be
      // about to prompt for a passphrase or a "yes" on that very terminal (docs/facts.md).
      // isEnabled: the decision is interactive's above, not ora's own second guess.
      this.spinner = ora({ stream: this.streams.stderr, discardStdin: false, hideCursor: false, isEnabled: true }) as Spinner;
    }
    this.spinner.text = status();
    if (!this.spinner.isSpinning) this.spinner.start();
    clearInterval(this.spinnerTimer);
    this.spinnerTimer = setInterval(() => {
      if (this.spinner?.isSpinning) this.spinner.text = status();
    }, 1000);
    this.spinnerTimer.unref();
  }

  stopSpinner(): void {
    clearInterval(this.spinnerTimer);
    this.spinnerTimer = undefined;
    if (this.spinner?.isSpinning) this.spinner.stop();
  }

  private timestamp(): string {
    return this.now().toISOString().replace(/\.\d+Z$/, 'Z');
  }
}

export function createProcessTerminal(quiet: boolean): Terminal {
  return new Terminal({ stdout: process.stdout, stderr: process.stderr }, { quiet });
}
