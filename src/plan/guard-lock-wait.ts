import type { AlivePair } from '../ssh/alive-pair.js';
import { GUARD_TERM_GRACE_SECONDS } from '../guide/serve-guard-script.js';
import { computeClientBound, LOCK_WAIT_MARGIN_SECONDS, type LockWaitModel } from './lock-wait.js';

// The lock wait when the server runs the guard (README "The server half"). A stale `borg serve` of
// this run no longer lives until the server's sshd notices the lost client: the next attempt's guard
// ends it, and the next attempt starts once the client's own ssh has given up ((C+1) x I of its
// ServerAlive*, clientloop.c). The guard gives it GUARD_TERM_GRACE_SECONDS after SIGTERM, then
// SIGKILL (whose lock the new serve removes itself, locking.py kill_stale_lock) and up to 5 s more
// for it to go. The margin is the serve model's (start-up of both ends, borg's lock polling).
export const GUARD_END_SECONDS = GUARD_TERM_GRACE_SECONDS + 5;

// The keepalive tborg injects with the guard on, unless the user gave --tborg-keepalive: 10 x 6, the
// client gives up after (6+1) x 10 = 70 s of silence instead of the guide's 310 s. With the guard that
// give-up is nearly all a cut costs: measured over the lab's sshd with sshd's defaults
// (test/e2e/server-guard-e2e.test.ts, keepalive 1 x 3), the next attempt held the lock 2-4.5 s after
// tborg noticed the loss, on borg 1.2.4, 1.4.5 and 2.0.0b5. And a give-up on a connection that was
// only slow now costs one attempt, not a stale lock: the guard ends that attempt's serve as well.
// The interval stays the guide's (one probe per 10 s); a minute without any answer is kept as slack.
export const GUARD_ALIVE_PAIR: Readonly<AlivePair> = Object.freeze({ interval: 10, countMax: 6 });

export function computeGuardedLockWait(effectiveKeepalive: AlivePair | null, why: string): LockWaitModel {
  const clientBound = effectiveKeepalive ? computeClientBound(effectiveKeepalive) : 0;
  const serverBound = GUARD_END_SECONDS;
  const margin = LOCK_WAIT_MARGIN_SECONDS;
  const seconds = clientBound + serverBound + margin;
  const clientText = effectiveKeepalive ? `(${effectiveKeepalive.countMax}+1)x${effectiveKeepalive.interval}` : '0';
  return {
    kind: 'serve',
    why,
    clientBound,
    serverBound,
    margin,
    seconds,
    formula: `${clientText} + ${serverBound} (guard) + ${margin} = ${seconds} s`,
    serverAlive: null,
    tcpKeepaliveFallback: false,
  };
}
