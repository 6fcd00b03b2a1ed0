// What the client (src/plan) and the server half's guard (src/guide/serve-guard-script.ts) agree on:
// the run token's word in the remote command, the probe request and its answer, the guard's version
// and its grace. Here, below both, so that the plan need not import the guide (README "The server half").
//
// The client's remote path becomes `TBORG_RUN=<32 hex digits> borg`, so the remote command is
// `TBORG_RUN=<token> borg serve ...` (src/plan/run-token.ts).

// Bumped whenever the script's behaviour changes; `tborg doctor` reports it.
export const SERVE_GUARD_VERSION = 1;

// The remote command's assignment word that carries the run token.
export const RUN_TOKEN_VARIABLE = 'TBORG_RUN';

// A run token: 128 random bits as lowercase hex.
export const RUN_TOKEN_PATTERN = /^[0-9a-f]{32}$/;

// The one request the guard answers itself (`TBORG_RUN=<token> borg serve --tborg-guard-probe`):
// doctor's question "is there a guard?". Without a guard, borg serve refuses the unknown option.
export const GUARD_PROBE_OPTION = '--tborg-guard-probe';

// What the guard prints for the probe, and for `tborg-serve-guard --version`.
export const GUARD_BANNER = 'tborg-serve-guard';

// How long the guard gives an earlier serve after SIGTERM before SIGKILL. borg handles SIGTERM by
// raising SigTerm in its main thread (archiver.py main: signal_handler("SIGTERM",
// raising_signal_handler(SigTerm))): the repository rolls back and the lock goes within a second
// or two. After a SIGKILL the lock stays, but the serve about to start on the same host removes a
// dead pid's lock itself (locking.py kill_stale_lock, the host id is the same).
export const GUARD_TERM_GRACE_SECONDS = 10;
