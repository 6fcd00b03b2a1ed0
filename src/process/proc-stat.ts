import { readFileSync, readlinkSync } from 'node:fs';

// Linux's view of one process, from /proc/PID/stat (proc(5)): "pid (comm) state ppid pgrp session
// tty_nr tpgid ...". comm may hold spaces and parentheses, so the fields are read after the last ')'.
// The one reader of that file: the recursion guard asks for a parent, the run for its terminal state,
// borg's CPU time and children (src/run/process-state.ts), the lab for the processes a test left behind.
export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  // The controlling terminal's device number; 0 without one.
  ttyNr: number;
  // The terminal's foreground process group; -1 without a terminal.
  tpgid: number;
  // CPU time used in user and kernel mode, in clock ticks.
  utime: number;
  stime: number;
}

// Pure: the fields of one /proc/PID/stat text.
export function parseProcStat(text: string): ProcStat {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    ttyNr: Number(fields[4]),
    tpgid: Number(fields[5]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
  };
}

// The process's stat, or undefined when it is gone (or this is not Linux).
export function readProcStat(pid: number | 'self'): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

// The program the process runs (/proc/PID/exe), or undefined.
export function readProcExe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

// The process's argv as one NUL-separated text (/proc/PID/cmdline), or '' when it is gone: compared
// as a whole, it tells a pid reused by another program from the one first seen.
export function readProcCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}
