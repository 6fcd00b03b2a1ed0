import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from './lab.js';

// "At once" in a test is relative, never a number of seconds: a loaded 2-core CI machine ran a
// missing repository's plain `borg list` and tborg's in tens of seconds each (Debian 13 root, b25 and
// 1.2.4 lines), far over an absolute 10 s, while what such a check guards against -- tborg waiting
// for a lock or for the server instead of ending with borg's answer -- lasts minutes. So a check
// says what it guards against:
//   guardedWaitMs(lab, args)   the waits tborg would spend on this command line, from its own plan
//                              (`tborg plan --json`: lockWait.seconds, retry.connectWaitSeconds)
//   assertAtOnce(ms, ...)      done in well under that wait (a quarter of the shortest), and, where
//                              plain borg did the same in the same test, no slower than plain borg
//                              plus that margin

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

// The shortest non-zero wait (ms) that tborg's plan gives this command line: the lock wait, or the
// wait for an unreachable server when the plan has one.
export async function guardedWaitMs(lab: Lab, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const r = await lab.run([process.execPath, TBORG, 'plan', '--json', ...args], { env: lab.env(env), timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr.toString());
  const plan = JSON.parse(r.stdout.toString()) as { lockWait?: { seconds?: number }; retry?: { connectWaitSeconds?: number } };
  const waits = [plan.lockWait?.seconds, plan.retry?.connectWaitSeconds].filter((s): s is number => typeof s === 'number' && s > 0);
  assert.ok(waits.length > 0, `tborg plan names no wait: ${r.stdout.toString()}`);
  return Math.min(...waits) * 1000;
}

// Took `ms`: well under the guarded wait, and (with plainMs) no more than plain borg's own time plus
// that margin.
export function assertAtOnce(ms: number, reference: { guardedMs: number; plainMs?: number }, what = 'tborg'): void {
  const margin = reference.guardedMs / 4;
  const bound = (reference.plainMs ?? 0) + margin;
  const plain = reference.plainMs === undefined ? '' : `plain borg's ${reference.plainMs} ms + `;
  assert.ok(
    ms < bound,
    `${what} took ${ms} ms: not at once (bound: ${plain}a quarter of the ${reference.guardedMs} ms wait it guards against)`,
  );
}
