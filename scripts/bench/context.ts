import { spawn, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What every bench shares: where tborg is, a scratch directory, the run length, progress lines.

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TBORG = join(ROOT, 'bin', 'tborg.js');

export interface BenchContext {
  // Scratch directory of this bench run (removed at the end).
  tmp: string;
  quick: boolean;
  // Progress on stderr: "[1m02s] handoff: ...".
  log(text: string): void;
  random(): number;
  // process.env without the caller's BORG_*/TBORG_* settings, tborg's version cache in tmp, then extra.
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  // The python3 that runs stand-ins (the system's, not a pyenv shim: its start-up is the baseline).
  python: string;
}

export function cleanEnv(tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('BORG_') || key.startsWith('TBORG_') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  // XDG_STATE_HOME: tborg's status records (README "Monitoring") stay in the bench's scratch directory.
  return { ...env, XDG_CACHE_HOME: join(tmp, 'cache'), XDG_STATE_HOME: join(tmp, 'state'), ...extra };
}

export interface TimedResult {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  // The first 64 KiB of each stream, for error messages.
  stdout: string;
  stderr: string;
}

const KEEP = 64 * 1024;

// Times a child from spawn to exit (high-resolution clock), keeping a little of its output.
export function timeChild(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<TimedResult> {
  const started = process.hrtime.bigint();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    if (stdout.length < KEEP) stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < KEEP) stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let ms = 0;
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'exit' is the process's end (what is timed); 'close' waits for its streams to be read.
    child.once('exit', () => {
      ms = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ms, code, signal, stdout, stderr });
    });
  });
}

export function runTimed(argv: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<TimedResult> {
  const [file, ...args] = argv;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  return timeChild(child, options.timeoutMs ?? 120_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function describeFailure(what: string, r: TimedResult): string {
  return `${what} failed (exit ${r.code ?? r.signal}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`;
}
