import { BORG_RELAY_PREFIX } from './borg-words.js';
import { escapeRegExp, type ScannedWording, scannedWording, type Wording, wording } from './wording.js';

// What OpenSSH's client writes on stderr that tborg reads, one list per fact, each wording once, cited
// from openssh-portable. borg passes ssh's lines on as the server's (borg-words.ts BORG_RELAY_PREFIX).

// ssh could not open a TCP connection: sshconnect.c ssh_connect_direct, "ssh: connect to host %s port
// %s: %s" with strerror(errno). tborg's own probe (src/run/reach-probe.ts) says what it finds in the
// same words, without ssh's name.
export const CONNECT_TO_HOST = 'connect to host ';
const CONNECT_FAILED = `ssh: ${CONNECT_TO_HOST}`;
// The server's name did not resolve: ssh.c resolve_host, "%s: Could not resolve hostname %.100s: %s"
// (%s: __progname, "ssh").
export const RESOLVE_HOSTNAME = 'Could not resolve hostname ';
const RESOLVE_FAILED = `ssh: ${RESOLVE_HOSTNAME}`;

// strerror(3) of the connect(2) errors, which ssh puts at the end of its "connect to host" line, by
// the errno code node gives them; tborg's own probe (src/run/reach-probe.ts) words what it finds the
// same way. `passing`: a network coming up or a server booting says this, so waiting is worth it
// (reach-failure.ts); the others are only the probe's words.
export const CONNECT_ERRORS: ReadonlyArray<{ readonly code: string; readonly text: string; readonly passing: boolean }> = [
  { code: 'ECONNREFUSED', text: 'Connection refused', passing: true },
  { code: 'EHOSTUNREACH', text: 'No route to host', passing: true },
  { code: 'ENETUNREACH', text: 'Network is unreachable', passing: true },
  { code: 'ETIMEDOUT', text: 'Connection timed out', passing: true },
  // strerror(ETIMEDOUT) on the BSDs and macOS.
  { code: 'ETIMEDOUT', text: 'Operation timed out', passing: true },
  { code: 'ECONNRESET', text: 'Connection reset by peer', passing: false },
  { code: 'EADDRNOTAVAIL', text: 'Cannot assign requested address', passing: false },
];
const PASSING = CONNECT_ERRORS.filter((e) => e.passing).map((e) => escapeRegExp(e.text));

// ssh could not reach the server, whatever the reason: its line, as the stream scan keeps it
// (StderrFindings.unreachable). ':' is on every line of a remote borg's debug output once ("Remote:
// "), yet the rarest first byte these words have.
export const SSH_CANNOT_CONNECT: readonly ScannedWording[] = [
  scannedWording(CONNECT_FAILED, ': conne', { after: '.*: ' }),
  scannedWording(RESOLVE_FAILED, 'Could n'),
];
// The same lines with a reason that may pass: worth waiting for (reach-failure.ts 'unreachable').
export const SSH_CANNOT_CONNECT_YET: readonly Wording[] = [
  wording(CONNECT_FAILED, { after: `.* port \\S+: (?:${PASSING.join('|')})` }),
  wording(RESOLVE_FAILED),
];

// ssh gave up on a server that stopped answering (ServerAliveInterval x ServerAliveCountMax):
// clientloop.c server_alive_check, "Timeout, server %s not responding.", relayed by borg.
export const SSH_SERVER_SILENT: ScannedWording = scannedWording('Timeout, server ', 'Timeout', {
  before: escapeRegExp(BORG_RELAY_PREFIX),
  after: '.* not responding\\.',
});

// The server refused the login: sshconnect2.c userauth, "%s@%s: Permission denied (%s)." (older:
// "Permission denied (%s)."); sshd's auth.c auth_maxtries_exceeded disconnects with "Too many
// authentication failures", which ssh prints in its "Received disconnect" line.
export const SSH_LOGIN_REFUSED: readonly Wording[] = [wording('Permission denied ('), wording('Too many authentication failures')];

// ssh refused the server's host key: sshconnect.c warn_changed_key's banner, sshconnect2.c
// verify_host_key_callback "Host key verification failed.", sshconnect.c check_host_key "No %s host
// key is known for %.200s and you have requested strict checking." (%s: sshkey_type, "ED25519",
// "ECDSA-SK", ...).
export const SSH_HOST_KEY_REFUSED: readonly Wording[] = [
  wording('REMOTE HOST IDENTIFICATION HAS CHANGED'),
  wording('Host key verification failed.'),
  wording(' host key is known for', { before: 'No [A-Z0-9-]+' }),
];

// ssh's chatter, no message of the run's: ssh.c main "Pseudo-terminal will not be allocated because
// stdin is not a terminal." (even with -G), sshconnect.c check_host_key "Warning: Permanently added
// ...", and what a -v in the user's own options adds (log.c do_log "debug1: ...", ssh.c's version
// banner "OpenSSH_9.2p1 ...").
export const SSH_CHATTER: readonly Wording[] = [
  wording('Pseudo-terminal will not be allocated', { before: '^', after: '\\b' }),
  wording('Warning: Permanently added ', { before: '^' }),
  wording('debug', { before: '^', after: '\\d?: ' }),
  wording('OpenSSH_', { before: '^' }),
];
