import { escapeRegExp, type ScannedWording, scannedWording, type Wording, wording } from './wording.js';

// What borg (and borgstore, and the server's shell) writes on stderr that tborg reads, one list per
// fact, each wording once, cited from borg's source (docs/facts.md "What borg prints and returns").

// borg passes each line of the server's stderr on with this prefix (remote.py handle_remote_line,
// "Remote: " + line), ssh's own lines too.
export const BORG_RELAY_PREFIX = 'Remote: ';
const RELAYED = `^${escapeRegExp(BORG_RELAY_PREFIX)}`;

// borg could not get a lock within --lock-wait: locking.py LockTimeout "Failed to create/acquire the
// lock {} (timeout)." through the logging handler (format '%(message)s'), a whole line of its own;
// borg2 b19+ storelocking.py adds " {}", who holds it. Group 1 is the lock's path. Anchored at the
// line's start: the same words inside another line (a file name under `create --list`) are not borg's
// answer. The m flag: doctor and the landed check read it in multi-line text.
const LOCK_TIMEOUT_WORDS = 'Failed to create/acquire the lock ';
export const BORG_LOCK_TIMEOUT: ScannedWording = {
  words: LOCK_TIMEOUT_WORDS,
  needle: 'Failed ',
  line: new RegExp(`^${escapeRegExp(LOCK_TIMEOUT_WORDS)}(.*?) \\(timeout\\)\\.(?: .*)?$`, 'm'),
};
// With --log-json: one JSON object per line whose "msgid" is the exception's name (archiver.py main,
// msgid = type(e).__qualname__; logger.py JsonFormatter); read as JSON, never matched inside a longer line.
export const BORG_LOCK_TIMEOUT_MSGID = 'LockTimeout';
export const BORG_LOCK_TIMEOUT_JSON: ScannedWording = scannedWording(`"${BORG_LOCK_TIMEOUT_MSGID}"`, 'Timeout', {
  before: '^\\{.*"msgid":\\s*',
  after: '.*\\}$',
});

// The connection to the server went away after borg serve had answered.
const CONNECTION_CLOSED = 'Connection closed by remote host';
// borg's hint when borg serve never answered (remote.py RemoteRepository.__init__ raises
// ConnectionClosedWithHint("Is borg working on the server?") when the first call, negotiate, meets EOF).
const SERVE_HINT = `${CONNECTION_CLOSED}. Is borg working on the server?`;
const REST_OPEN_FAILED = 'Could not access the repository via borg serve on the remote host: ';
export const BORG_CONNECTION_LOST: readonly ScannedWording[] = [
  // remote.py ConnectionClosed "Connection closed by remote host" (not its WithHint subclass, below).
  scannedWording(CONNECTION_CLOSED, 'Connect', { after: `(?!${escapeRegExp(SERVE_HINT.slice(CONNECTION_CLOSED.length))})` }),
  // borg 1.4 remote.py ConnectionBrokenWithHint "Connection to remote host is broken. {}".
  scannedWording('Connection to remote host is broken', 'Connect'),
  // borg 1.2 writes the broken pipe as a traceback under "Local Exception": Python's exception name.
  // ("BrokenP" is no needle: "B" is in DEBUG, on every line of a debug log.)
  scannedWording('BrokenPipeError', 'PipeErr'),
  // borg2 b22+: borgstore's rest.py/sftp.py with_reconnect, after its own reconnect tries (3, 5 s
  // apart): "rest connection was lost and could not be reestablished: ...".
  scannedWording(' connection was lost and could not be reestablished', 'was los', { before: '(?:rest|sftp)' }),
];

// borg serve did not answer at all: ssh did not get through, or the server has no (working) borg.
export const BORG_SERVE_NOT_STARTED: readonly ScannedWording[] = [
  scannedWording(SERVE_HINT, 'Connect'),
  // borg2 b22+ (repository.py Repository.__enter__): the first request to `borg serve --rest` failed,
  // before the repository was opened; nothing of the command ran. borgstore's reason follows it.
  scannedWording(REST_OPEN_FAILED, 'Could n'),
];
// The hint alone, when borg 1.2 lost ssh's own line (reach-failure.ts 'ambiguous').
export const BORG_SERVE_HINT: Wording = BORG_SERVE_NOT_STARTED[0]!;
// borg2's line as borg2 itself writes it (its error's own line, not a relayed one).
export const BORG_REST_OPEN_FAILED: Wording = wording(REST_OPEN_FAILED, { before: '^(?:Error: )?' });

// The user stopped borg: the first Ctrl-C during create, check, compact, prune writes a checkpoint and
// ends with this (archiver.py: print_error / raise Error("Got Ctrl-C / SIGINT.")), never a lock problem.
export const BORG_CTRL_C: Wording = wording('Got Ctrl-C / SIGINT');

// A wrong repository path: repository.py Repository.DoesNotExist "Repository {} does not exist.".
export const BORG_NO_REPOSITORY: Wording = wording(' does not exist.', { before: 'Repository .*' });

// The server answered, and no borg there can serve this repository: waiting cannot change that.
export const BORG_SERVER_SAID_NO: readonly Wording[] = [
  // The login shell found no borg: bash "bash: line 1: borg: command not found", zsh "zsh:1: command
  // not found: borg".
  wording('command not found'),
  // dash "sh: 1: borg: not found".
  wording(': not found', { before: `${RELAYED}\\S*sh: \\d+: .*` }),
  // A --remote-path (BORG_REMOTE_PATH) to nothing: "bash: line 1: /opt/borg/bin/borg: No such file or directory".
  wording(': No such file or directory', { before: `${RELAYED}.*(borg|serve).*` }),
  BORG_NO_REPOSITORY,
];
