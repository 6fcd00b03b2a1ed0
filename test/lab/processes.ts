import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readProcStat } from '../../src/process/proc-stat.js';

// Small process helpers for the lab and the tests: read /proc, wait for conditions, run a command
// with its output buffered (test use only; never for borg's real streams).

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  // argv joined by spaces (the kernel's cmdline with NULs turned into spaces).
  cmdline: string;
}

// /proc/<pid>/stat through src/process/proc-stat.ts, and the command line beside it.
function readStat(pid: number): ProcessInfo | undefined {
  const stat = readProcStat(pid);
  if (!stat) return undefined;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
  } catch {
    // Gone between the two reads.
  }
  return { pid, state: stat.state, ppid: stat.ppid, pgrp: stat.pgrp, cmdline };
}

function listProcesses(): ProcessInfo[] {
  const result: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readStat(Number(name));
    if (info) result.push(info);
  }
  return result;
}

// Every process below `root` (not `root` itself), zombies excluded: a zombie has exited already.
export function descendants(root: number, table: ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of table) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const found: ProcessInfo[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (child.state !== 'Z') found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

// True while `pid` runs. A zombie (exited, not yet reaped) does not count: it holds nothing.
export function isRunning(pid: number): boolean {
  const info = readStat(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

// True when a process with this id exists at all (kill(pid, 0); EPERM means it exists).
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Sends `signal` to a child the test started and waits until it has exited. A child that already
// exited (a lock holder whose `sleep` ran out while a slow machine ran the test) resolves at once:
// its 'exit' event is gone, and waiting for it would leave the file with nothing to run but a
// pending promise (node's runner then cancels every later test of the file).
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `check` until it returns something other than undefined/false, or throws after timeoutMs.
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
}

// Runs argv to completion with both output streams buffered. A timeout kills it (SIGKILL) and the
// result shows signal SIGKILL, so a hung command fails its test instead of hanging the suite.
export function runBuffered(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runBuffered: empty argv'));
  const spawnOptions: SpawnOptions = { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
  if (options.cwd !== undefined) spawnOptions.cwd = options.cwd;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, spawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.stdin!.on('error', () => {
      // The command did not read all of its input: that is its business.
    });
    child.stdin!.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}
