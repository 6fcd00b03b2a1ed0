import { GUIDE_ALIVE_PAIR, type AlivePair } from '../ssh/alive-pair.js';

// How long tborg is prepared to wait for a held repository lock, and how to split that wait into borg
// attempts. Pure: the numbers come from docs/facts.md (measured on OpenSSH 9.2p1 / borg 1.2.4)
// and from borg's locking code, cited where used.

export type { AlivePair };

// Slack added to the larger bound. It covers what the bounds leave out:
// - ssh connect + authentication and python start-up of borg on both ends before the first lock try
//   of the attempt that is running when the lock goes (~1-3 s on a LAN, more on a slow link);
// - the polling granularity of that attempt: <= 1 s for borg 1.x with tborg's 10 s attempts
//   (locking.py TimeoutTimer, min(60, lock_wait/10)), up to 5 s for borg >= 2.0.0b10
//   (storelocking.py: a random 1-5 s between tries);
// - a server under load: the measured releases sat 0.2-0.7 s under the model (docs/facts.md), an
//   order of magnitude less than this margin.
// 5 s polling + 2 x 3 s start-up + ~9 s for a busy server = 20 s, small next to the 620 s bound.
export const LOCK_WAIT_MARGIN_SECONDS = 20;

// Linux's TCP keepalive defaults (net.ipv4.tcp_keepalive_time / _intvl / _probes): with no
// ClientAlive* the server's sshd only learns of a vanished client when the kernel gives up on the
// connection (sshd sets SO_KEEPALIVE because TCPKeepAlive defaults to yes).
const TCP_KEEPALIVE_TIME_SECONDS = 7200;
const TCP_KEEPALIVE_INTERVAL_SECONDS = 75;
const TCP_KEEPALIVE_PROBES = 9;
export const TCP_KEEPALIVE_BOUND_SECONDS = TCP_KEEPALIVE_TIME_SECONDS + TCP_KEEPALIVE_PROBES * TCP_KEEPALIVE_INTERVAL_SECONDS; // 7875

// Whose lock a vanished client leaves behind, and so what ends it (docs/facts.md "borg 2"):
//   'serve'  borg 1.x, borg2 before 2.0.0b22's rest: the server's `borg serve` holds the lock and it
//            goes when the server's sshd notices the client is gone and that borg serve exits.
//   'store'  borg2 2.0.0b22+ rest-over-ssh: the *client* writes the lock into the repository
//            (storelocking.py); a vanished client's lock stays until it is 30 minutes old.
export type LockModelKind = 'serve' | 'store';

export interface LockWaitModel {
  kind: LockModelKind;
  // Which borg line and transport chose the kind, in words, for `plan --json` and doctor.
  why: string;
  // (C+1) x I of the client's effective ServerAlive*: when the client's own ssh gives up
  // (clientloop.c). 0 when the keepalive is off.
  clientBound: number;
  // When the server's sshd gives up on a vanished client, so a stale `borg serve` exits and its
  // lock goes: 2 x (CountMax+1) x Interval of ClientAlive*, or the TCP keepalive bound.
  serverBound: number;
  margin: number;
  // W = max(clientBound, serverBound) + margin, never <= I x C of the keepalive.
  seconds: number;
  // The computation with its numbers, e.g. "max((30+1)x10, 2x(30+1)x10) + 20 = 640 s".
  formula: string;
  // The ClientAlive* the server bound was computed from; null when the server has none.
  serverAlive: AlivePair | null;
  // True when the server bound is TCP keepalive's (the server has no ClientAlive*).
  tcpKeepaliveFallback: boolean;
}

// The client's ssh exits after CountMax+1 unanswered keepalives, one per Interval (clientloop.c
// client_alive_check / server_alive_check). Measured: 1 x 3 -> ~4 s.
export function computeClientBound(keepalive: AlivePair): number {
  return (keepalive.countMax + 1) * keepalive.interval;
}

// Measured (docs/facts.md, client black-holed with iptables DROP, OpenSSH 9.2p1 sshd): the lock was released
// after 7.3, 15.5, 17.9, 19.4, 21.8 s for 1x3, 2x3, 3x2, 5x1, 1x10 — all just under
// 2 x (CountMax+1) x Interval. One (CountMax+1) x Interval for sshd to declare the client dead; about
// as long again before the stale `borg serve` notices and exits.
export function computeServerBound(serverAlive: AlivePair): number {
  return 2 * (serverAlive.countMax + 1) * serverAlive.interval;
}

// W, the time tborg waits for a held lock. effectiveKeepalive: the client's ServerAlive* as ssh will
// use it (null: ServerAliveInterval 0, off). serverAlive: the server's ClientAlive* as the user told
// tborg (undefined: assume the guide's 10 x 30; null: the server has none -> TCP keepalive).
export function computeLockWait(effectiveKeepalive: AlivePair | null, serverAlive: AlivePair | null | undefined): LockWaitModel {
  const server = serverAlive === undefined ? GUIDE_ALIVE_PAIR : serverAlive;
  const clientBound = effectiveKeepalive ? computeClientBound(effectiveKeepalive) : 0;
  const serverBound = server ? computeServerBound(server) : TCP_KEEPALIVE_BOUND_SECONDS;
  const margin = LOCK_WAIT_MARGIN_SECONDS;
  let seconds = Math.max(clientBound, serverBound) + margin;
  // The guide's own rule: the lock wait must exceed I x C. (C+1) x I already does; kept explicit so
  // a change to the bounds cannot break it.
  if (effectiveKeepalive) {
    seconds = Math.max(seconds, effectiveKeepalive.interval * effectiveKeepalive.countMax + 1);
  }
  const clientText = effectiveKeepalive ? `(${effectiveKeepalive.countMax}+1)x${effectiveKeepalive.interval}` : '0';
  const serverText = server
    ? `2x(${server.countMax}+1)x${server.interval}`
    : `${TCP_KEEPALIVE_TIME_SECONDS}+${TCP_KEEPALIVE_PROBES}x${TCP_KEEPALIVE_INTERVAL_SECONDS}`;
  return {
    clientBound,
    serverBound,
    margin,
    seconds,
    formula: `max(${clientText}, ${serverText}) + ${margin} = ${seconds} s`,
    serverAlive: server,
    tcpKeepaliveFallback: server === null,
    kind: 'serve',
    why: "the lock belongs to the server's borg serve, which ends when the server's sshd notices a vanished client",
  };
}

// storelocking.py Lock(stale=30 * 60): a lock not refreshed for 30 minutes is stale and any client
// deletes it (2.0.0b10 up to b25). Sooner only when the owner is a dead process on the waiter's own
// host (platform.process_alive): tborg's own earlier attempt, never another machine's client.
export const STORE_LOCK_STALE_SECONDS = 30 * 60;

// Margin on top of the store-lock expiry. The lock's time is the owner's clock and "stale" is judged
// by the waiter's (storelocking.py _is_stale_lock: now > lock time + 30 min), so it also covers a
// clock difference between two machines; plus borg2's random 1-5 s polling and an attempt's start-up
// (ssh + python on both ends) as in LOCK_WAIT_MARGIN_SECONDS.
const STORE_LOCK_MARGIN_SECONDS = 60;

// W under store locks. A stale exclusive lock (a vanished check or compact) blocks every command, a
// stale shared one (a vanished create) only exclusive ones; either way the wait that covers it is the
// 30-minute expiry. The client's own give-up time ((C+1) x I of its ServerAlive*) is kept in the max:
// it bounds how long tborg's own stalled attempt runs before the retry.
export function computeStoreLockWait(
  effectiveKeepalive: AlivePair | null,
  exclusive: boolean,
  writer = 'borg2 rest-over-ssh keeps its lock in the repository (storelocking.py)',
): LockWaitModel {
  const clientBound = effectiveKeepalive ? computeClientBound(effectiveKeepalive) : 0;
  const serverBound = STORE_LOCK_STALE_SECONDS;
  const margin = STORE_LOCK_MARGIN_SECONDS;
  const seconds = Math.max(clientBound, serverBound) + margin;
  const clientText = effectiveKeepalive ? `(${effectiveKeepalive.countMax}+1)x${effectiveKeepalive.interval}` : '0';
  const blocks = exclusive
    ? "this command takes the exclusive lock, so any vanished client's lock (shared or exclusive) blocks it"
    : "this command takes a shared lock, so only a vanished client's exclusive lock (check, compact, ...) blocks it";
  return {
    kind: 'store',
    why: `${writer}: a vanished client's lock lasts until it is ${formatDuration(STORE_LOCK_STALE_SECONDS)} old, whatever the server's sshd does; ${blocks}`,
    clientBound,
    serverBound,
    margin,
    seconds,
    formula: `max(${clientText}, ${STORE_LOCK_STALE_SECONDS}) + ${margin} = ${seconds} s`,
    serverAlive: null,
    tcpKeepaliveFallback: false,
  };
}

// The longest --lock-wait tborg gives one borg attempt. borg polls a held lock every
// min(60, lock_wait / 10) s (borg 1.2.4 and 2.0.0b5 src/borg/locking.py, TimeoutTimer with sleep=None,
// used by ExclusiveLock.acquire), so a single `--lock-wait 640` would notice a release up to 60 s
// late (measured: 49 s). 10 s attempts poll every 1 s; starting the next attempt (ssh + borg, ~0.5-1 s)
// then costs about as much as one poll, so a waiting tborg gets the lock within ~1-2 s of the release.
// Shorter attempts would spend most of their time starting up.
// borg >= 2.0.0b10 (src/borg/storelocking.py) sleeps a random 1-5 s between tries whatever the lock
// wait is, so the attempt length does not change its latency there; 2.0.0b5 (Debian 12's borg2)
// still has the 1.x locking. 10 s is right for both; the constants stay separate so they can diverge.
const ATTEMPT_LOCK_WAIT_SECONDS: Record<1 | 2, number> = { 1: 10, 2: 10 };

// Store locks: borg polls every random 1-5 s within one attempt whatever its --lock-wait, and each new
// attempt costs a start-up (ssh, borg serve --rest, python: 1-3 s) during which a release goes
// unnoticed. Longer attempts keep the hand-off at borg's own polling; 60 s still lets tborg say how
// the wait goes once a minute.
const STORE_ATTEMPT_LOCK_WAIT_SECONDS = 60;

// A last attempt shorter than this is folded into the one before it (e.g. 14 s left: one 14 s attempt
// polling every 1.4 s instead of 10 s + 4 s), so no attempt is mostly start-up.
const ATTEMPT_FOLD_SECONDS = 5;

// The --lock-wait for ONE borg attempt when remainingSeconds of W are left: whole seconds (borg's
// --lock-wait is type=int), at least 1, never more than what remains (unless that is under 1).
export function attemptLockWait(remainingSeconds: number, major: 1 | 2, kind: LockModelKind = 'serve'): number {
  const remaining = Number.isFinite(remainingSeconds) ? Math.floor(remainingSeconds) : 1;
  if (remaining <= 1) return 1;
  const step = kind === 'store' ? STORE_ATTEMPT_LOCK_WAIT_SECONDS : ATTEMPT_LOCK_WAIT_SECONDS[major];
  return remaining < step + ATTEMPT_FOLD_SECONDS ? remaining : step;
}

// "10m40s", "1m12s", "45s", "2h11m15s" (Go's time.Duration style: zero units inside are kept,
// "1h0m5s", so a reader never mistakes minutes for seconds). Rounded to whole seconds.
export function formatDuration(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

// BORG_LOCK_WAIT as Python's int() reads it (surrounding whitespace, a sign, digit groups with "_").
// A value int() refuses makes borg2 fail before it reads any argument: no wait of the user's then.
export function readBorgLockWait(env: NodeJS.ProcessEnv): number | null {
  const text = env.BORG_LOCK_WAIT;
  if (text === undefined) return null;
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[2]!.replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}
