import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyAttempt, type FailureKind } from '../../src/borg/words/attempt-failure.js';
import * as borgWords from '../../src/borg/words/borg-words.js';
import { LockLineHold } from '../../src/borg/words/lock-line-hold.js';
import { classifyReach, type ReachFailure } from '../../src/borg/words/reach-failure.js';
import * as sshWords from '../../src/borg/words/ssh-words.js';
import { NEEDLES, SCANNED_WORDINGS, StderrScanner, type StderrFindings } from '../../src/borg/words/stderr-scanner.js';
import { escapeRegExp, type Wording } from '../../src/borg/words/wording.js';
import { sshStderrLines } from '../../src/ssh/ssh-settings.js';

// borg's and ssh's words live in one place (src/borg/words/borg-words.ts, ssh-words.ts), one list per
// fact. This table holds every wording those files export, each with a line as borg or ssh writes it
// (docs/facts.md, the lab's runs) and the path it must take: which finding the stream scan makes of it,
// what an attempt that failed with it (legacy exit code 2) is, and what it says about reaching the server.

const {
  BORG_CONNECTION_LOST: LOST,
  BORG_CTRL_C,
  BORG_LOCK_TIMEOUT,
  BORG_LOCK_TIMEOUT_JSON,
  BORG_NO_REPOSITORY,
  BORG_REST_OPEN_FAILED,
  BORG_SERVE_HINT,
  BORG_SERVE_NOT_STARTED,
  BORG_SERVER_SAID_NO: SAID_NO,
} = borgWords;
const { SSH_CANNOT_CONNECT, SSH_CANNOT_CONNECT_YET, SSH_CHATTER, SSH_HOST_KEY_REFUSED, SSH_LOGIN_REFUSED, SSH_SERVER_SILENT } = sshWords;

type Scan = 'lockTimeout' | 'connectionLost' | 'unreachable' | 'nothing';
interface Row {
  wording: Wording;
  // The line as it comes, then what the run path makes of an attempt with it on stderr.
  line: string;
  scan: Scan;
  attempt: FailureKind;
  reach: ReachFailure | undefined;
  // Lines borg writes before it (for the words that decide only beside another line).
  before?: string;
}

const HINT = 'Connection closed by remote host. Is borg working on the server?';
const LOCK = 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).';
const REST_OPEN = 'Error: Could not access the repository via borg serve on the remote host: stdio server exited with code 1';
const REFUSED = 'Remote: ssh: connect to host 127.0.0.1 port 2222: Connection refused';
const RESOLVE = 'Remote: ssh: Could not resolve hostname nas: Name or service not known';
const final = { scan: 'nothing', attempt: 'other', reach: 'final' } as const;
const lost = { scan: 'connectionLost', attempt: 'connection-lost', reach: undefined } as const;
const quiet = { scan: 'nothing', attempt: 'other', reach: undefined } as const;

const rows: Row[] = [
  { wording: BORG_LOCK_TIMEOUT, line: LOCK, scan: 'lockTimeout', attempt: 'lock-timeout', reach: undefined },
  {
    wording: BORG_LOCK_TIMEOUT_JSON,
    line: '{"type": "log_message", "message": "x", "levelname": "ERROR", "msgid": "LockTimeout"}',
    scan: 'lockTimeout',
    attempt: 'lock-timeout',
    reach: undefined,
  },
  { wording: LOST[0]!, line: 'Connection closed by remote host', ...lost },
  { wording: LOST[1]!, line: 'Connection to remote host is broken. Broken Pipe', ...lost },
  { wording: LOST[2]!, line: 'BrokenPipeError: [Errno 32] Broken pipe', ...lost },
  {
    wording: LOST[3]!,
    line: "borgstore.backends.errors.BackendError: rest connection was lost and could not be reestablished: OSError(5, 'Input/output error')",
    ...lost,
  },
  { wording: SSH_SERVER_SILENT, line: 'Remote: Timeout, server 127.0.0.1 not responding.', ...lost },
  { wording: BORG_SERVE_HINT, line: HINT, scan: 'unreachable', attempt: 'other', reach: 'ambiguous' },
  { wording: BORG_SERVE_NOT_STARTED[1]!, line: REST_OPEN, scan: 'unreachable', attempt: 'other', reach: 'ambiguous' },
  { wording: BORG_REST_OPEN_FAILED, line: REST_OPEN, scan: 'unreachable', attempt: 'other', reach: 'ambiguous' },
  // ssh could not connect, for a reason that is not known to pass: kept, not waited for.
  {
    wording: SSH_CANNOT_CONNECT[0]!,
    line: 'Remote: ssh: connect to host 127.0.0.1 port 2222: Cannot assign requested address',
    scan: 'unreachable',
    attempt: 'other',
    reach: undefined,
  },
  { wording: SSH_CANNOT_CONNECT[1]!, line: RESOLVE, scan: 'unreachable', attempt: 'other', reach: 'unreachable' },
  { wording: SSH_CANNOT_CONNECT_YET[0]!, line: REFUSED, scan: 'unreachable', attempt: 'other', reach: 'unreachable' },
  { wording: SSH_CANNOT_CONNECT_YET[1]!, line: RESOLVE, scan: 'unreachable', attempt: 'other', reach: 'unreachable' },
  { wording: SSH_LOGIN_REFUSED[0]!, line: 'Remote: root@127.0.0.1: Permission denied (publickey).', ...final },
  {
    wording: SSH_LOGIN_REFUSED[1]!,
    line: 'Remote: Received disconnect from 127.0.0.1 port 2222:2: Too many authentication failures',
    ...final,
  },
  { wording: SSH_HOST_KEY_REFUSED[0]!, line: 'Remote: @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @', ...final },
  { wording: SSH_HOST_KEY_REFUSED[1]!, line: 'Remote: Host key verification failed.', ...final },
  {
    wording: SSH_HOST_KEY_REFUSED[2]!,
    line: 'Remote: No ECDSA-SK host key is known for [127.0.0.1]:2222 and you have requested strict checking.',
    ...final,
  },
  { wording: SAID_NO[0]!, line: 'Remote: bash: line 1: borg-nope: command not found', ...final },
  { wording: SAID_NO[1]!, line: 'Remote: sh: 1: borg: not found', ...final },
  { wording: SAID_NO[2]!, line: 'Remote: bash: line 1: /opt/borg/bin/borg: No such file or directory', ...final },
  { wording: BORG_NO_REPOSITORY, line: 'Repository ssh://lab/srv/nope does not exist.', ...final },
  // ssh's chatter: nothing for the run, and dropped where tborg reports what ssh said.
  ...SSH_CHATTER.map((wording, i) => ({
    wording,
    line: [
      'Pseudo-terminal will not be allocated because stdin is not a terminal.',
      "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.",
      'debug1: Reading configuration data /etc/ssh/ssh_config',
      'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024',
    ][i]!,
    ...quiet,
  })),
  // Ctrl-C decides beside borg's lock message: the user stopped borg, no lock problem.
  { wording: BORG_CTRL_C, before: `${LOCK}\n`, line: 'Got Ctrl-C / SIGINT.', scan: 'lockTimeout', attempt: 'other', reach: undefined },
];

// Every Wording the two files export, alone or in a list.
function exportedWordings(): Set<Wording> {
  const found = new Set<Wording>();
  for (const value of [...Object.values(borgWords), ...Object.values(sshWords)]) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'object' && item !== null && 'words' in item && 'line' in item) found.add(item as Wording);
    }
  }
  return found;
}

function scan(text: string, chunkSize = text.length): StderrFindings {
  const s = new StderrScanner();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) s.feed(bytes.subarray(i, i + chunkSize));
  return s.end();
}

function scanned(f: StderrFindings): Scan {
  const kinds: Scan[] = [];
  if (f.lockTimeout) kinds.push('lockTimeout');
  if (f.connectionLost) kinds.push('connectionLost');
  if (f.unreachable) kinds.push('unreachable');
  assert.ok(kinds.length <= 1, `one finding at most, got ${kinds.join(', ')}`);
  return kinds[0] ?? 'nothing';
}

test('words: the table holds every wording of borg-words.ts and ssh-words.ts', () => {
  const inTable = new Set(rows.map((r) => r.wording));
  const missing = [...exportedWordings()].filter((w) => !inTable.has(w)).map((w) => w.words);
  assert.deepEqual(missing, []);
});

for (const row of rows) {
  test(`words: ${JSON.stringify(row.wording.words)} in ${JSON.stringify(row.line.slice(0, 50))} -> ${row.scan}, ${row.attempt}, ${row.reach}`, () => {
    assert.match(row.line, row.wording.line, 'the line is one of this wording');
    assert.ok(row.line.includes(row.wording.words), 'the line holds the words');
    const text = `${row.before ?? ''}${row.line}\n`;
    for (const size of [1, 7, text.length]) {
      const findings = scan(text, size);
      assert.equal(scanned(findings), row.scan, `scan, reads of ${size}`);
      assert.equal(classifyAttempt(2, findings), row.attempt, `attempt, reads of ${size}`);
      assert.equal(classifyReach(2, findings), row.reach, `reach, reads of ${size}`);
    }
  });
}

test("words: each connect error of ssh's is waited for exactly when it may pass", () => {
  for (const { text, passing } of sshWords.CONNECT_ERRORS) {
    const findings = scan(`Remote: ssh: connect to host h port 22: ${text}\n${HINT}\n`);
    assert.equal(classifyReach(2, findings), passing ? 'unreachable' : undefined, text);
  }
});

test('words: every shape requires its words (a line that matches holds them)', () => {
  for (const w of exportedWordings()) assert.ok(w.line.source.includes(escapeRegExp(w.words)), w.line.source);
});

// The needles: every wording the scan must see names one, a short piece of its words, and the scan
// looks for exactly the needles of its wordings. A wording added to a scanned list without a needle
// of its own is a type error; one whose needle is not in its words fails here.
test('needles: each scanned wording holds its needle, 2 to 7 bytes on one line, and the scan looks for it', () => {
  for (const w of SCANNED_WORDINGS) {
    assert.ok(w.words.includes(w.needle), `${JSON.stringify(w.needle)} in ${JSON.stringify(w.words)}`);
    assert.ok(w.needle.length >= 2 && w.needle.length <= 7 && !/[\r\n]/.test(w.needle), JSON.stringify(w.needle));
    assert.ok(NEEDLES.includes(w.needle), w.needle);
  }
  assert.deepEqual([...NEEDLES].sort(), [...new Set(SCANNED_WORDINGS.map((w) => w.needle))].sort());
  // Every wording the scan sees has a row whose line holds no needle but those in the wording's words:
  // the scan finds that line through the wording's own needle (next test) or not at all.
  for (const w of SCANNED_WORDINGS) {
    const row = rows.find((r) => r.wording === w && !r.before);
    assert.ok(row && row.scan !== 'nothing', `no row shows the scan finding ${JSON.stringify(w.words)}`);
    assert.deepEqual(
      NEEDLES.filter((n) => row.line.includes(n) && !w.words.includes(n)),
      [],
      `${row.line} holds other needles than its words'`,
    );
  }
});

test('needles: every scanned line is found among lines holding each needle but its first byte, at every split of two reads', () => {
  // Each needle's first byte, and each needle but its last byte: everything short of a needle.
  const noise = `Remote: borg.repository DEBUG ${NEEDLES.map((n) => `${n[0]}|${n.slice(0, -1)}|`).join('')}\n`;
  for (const row of rows.filter((r) => r.scan !== 'nothing' && !r.before)) {
    const bytes = Buffer.from(`${noise.repeat(3)}${row.line}\n${noise}`);
    for (let cut = 0; cut <= bytes.length; cut += 13) {
      const s = new StderrScanner();
      s.feed(bytes.subarray(0, cut));
      s.feed(bytes.subarray(cut));
      assert.equal(scanned(s.end()), row.scan, `${row.line} cut at ${cut}`);
    }
  }
  assert.equal(scanned(scan(noise.repeat(20), 61)), 'nothing');
});

test("hold: ssh's cannot-connect words and borg's hint are held at an attempt's start, as borg relays them", () => {
  for (const line of [REFUSED, RESOLVE, 'Remote: ssh: connect to host h port 22: Connection reset by peer', HINT]) {
    const hold = new LockLineHold();
    assert.equal(hold.filter(Buffer.from(`first\n${line}\n`)).toString(), 'first\n', line);
    assert.equal(hold.end().held.toString(), `${line}\n`);
  }
});

test("ssh's chatter is dropped where tborg reports what ssh said; its messages are kept", () => {
  const chatter = rows.filter((r) => SSH_CHATTER.includes(r.wording)).map((r) => r.line);
  assert.equal(chatter.length, SSH_CHATTER.length);
  assert.deepEqual(sshStderrLines([...chatter, 'root@h: Permission denied (publickey).'].join('\r\n')), [
    'root@h: Permission denied (publickey).',
  ]);
});
