import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { StderrScanner, type StderrFindings } from './borg-errors.js';
import { LockLineHold } from './lock-line-hold.js';
import type { Terminal } from './terminal.js';

// The one module that spawns borg and owns the process's signals while borg may run.
//
// Signals (docs/facts.md): Ctrl-C on a terminal reaches the whole foreground process group. When tborg is
// in its terminal's foreground group, borg shares that group and already gets the terminal's SIGINT
// itself; forwarding it again would turn borg's graceful checkpoint-and-stop into an abort. So:
//   - foreground: borg stays in tborg's group (it may prompt on the terminal); SIGTERM and SIGHUP,
//     which `kill PID` sends to tborg alone, are forwarded; SIGINT is not.
//   - otherwise (cron, a background job, a service): borg gets a process group of its own, so a
//     signal sent to tborg's group reaches borg exactly once, through tborg.
//   - under systemd (INVOCATION_ID set) the default KillMode=control-group already sends SIGTERM to
//     every process of the unit, borg included: tborg does not send it a second one.

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface AttemptResult {
  // borg's exit code; 128+N when borg died of signal N, as a shell reports it.
  exitCode: number;
  findings: StderrFindings;
  durationMs: number;
  // borg's stderr from its lock-timeout message on, held back (lock-line-hold.ts); empty otherwise.
  // The caller passes it on (borg's error stands) or drops it (tborg retries and says so itself).
  held: Buffer;
}

const EMPTY = Buffer.alloc(0);

// pgrp == tpgid in /proc/self/stat: we are the terminal's foreground process group.
export function isForegroundProcessGroup(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state ppid pgrp session tty_nr tpgid
    const pgrp = Number(fields[2]);
    const ttyNr = Number(fields[4]);
    const tpgid = Number(fields[5]);
    return ttyNr !== 0 && tpgid > 0 && pgrp === tpgid;
  } catch {
    return false;
  }
}

export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

export class BorgRunner {
  readonly borgPath: string;
  private readonly terminal: Terminal;
  private readonly foreground: boolean;
  private readonly underSystemd: boolean;
  private child: ChildProcess | undefined;
  private readonly abort = new AbortController();
  private readonly handlers = new Map<ForwardedSignal, () => void>();
  // The first signal that asked tborg to stop; no new attempt starts after it.
  received: ForwardedSignal | undefined;

  constructor(borgPath: string, terminal: Terminal, env: NodeJS.ProcessEnv = process.env) {
    this.borgPath = borgPath;
    this.terminal = terminal;
    this.foreground = isForegroundProcessGroup();
    this.underSystemd = Boolean(env.INVOCATION_ID) && !this.foreground;
    for (const signal of FORWARDED_SIGNALS) {
      const handler = (): void => this.onSignal(signal);
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  // Aborted when a stopping signal arrives: waits between attempts listen to it and end at once.
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private onSignal(signal: ForwardedSignal): void {
    this.received ??= signal;
    this.abort.abort();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    if (this.foreground && signal === 'SIGINT') return; // borg got it from the terminal itself
    if (this.underSystemd && signal === 'SIGTERM') return; // systemd sent it to borg too
    try {
      // borg alone, not its process group: borg shuts its ssh down itself after its clean-up (it
      // starts ssh with SIGINT ignored for that reason, remote.py). A SIGTERM to the group killed
      // ssh under borg's rollback: BrokenPipeError traceback and rc 2 instead of 143
      // (test/passthrough-e2e.test.ts).
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  // Runs borg once. stdin and stdout are inherited (borg's own, byte for byte, never copied); stderr
  // is piped through the terminal module and scanned on the way, in bounded memory.
  attempt(argv: readonly string[], env: NodeJS.ProcessEnv, options: { holdLockMessage?: boolean } = {}): Promise<AttemptResult> {
    const started = Date.now();
    const scanner = new StderrScanner();
    const hold = options.holdLockMessage ? new LockLineHold() : undefined;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(this.borgPath, [...argv], {
          env,
          stdio: ['inherit', 'inherit', 'pipe'],
          detached: !this.foreground,
        });
      } catch (error) {
        reject(error);
        return;
      }
      this.child = child;
      const stderr = child.stderr!;
      stderr.on('data', (chunk: Buffer) => {
        scanner.feed(chunk);
        const now = hold ? hold.filter(chunk) : chunk;
        if (now.length > 0 && !this.terminal.passthrough(now)) {
          // Backpressure: borg blocks on its full stderr pipe until our reader catches up.
          stderr.pause();
          this.terminal.whenDrained(() => stderr.resume());
        }
      });
      child.once('error', (error) => {
        this.child = undefined;
        reject(error);
      });
      // 'close' (not 'exit'): every byte of stderr has been passed on by then.
      child.once('close', (code, signal) => {
        this.child = undefined;
        const { held, unheld } = hold ? hold.end() : { held: EMPTY, unheld: EMPTY };
        // An open last line that only might have begun the lock message is borg's output after all.
        if (unheld.length > 0) this.terminal.passthrough(unheld);
        resolve({
          exitCode: code ?? (signal ? signalExitCode(signal) : 2),
          findings: scanner.end(),
          durationMs: Date.now() - started,
          held,
        });
      });
    });
  }

  dispose(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
  }
}
