import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type BorgLine, createArgs, initArgs, listArchivesArgs, withLockArgs } from '../lab/borgs.js';
import { startLab, type Lab } from '../lab/lab.js';

// What the two files of README "How long tborg waits for a lock" over the lab's real sshd
// (test/e2e/lock-e2e.test.ts: held locks and what is never retried; test/e2e/lock-outage-e2e.test.ts:
// a stop while waiting and the guide's failure) share: one lab per borg line with its keepalives,
// 20 small files to back up, and tborg, borg and the archive list inside it. Two files, so the runner
// spreads them over its lanes.

export const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

export interface LockLab {
  lab(): Lab;
  // 20 small files to back up.
  data(): string;
  // This line's argv words for borg's init, create and with-lock (test/lab/borgs.ts); withLock with the client.
  init(repo: string, encrypted?: boolean): string[];
  create(repo: string, name: string, ...paths: string[]): string[];
  withLock(repo: string, ...command: string[]): string[];
  // The lab's repository `name` is locked.
  lockHeld(name: string): boolean;
}

// Registers the describe block's before/after: one lab for `line`.
export function useLockLab(line: BorgLine, name: string): LockLab {
  let lab: Lab;
  let data = '';
  before(async () => {
    // The server gives up on a dead client after (4+1) x 2 = 10 s, the client (TBORG_KEEPALIVE 1x3
    // in the outage test) after (3+1) x 1 = 4 s: the outage test's stale borg serve is there for
    // certain when the client notices. (With both at 1x3, OpenSSH 10.6's sshd could end the session first.)
    lab = await startLab({ clientAlive: { interval: 2, countMax: 4 }, line, name: `${name}-${line.name}` });
    data = join(lab.dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 20; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(1000));
  });
  after(async () => lab?.close());
  return {
    lab: () => lab,
    data: () => data,
    init: (repo, encrypted = false) => initArgs(line, repo, encrypted),
    create: (repo, name, ...paths) => createArgs(line, repo, name, ...paths),
    withLock: (repo, ...command) => [line.client, ...withLockArgs(line, repo, ...command)],
    lockHeld: (name) => lab.lockHeld(name),
  };
}

export function tborg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  return lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs });
}

export function borg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  return lab.run([lab.line!.client, ...args], { env: lab.env(env), timeoutMs });
}

// The archive names in `repo`, sorted.
export async function archives(lab: Lab, repo: string): Promise<string[]> {
  const r = await borg(lab, listArchivesArgs(lab.line, repo));
  assert.equal(r.code, 0, r.stderr.toString());
  return r.stdout.toString().split('\n').filter(Boolean).sort();
}
