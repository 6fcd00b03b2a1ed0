import { spawnSync } from 'node:child_process';
import { fstatSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isatty } from 'node:tty';
import { readProcCmdline, readProcStat } from '../process/proc-stat.js';

// What /proc says about tborg and the borg it runs: the facts the signal rules of borg-process.ts
// (README "Signals", docs/facts.md) are decided from. Every reader answers "unknown" (false, empty)
// when /proc cannot tell, and the caller then does what it did before it asked.

export interface TerminalState {
  // A controlling terminal at all (tty_nr != 0).
  hasTerminal: boolean;
  // This process's group is the terminal's foreground group (pgrp == tpgid).
  foreground: boolean;
  // The process's state letter (R, S, T, ...).
  state: string;
}

export function readTerminalState(pid: number | 'self' = 'self'): TerminalState {
  const stat = readProcStat(pid);
  if (!stat) return { state: '?', hasTerminal: false, foreground: false };
  const { pgrp, ttyNr, tpgid } = stat;
  return { state: stat.state, hasTerminal: ttyNr !== 0, foreground: ttyNr !== 0 && tpgid > 0 && pgrp === tpgid };
}

// stdout and stderr are one file, pipe or socket (`> log 2>&1`, `2>&1 | grep`): borg then gets one pipe
// for both, so their order survives. Not for a terminal (borg writes to it directly) or /dev/null.
export function stdoutIsStderr(): boolean {
  try {
    if (isatty(1)) return false;
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino && (out.isFile() || out.isFIFO() || out.isSocket());
  } catch {
    return false;
  }
}

// The process ignores `signal` now (SigIgn in /proc/PID/status). borg's SIGTERM and SIGHUP handler
// sets SIG_IGN before it raises (helpers/process.py raising_signal_handler, borg 1.2 to 2.0): a borg
// that ignores SIGTERM has received one already, and a second one would change nothing.
export function ignoresSignal(pid: number, signal: NodeJS.Signals): boolean {
  const number = osConstants.signals[signal];
  if (number === undefined) return false;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status);
    return mask !== null && ((BigInt(`0x${mask[1]}`) >> BigInt(number - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

// The process sleeps in wait4/waitid for a child of its own (its kernel wait channel is do_wait):
// a borg that ended its work and waits for its ssh to exit (remote.py RemoteRepository.close).
export function waitsForChild(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'latin1').trim() === 'do_wait';
  } catch {
    return false;
  }
}

// CPU time the process has used (utime + stime in clock ticks, /proc/PID/stat), or null.
function cpuTicks(pid: number): number | null {
  const stat = readProcStat(pid);
  return stat ? stat.utime + stat.stime : null;
}

// Bytes the process has read and written through any descriptor (rchar + wchar, /proc/PID/io), or null.
function ioBytes(pid: number): number | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    return Number(/^rchar: (\d+)$/m.exec(io)?.[1] ?? NaN) + Number(/^wchar: (\d+)$/m.exec(io)?.[1] ?? NaN);
  } catch {
    return null;
  }
}

// What changes while the process works: its CPU time, and the bytes it and its `borg serve` ssh
// (the child whose argv has the word "serve": remote.py borg_cmd) read and write. The same string
// twice, some time apart: borg sat still, waiting (for the server's answer, a lock, a prompt's reader).
export function readActivity(pid: number): string {
  return [cpuTicks(pid), ioBytes(pid), ...serveChildren(pid).map(ioBytes)].join(' ');
}

export function serveChildren(pid: number): number[] {
  return childrenOf(pid)
    .filter((child) => child.argv.includes('serve'))
    .map((child) => child.pid);
}

// The direct children of `pid` with their argv (/proc/PID/task/PID/children, else a scan of /proc).
function childrenOf(pid: number): Array<{ pid: number; argv: string[] }> {
  let pids: number[];
  try {
    pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    pids = [];
    try {
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        // Gone meanwhile: no stat, not a child.
        if (readProcStat(Number(name))?.ppid === pid) pids.push(Number(name));
      }
    } catch {
      return [];
    }
  }
  return pids.flatMap((child) => {
    const cmdline = readProcCmdline(child);
    // Gone meanwhile: no argv, not a child.
    return cmdline === '' ? [] : [{ pid: child, argv: cmdline.split('\0').slice(0, -1) }];
  });
}

// Which of `fds` (inherited by tborg, shared with borg) lead to a pipe or socket whose reader is gone:
// poll(2) reports POLLERR on the write end of a pipe without readers (Linux fs/pipe.c pipe_poll) and
// POLLHUP or POLLERR on a socket the peer shut. Node cannot poll a descriptor itself, so the exec
// shim's python3 asks, in a few milliseconds, and only after an attempt that failed. Null: unknown.
export function readerGone(python: string | null, fds: readonly number[]): number[] | null {
  if (python === null) return null;
  const code = `import select, sys
p = select.poll()
for f in map(int, sys.argv[1:]):
    p.register(f, 0)
print(' '.join(str(f) for f, e in p.poll(0) if e & (select.POLLERR | select.POLLHUP)))`;
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'ignore'];
  for (const fd of fds) if (fd > 2) stdio[fd] = fd;
  // Descriptors 1 and 2 are looked at through copies at 3 and up: the child's own 1 is its answer.
  const at = fds.map((fd, i) => (fd > 2 ? fd : 10 + i));
  fds.forEach((fd, i) => {
    if (fd <= 2) {
      while (stdio.length < at[i]!) stdio.push('ignore');
      stdio[at[i]!] = fd;
    }
  });
  try {
    const r = spawnSync(python, ['-I', '-S', '-c', code, ...at.map(String)], { stdio, env: {}, timeout: 5000 });
    if (r.status !== 0 || r.stdout === null) return null;
    const gone = new Set(r.stdout.toString().trim().split(/\s+/).filter(Boolean).map(Number));
    return fds.filter((_fd, i) => gone.has(at[i]!));
  } catch {
    return null;
  }
}
