import { spawn, type ChildProcess } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { LockLineHold } from '../borg/words/lock-line-hold.js';
import { StderrScanner, type StderrFindings } from '../borg/words/stderr-scanner.js';
import { encodeShimSpec, findShimPython, planStdio, SHIM_CODE } from './exec-shim.js';
import { recordBorgEnd } from './exit-signal.js';
import { forwardOnce } from './signal-forward.js';
import { closedStartStdio, inheritedFds, knownStartSignals } from './process-start.js';
import { ignoresSignal, readerGone, readTerminalState, stdoutIsStderr } from './process-state.js';
import { watchStoppedBorg } from './stopped-borg.js';
import { watchIdle } from './idle-watch.js';
import { encodeArgv, encodeEnv, readRawArgs, readRawEnviron, type RawArgs } from './raw-bytes.js';
import { markChildEnv } from '../process/child-marker.js';
import type { RunOutput } from './run-request.js';

// The one module that spawns borg and owns the process's signals while borg may run. borg is started
// through the exec shim (exec-shim.ts): argv, environment and inherited descriptors exactly as tborg
// got them, the signal dispositions tborg was started with, and PR_SET_PDEATHSIG=SIGTERM, so a tborg
// killed with SIGKILL (`timeout -s KILL`, the OOM killer) takes borg down the graceful way, which
// releases the repository lock, instead of leaving it running with PPID 1 (test/e2e/exec-shim-e2e.test.ts).
//
// Signals and process groups (docs/facts.md): Ctrl-C on a terminal reaches the whole foreground
// process group; forwarding it again would turn borg's graceful checkpoint-and-stop into an abort.
//   - tborg has a controlling terminal: borg stays in tborg's process group (and so in the terminal's
//     session). In the foreground it gets the terminal's signals itself and may prompt on it; in the
//     background, job control stops it (SIGTTOU/SIGTTIN) when it wants the terminal, as it stops plain
//     borg, and tborg then stops itself too, so the shell sees the job stopped and `fg` (SIGCONT to the
//     group) continues both. SIGTERM and SIGHUP, which `kill PID` sends to tborg alone, are forwarded:
//     when they came to the whole group, borg gets a second one, which borg 1.x ignores (its
//     raising_signal_handler sets SIG_IGN first, helpers/process.py). SIGINT is forwarded only while
//     tborg is not the terminal's foreground group (then it came from `kill`, not the keyboard).
//   - no controlling terminal (cron, a service, `setsid`, `timeout`): borg gets a process group of its
//     own (not a session: setpgid in the shim), so a signal sent to tborg or to tborg's group reaches
//     borg only through tborg, which forwards every one of them.
//   - a signal that also reached borg directly (systemd's KillMode=control-group signals every process
//     of the unit; a kill of the whole job in a terminal): borg's SIGTERM/SIGHUP handler sets SIG_IGN
//     before it raises (helpers/process.py raising_signal_handler), so tborg hands a SIGTERM/SIGHUP on
//     only when borg has not shown within a short grace that it got it too, and once per borg
//     (signal-forward.ts). Whether tborg runs under systemd (INVOCATION_ID) decides nothing: a
//     service's `timeout 6h tborg ...` or `kill <tborg pid>` signals tborg alone. Left open: a tborg so
//     starved of CPU that its handler runs only after borg's clean-up restored SIGTERM's default finds
//     borg not ignoring it, and its copy ends borg by the signal (status 143 still, but WIFSIGNALED;
//     seen once in the lab at load 25 on 2 cores).
//   - a stop while borg waits for a lock held elsewhere: see stopped-borg.ts.
//   - when borg dies of a signal, tborg records it (exit-signal.ts) and bin/tborg.js dies of it too.

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface AttemptResult {
  // borg's exit code; 128+N when borg died of signal N, as a shell reports it.
  exitCode: number;
  findings: StderrFindings;
  durationMs: number;
  // borg's stderr from its lock-timeout message on, held back (src/borg/words/lock-line-hold.ts); empty otherwise.
  // The caller passes it on (borg's error stands) or drops it (tborg retries and says so itself).
  held: Buffer;
  // The reader of borg's output went away (`| head`): borg met a broken pipe as it would without
  // tborg. Like SIGPIPE for another program, that stops the run: borg's answer stands.
  outputClosed?: boolean;
}

export interface AttemptOptions {
  // Hold back borg's lock-timeout message (AttemptResult.held) for tborg to decide.
  holdLockMessage?: boolean;
  // The attempt's own lock wait (its --lock-wait): until it is over (and a margin), a stopped borg
  // may be waiting for a lock held elsewhere (stopped-borg.ts). Undefined: not a retried run.
  lockWaitMs?: number;
  // For the spinner (attempts.ts): idle-watch.ts. Undefined: not watched.
  onIdle?: (idle: boolean) => void;
}

const EMPTY = Buffer.alloc(0);

// pgrp == tpgid in /proc/self/stat: we are the terminal's foreground process group.
export function isForegroundProcessGroup(): boolean {
  return readTerminalState().foreground;
}

// TBORG_EXEC_SHIM=off: spawn borg directly (no python3 shim); for measuring the shim's cost and for
// machines where it misbehaves. Then non-UTF-8 bytes, PR_SET_PDEATHSIG, the start-up signal
// dispositions and the 2>&1 order are lost, and borg without a terminal gets a session of its own.
function shimWanted(env: NodeJS.ProcessEnv): boolean {
  return env.TBORG_EXEC_SHIM !== 'off';
}

let rawArgs: RawArgs | undefined | null = null;
let rawEnviron: Buffer[] | undefined | null = null;

export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

const STOP_POLL_MS = 250;

export class BorgRunner {
  readonly borgPath: string;
  private readonly terminal: RunOutput;
  // borg stays in tborg's process group (tborg has a controlling terminal); see the header comment.
  private readonly shareGroup: boolean;
  private readonly merge: boolean;
  private child: ChildProcess | undefined;
  private readonly abort = new AbortController();
  private readonly handlers = new Map<ForwardedSignal, () => void>();
  // The first signal that asked tborg to stop; no new attempt starts after it.
  received: ForwardedSignal | undefined;
  // The signals handed on to the running borg (signal-forward.ts).
  private readonly sent = new Set<string>();

  // Called when a stopping signal arrives while borg runs (the running attempt's watch).
  private onStop: ((signal: ForwardedSignal) => void) | undefined;

  constructor(borgPath: string, terminal: RunOutput) {
    this.borgPath = borgPath;
    this.terminal = terminal;
    this.shareGroup = readTerminalState().hasTerminal;
    this.merge = stdoutIsStderr();
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
    this.onStop?.(signal);
    if (signal !== 'SIGINT') {
      // Once per borg, and not when borg got it itself (signal-forward.ts).
      void forwardOnce(child, signal, this.sent);
      return;
    }
    // borg got it from the terminal itself
    if (this.shareGroup && readTerminalState().foreground) return;
    // borg ignores it.
    if (ignoresSignal(child.pid, signal)) return;
    try {
      // borg alone, not its process group (see signal-forward.ts).
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  // Starts borg: through the exec shim when there is a python3, else directly (see exec-shim.ts).
  private start(argv: readonly string[], env: NodeJS.ProcessEnv, merge: boolean): ChildProcess {
    const childEnv = markChildEnv(env, this.borgPath);
    const python = shimWanted(env) ? findShimPython(this.borgPath, env) : null;
    const { stdio, specFd } = planStdio({ inherited: inheritedFds(), merge: merge && python !== null, shim: python !== null });
    if (python === null || specFd === undefined) {
      return spawn(this.borgPath, [...argv], { env: childEnv, stdio, detached: !this.shareGroup });
    }
    if (rawArgs === null) rawArgs = readRawArgs();
    if (rawEnviron === null) rawEnviron = readRawEnviron();
    const spec = encodeShimSpec({
      path: this.borgPath,
      argv: [Buffer.from(this.borgPath), ...encodeArgv(argv, rawArgs)],
      env: encodeEnv(childEnv, rawEnviron),
      deathSignal: osConstants.signals.SIGTERM,
      parentPid: process.pid,
      newProcessGroup: !this.shareGroup,
      mergeStderrIntoStdout: merge,
      startSignals: knownStartSignals(),
      closedStdio: closedStartStdio(),
    });
    // The shim's own environment is empty: borg's comes from the spec.
    const child = spawn(python, ['-I', '-S', '-c', SHIM_CODE, String(specFd)], { env: {}, stdio });
    const specPipe = child.stdio[specFd] as NodeJS.WritableStream & { on(event: 'error', f: () => void): unknown };
    specPipe.on('error', () => {
      // The shim died before reading it; its exit code tells the rest.
    });
    specPipe.end(spec);
    return child;
  }

  // While borg shares tborg's process group in the background of a terminal, job control stops borg
  // when it touches the terminal; the shell waits only for tborg, so tborg stops itself too (SIGTTOU,
  // as the terminal stops borg for its passphrase prompt's tcsetattr). `fg`/`bg` continue the group.
  private watchStops(child: ChildProcess): NodeJS.Timeout | undefined {
    if (!this.shareGroup) return undefined;
    const timer = setInterval(() => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      if (readTerminalState().foreground) return;
      if (readTerminalState(child.pid).state === 'T') process.kill(process.pid, 'SIGTTOU');
    }, STOP_POLL_MS);
    timer.unref();
    return timer;
  }

  // Runs borg once. stdin and stdout are inherited (borg's own, byte for byte, never copied); stderr
  // is piped through the terminal module and scanned on the way, in bounded memory. When stdout and
  // stderr are one file (2>&1), borg writes both into that one pipe and tborg passes it on.
  attempt(argv: readonly string[], env: NodeJS.ProcessEnv, options: AttemptOptions = {}): Promise<AttemptResult> {
    const started = Date.now();
    const scanner = new StderrScanner();
    const hold = options.holdLockMessage ? new LockLineHold() : undefined;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      let merged = this.merge;
      try {
        child = this.start(argv, env, merged);
      } catch (error) {
        reject(error);
        return;
      }
      merged = merged && child.stdout !== null;
      this.child = child;
      this.sent.clear();
      const stops = this.watchStops(child);
      let stopWatch: { end(): void } | undefined;
      const { lockWaitMs } = options;
      let printed = false;
      this.onStop =
        lockWaitMs === undefined || child.pid === undefined
          ? undefined
          : (signal) => {
              stopWatch ??= watchStoppedBorg({ pid: child.pid!, signal, lockWaitEnd: started + lockWaitMs, printed: () => printed });
            };
      const idleWatch = options.onIdle && child.pid !== undefined ? watchIdle(child.pid, options.onIdle, () => printed) : undefined;
      const output = merged ? child.stdout! : child.stderr!;
      // Our stderr's reader went away (`2>&1 | head -c 10`): borg's pipe is closed too, so borg meets
      // the broken pipe at its next write, as it would without tborg, instead of writing on into a
      // tborg that throws it away (a remote `extract --stdout` would download the whole archive).
      let outputClosed = false;
      const closeOutput = (): void => {
        outputClosed = true;
        output.destroy();
      };
      const unwatchBroken = this.terminal.onBroken(closeOutput);
      output.on('data', (chunk: Buffer) => {
        printed = true;
        scanner.feed(chunk);
        const now = hold ? hold.filter(chunk) : chunk;
        if (now.length > 0 && !this.terminal.passthrough(now)) {
          // Backpressure: borg blocks on its full stderr pipe until our reader catches up.
          output.pause();
          this.terminal.whenDrained(() => output.resume());
        }
      });
      output.on('error', () => {
        // Only after closeOutput: borg's end of it is borg's.
      });
      const finish = (): void => {
        clearInterval(stops);
        stopWatch?.end();
        clearInterval(idleWatch);
        unwatchBroken();
        this.onStop = undefined;
        this.child = undefined;
      };
      child.once('error', (error) => {
        finish();
        reject(error);
      });
      // 'close' (not 'exit'): every byte of stderr has been passed on by then.
      child.once('close', (code, signal) => {
        finish();
        recordBorgEnd(code === null ? signal : null);
        const { held, unheld } = hold ? hold.end() : { held: EMPTY, unheld: EMPTY };
        // An open last line that only might have begun the lock message is borg's output after all.
        if (unheld.length > 0) this.terminal.passthrough(unheld);
        const exitCode = code ?? (signal ? signalExitCode(signal) : 2);
        resolve({
          exitCode,
          findings: scanner.end(),
          durationMs: Date.now() - started,
          held,
          outputClosed: outputClosed || (exitCode > 1 && !merged && this.stdoutReaderGone(env)),
        });
      });
    });
  }

  // borg writes its stdout straight into ours (`tborg extract --stdout ... | head`): when that pipe's
  // reader is gone, borg's failure was its broken pipe (borg 1.2: a BrokenPipeError traceback), not
  // a lost connection, and nothing would read a second attempt's output either.
  private stdoutReaderGone(env: NodeJS.ProcessEnv): boolean {
    try {
      const out = fstatSync(1);
      if (!out.isFIFO() && !out.isSocket()) return false;
    } catch {
      return false;
    }
    const python = shimWanted(env) ? findShimPython(this.borgPath, env) : null;
    return readerGone(python, [1])?.includes(1) ?? false;
  }

  dispose(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
  }
}
