import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../test/lab/lab.js';
import { descendants } from '../../test/lab/processes.js';
import { describeFailure, timeChild, TBORG, type TimedResult } from './context.js';

// What the lab benches share: repositories, lock checks, timed lab commands.

export function tborgArgv(...args: string[]): string[] {
  return [process.execPath, TBORG, ...args];
}

// Runs argv inside the lab's namespace, timed from spawn to exit.
export function labTimed(lab: Lab, argv: readonly string[], env: NodeJS.ProcessEnv = lab.env(), timeoutMs = 300_000): Promise<TimedResult> {
  return timeChild(lab.spawn(argv, { env, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

export async function initRepo(lab: Lab, name: string): Promise<string> {
  const url = lab.repoUrl(name);
  const r = await labTimed(lab, ['borg', 'init', '-e', 'none', url], lab.env(), 60_000);
  if (r.code !== 0) throw new Error(describeFailure(`borg init ${name}`, r));
  return url;
}

// Initialises repositories a few at a time (each init is two python start-ups and an ssh login).
export async function initRepos(lab: Lab, names: readonly string[], parallel = 3): Promise<string[]> {
  const urls: string[] = new Array<string>(names.length);
  for (let i = 0; i < names.length; i += parallel) {
    const batch = names.slice(i, i + parallel);
    const done = await Promise.all(batch.map((n) => initRepo(lab, n)));
    for (const [j, url] of done.entries()) urls[i + j] = url;
  }
  return urls;
}

// borg serve holds the repository's lock while lock.roster exists (borg/locking.py LockRoster).
export function lockHeld(lab: Lab, name: string): boolean {
  return existsSync(join(lab.repoPath(name), 'lock.roster'));
}

export async function listArchives(lab: Lab, url: string, env: NodeJS.ProcessEnv = lab.env()): Promise<string[]> {
  const r = await labTimed(lab, ['borg', 'list', '--short', url], env, 120_000);
  if (r.code !== 0) throw new Error(describeFailure(`borg list ${url}`, r));
  return r.stdout.split('\n').filter(Boolean).sort();
}

// The ssh connections (client port) that belong to the process tree of `pid`.
export async function connectionsOf(lab: Lab, pid: number): Promise<number[]> {
  const tree = new Set([pid, ...descendants(pid).map((p) => p.pid)]);
  return (await lab.clientConnections()).filter((c) => c.pid !== undefined && tree.has(c.pid)).map((c) => c.localPort);
}

// "1712345678.123456789" (date +%s.%N) -> seconds.
export function readStamp(text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value)) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  return value;
}
