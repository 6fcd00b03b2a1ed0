import { commandFacts } from '../borg/command-facts.js';
import { formatDuration, STORE_LOCK_STALE_SECONDS } from '../plan/lock-wait.js';
import type { Plan } from '../plan/plan.js';

// What tborg says about borg2's store locks (lock-wait.ts 'store'), whose waits can be half an hour.

// Why a store-lock wait can be long, said once per run: a lock in the repository outlives its
// vanished owner until it is 30 minutes old (storelocking.py stale=30*60), and borg2 itself only
// retries every 1-5 s. Whose lock blocks depends on the lock the command takes (CommandSpec.lock).
// `total`: the whole wait, e.g. "31m0s".
export function storeLockWaitMessage(plan: Pick<Plan, 'borg' | 'command' | 'repository'>, total: string): string {
  const exclusive = commandFacts(plan.borg.major, plan.borg.version, plan.command)?.lock === 'exclusive';
  const location = plan.repository?.location;
  const blocker = exclusive ? 'another client holds a lock on it' : 'another client holds its exclusive lock (check, compact, ...)';
  return (
    `${location ?? 'the repository'} is locked: ${blocker}. borg2 keeps a vanished client's lock in the ` +
    `repository until it is ${formatDuration(STORE_LOCK_STALE_SECONDS)} old; tborg waits up to ${total} for it and takes over within seconds of its release`
  );
}

// What becomes of the lost attempt's lock, for the "connection was lost; retrying" line. A store lock
// (borg2 rest) is this machine's and its owner is dead, so the next borg deletes it at once
// (storelocking.py process_alive); only another client's can last. A `borg serve` lock stays until
// the server's sshd notices the dead connection: up to the server bound.
export function oldLockWords(store: boolean, serverBoundSeconds: number): string {
  const bound = formatDuration(Math.round(serverBoundSeconds));
  return store
    ? `the lost attempt's lock is this machine's and goes at once; another client's can last up to ${bound}`
    : `allowing up to ${bound} for the server to release the old lock`;
}
