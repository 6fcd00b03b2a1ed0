import assert from 'node:assert/strict';
import { test } from 'node:test';
import { split } from 'shlex';
import { BORG1_COMMANDS } from '../../src/borg/borg1-commands.js';
import { BORG2_COMMANDS } from '../../src/borg/borg2-commands.js';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import { environmentRetryRefusal } from '../../src/borg/connection-retry.js';

// Which command lines may run a second time after a lost connection: one row per command line,
// every command of borg 1.x and borg 2 at least once. null: a second attempt is safe; a RegExp: the
// one-line reason tborg prints when it does not retry.

const SAFE = null;
const STDOUT = /writes its result to stdout; a second attempt would write it again/;
const STDIN = /reads input that cannot be replayed/;
const COMMAND = /runs your command/;
const DEBUG = /^debug commands print to stdout or write objects one by one/;
const PASSPHRASE = /asks for a new passphrase/;
const NOT_IDEMPOTENT = /is not idempotent: after a cut it can leave a half-made repository/;
const WHOLE_REPOSITORY = /of a whole repository asks for confirmation on stdin/;
const UNCHECKED = /is not on tborg's list of commands checked to be safe/;

type Row = [major: 1 | 2, line: string, expect: RegExp | null];
const E2 = { BORG_REPO: 'ssh://u@h/srv/r' };

const ROWS: Row[] = [
  // ---- borg 1.x ----
  [1, 'create h:r::a /data', SAFE],
  [1, 'create --dry-run --list --stats --progress h:r::a /data', SAFE],
  [1, 'create --log-json h:r::{now} /data', SAFE],
  [1, 'create h:r::a -', STDIN],
  [1, 'create h:r::a /data -', STDIN],
  [1, 'create --paths-from-stdin h:r::a', STDIN],
  [1, 'create --content-from-command h:r::a -- cat', /^create --content-from-command runs your command/],
  [1, 'create --paths-from-command h:r::a -- find /srv', /^create --paths-from-command runs your command/],
  [1, 'create --json h:r::a /data', /^create --json prints its result once the archive is committed/],
  [1, 'import-tar h:r::a /tmp/t.tar', SAFE],
  [1, 'import-tar h:r::a -', STDIN],
  [1, 'import-tar h:r::a /dev/stdin', /^import-tar from \/dev\/stdin reads input that cannot be replayed$/],
  [1, "import-tar --tar-filter 'zstd -d' h:r::a /tmp/t.tar.zst", COMMAND],
  [1, 'import-tar --json h:r::a /tmp/t.tar', /^import-tar --json prints/],
  [1, 'extract h:r::a', SAFE],
  [1, 'extract --list --dry-run h:r::a home', SAFE],
  [1, 'extract --stdout h:r::a big.bin', /^extract --stdout writes its result to stdout; a second attempt would write it again$/],
  [1, 'export-tar h:r::a /tmp/a.tar', SAFE],
  [1, 'export-tar h:r::a -', /^export-tar to - writes its result to stdout/],
  [1, 'export-tar h:r::a /dev/stdout', /^export-tar to \/dev\/stdout writes its result to stdout/],
  [1, 'export-tar h:r::a /proc/self/fd/1', STDOUT],
  [1, 'export-tar --tar-filter=gzip h:r::a /tmp/a.tgz', COMMAND],
  [1, 'list h:r', /^list writes its result/],
  [1, 'list --json h:r', /^list writes its result/],
  [1, 'list --json-lines h:r::a', STDOUT],
  [1, 'info --json h:r', /^info writes its result/],
  [1, 'diff h:r::a b', /^diff writes/],
  [1, 'version h:r', /^version writes/],
  [1, 'benchmark crud h:r /tmp', /^benchmark crud writes/],
  [1, 'config /srv/r additional_free_space', /^config writes/],
  [1, 'config --list /srv/r', /^config writes/],
  [1, 'config /srv/r additional_free_space 2G', SAFE],
  [1, 'config -d /srv/r additional_free_space', SAFE],
  [1, 'key export h:r', /^key export to stdout writes/],
  [1, 'key export h:r -', /^key export to - writes/],
  [1, 'key export --paper h:r', STDOUT],
  [1, 'key export h:r /root/borg.key', SAFE],
  [1, 'key export --qr-html h:r /root/key.html', SAFE],
  [1, 'key export-related-secrets h:r /root/s', SAFE],
  [1, 'key export-related-secrets h:r', STDOUT],
  [1, 'key import h:r /root/borg.key', SAFE],
  [1, 'key import h:r -', STDIN],
  [1, 'key import h:r /dev/fd/3', /^key import from \/dev\/fd\/3 reads input/],
  [1, 'key import --paper h:r', /^key import --paper reads the key from stdin/],
  [1, 'with-lock h:r rsync -a /srv/x /mnt', /^with-lock runs your command, which may have done its work/],
  [1, 'mount h:r /mnt', /^mount serves a file system/],
  [1, 'umount /mnt', /^umount runs fusermount/],
  [1, 'serve --restrict-to-path /srv', /^serve is borg's server side/],
  [1, 'init -e repokey h:r', /^init is not idempotent/],
  [1, 'delete h:r', /^delete of a whole repository asks for confirmation on stdin/],
  [1, 'delete --list --stats h:r::a', SAFE],
  [1, 'delete h:r a b', SAFE],
  [1, "delete -a 'old-*' h:r", SAFE],
  [1, 'delete --first 3 h:r', SAFE],
  [1, 'delete --cache-only h:r', SAFE],
  [1, 'prune --keep-daily 7 --list --stats h:r', SAFE],
  [1, 'compact h:r', SAFE],
  [1, 'break-lock h:r', SAFE],
  [1, 'check --verify-data h:r', SAFE],
  [1, 'check --repair h:r', /^check --repair asks for confirmation on stdin/],
  [1, 'recreate -e /x h:r::a', SAFE],
  [1, 'recreate -e /x h:r', /^recreate of several archives prints "Processing NAME" to stdout/],
  [1, 'rename h:r::a b', SAFE],
  [1, 'upgrade --tam h:r', /^upgrade writes/],
  [1, 'change-passphrase h:r', PASSPHRASE],
  [1, 'key change-passphrase h:r', PASSPHRASE],
  [1, 'key migrate-to-repokey h:r', PASSPHRASE],
  [1, 'help create', SAFE], // prints help: nothing to retry, not even a repository (plan: none)
  [1, 'debug convert-profile /tmp/in /tmp/out', DEBUG],
  [1, 'debug delete-obj h:r 00aa', DEBUG],
  [1, 'debug dump-archive h:r::a /tmp/d', DEBUG],
  [1, 'debug dump-archive-items h:r::a', DEBUG],
  [1, 'debug dump-hints h:r /tmp/d', DEBUG],
  [1, 'debug dump-manifest h:r -', DEBUG],
  [1, 'debug dump-repo-objs h:r', DEBUG],
  [1, 'debug get-obj h:r 00aa /tmp/o', DEBUG],
  [1, 'debug id-hash h:r /tmp/f', DEBUG],
  [1, 'debug info', DEBUG],
  [1, 'debug put-obj h:r 00aa /tmp/o', DEBUG],
  [1, 'debug refcount-obj h:r 00aa', DEBUG],
  [1, 'debug search-repo-objs h:r x', DEBUG],
  // ---- borg 2 (the repository from BORG_REPO) ----
  [2, 'create a /data', SAFE],
  [2, 'create --list --stats a /data', SAFE],
  [2, 'create a -', STDIN],
  [2, 'create --paths-from-stdin a', STDIN],
  [2, 'create --content-from-command a -- cat', COMMAND],
  [2, 'create --json a /data', /^create --json prints/],
  [2, 'import-tar a /tmp/t.tar', SAFE],
  [2, 'import-tar a -', STDIN],
  [2, 'extract a', SAFE],
  [2, 'extract --stdout a big.bin', /^extract --stdout writes/],
  [2, 'export-tar a /tmp/a.tar', SAFE],
  [2, 'export-tar a -', STDOUT],
  [2, 'list a', /^list writes/],
  [2, 'info', /^info writes/],
  [2, 'diff a b', /^diff writes/],
  [2, 'rlist', /^rlist writes/],
  [2, 'rinfo --json', /^rinfo writes/],
  [2, 'repo-list --json', /^repo-list writes/],
  [2, 'repo-info', /^repo-info writes/],
  [2, 'analyze', /^analyze writes/],
  [2, 'version', /^version writes/],
  [2, 'benchmark crud /tmp', /^benchmark crud writes/],
  [2, 'benchmark cpu', /^benchmark cpu writes/],
  [2, 'completion bash', /^completion writes/],
  [2, 'config additional_free_space', /^config writes/],
  [2, 'config additional_free_space 2G', SAFE],
  [2, 'key export', STDOUT],
  [2, 'key export /root/k', SAFE],
  [2, 'key import /root/k', SAFE],
  [2, 'key import -', STDIN],
  [2, 'key import --paper', /^key import --paper/],
  [2, 'key change-passphrase', PASSPHRASE],
  [2, 'key change-location repokey', PASSPHRASE],
  [2, 'with-lock rsync -a /srv/x /mnt', /^with-lock runs your command/],
  [2, 'mount /mnt', /^mount serves/],
  [2, 'umount /mnt', /^umount runs fusermount/],
  [2, 'serve', /^serve is borg's server side/],
  [2, 'rcreate -e repokey-aes-ocb', NOT_IDEMPOTENT],
  [2, 'repo-create -e repokey-aes-ocb', NOT_IDEMPOTENT],
  [2, 'rdelete', WHOLE_REPOSITORY],
  [2, 'repo-delete', WHOLE_REPOSITORY],
  [2, 'rdelete --cache-only', SAFE],
  [2, 'delete a', SAFE],
  [2, "delete -a 'sh:old-*'", SAFE],
  [2, 'prune --keep-daily 7 --list', SAFE],
  [2, 'compact', SAFE],
  [2, 'break-lock', SAFE],
  [2, 'check', SAFE],
  [2, 'check --repair', /^check --repair/],
  [2, 'recreate -e /x', /^recreate of several archives/],
  [2, 'rename a b', SAFE],
  [2, 'transfer --other-repo ssh://u@h/srv/old', /^transfer prints its progress to stdout/],
  [2, 'rcompress', UNCHECKED],
  [2, 'repo-compress', UNCHECKED],
  [2, 'repo-space', UNCHECKED],
  [2, 'tag --set x a', UNCHECKED],
  [2, 'undelete a', UNCHECKED],
  // The commands 2.0.0b22..b24 added.
  [2, 'copy a a-copy', SAFE],
  [2, "find 'sh:**/f1'", /^find writes its result to stdout/],
  [2, "find --json-lines --last 3 'sh:**/*.jpg'", STDOUT],
  [2, 'key list', /^key list writes its result to stdout/],
  [2, 'key add --label alice', /^key add asks for a new passphrase/],
  [2, 'key remove --label alice', SAFE],
  [2, 'key remove --key 0123abcd', SAFE],
  [2, 'key remove --passphrase', /^key remove --passphrase removes the key your passphrase unlocks/],
  [2, 'key export --label admin /root/k', SAFE],
  [2, 'key export --key 0123abcd', STDOUT],
  [2, 'key import --key-location keyfile /root/k', SAFE],
  [2, 'webdav --port 8080 -a sh:home-*', /^webdav serves archives until it is stopped/],
  [2, 'webdav -f', /^webdav serves archives/],
  [2, 'help create', SAFE],
  [2, 'debug convert-profile /tmp/in /tmp/out', DEBUG],
  [2, 'debug delete-obj 00aa', DEBUG],
  [2, 'debug dump-archive a /tmp/d', DEBUG],
  [2, 'debug dump-archive-items a', DEBUG],
  [2, 'debug dump-hints /tmp/d', DEBUG],
  [2, 'debug dump-manifest /tmp/d', DEBUG],
  [2, 'debug dump-repo-objs', DEBUG],
  [2, 'debug format-obj 00aa /tmp/b /tmp/j /tmp/o', DEBUG],
  [2, 'debug get-obj 00aa /tmp/o', DEBUG],
  [2, 'debug id-hash /tmp/f', DEBUG],
  [2, 'debug info', DEBUG],
  [2, 'debug parse-obj 00aa /tmp/o /tmp/b /tmp/j', DEBUG],
  [2, 'debug put-obj 00aa /tmp/o', DEBUG],
  [2, 'debug refcount-obj 00aa', DEBUG],
  [2, 'debug search-repo-objs x', DEBUG],
];

for (const [major, line, expect] of ROWS) {
  test(`borg${major === 2 ? '2' : ''} ${line}: ${expect === null ? 'retried' : 'not retried'}`, () => {
    const parsed = parseBorgCommandLine(split(line), major === 2 ? E2 : {}, major);
    // The row must say what borg would really run, or it tests nothing.
    assert.equal(parsed.invalid, null, `borg would reject: ${parsed.invalid}`);
    if (expect === null) assert.equal(parsed.noConnectionRetry, null);
    else {
      assert.match(parsed.noConnectionRetry ?? '(retried)', expect);
      // One line, for `tborg: not retrying the lost connection: <reason>`.
      assert.doesNotMatch(parsed.noConnectionRetry!, /\n/);
    }
  });
}

// Every command in the grammar tables has a decision (CommandSpec.retry, which the type requires;
// test/unit/command-facts.test.ts checks every row has every fact) and a row here that runs it.
for (const [major, table] of [
  [1, BORG1_COMMANDS],
  [2, BORG2_COMMANDS],
] as const) {
  test(`every borg${major === 2 ? '2' : ''} command has a connection-retry row`, () => {
    const covered = new Set(
      ROWS.filter((r) => r[0] === major).map((r) => parseBorgCommandLine(split(r[1]), major === 2 ? E2 : {}, major).command.join(' ')),
    );
    const missing: string[] = [];
    for (const [command, spec] of Object.entries(table)) {
      if (!spec.subcommands && !covered.has(command)) missing.push(command);
    }
    assert.deepEqual(missing, []);
  });
}

test('a command tborg has no decision for is never retried, with a reason', async () => {
  const { connectionRetryRefusal } = await import('../../src/borg/connection-retry.js');
  const words = { command: 'frobnicate', major: 2 as const, options: new Map(), positionals: new Map(), consumesStdin: null };
  const reason = connectionRetryRefusal(words, undefined);
  assert.match(reason ?? '', /^frobnicate is not on tborg's list of commands checked to be safe/);
});

test('BORG_PASSPHRASE_FD is read once: no second attempt, unless a passphrase comes first', () => {
  assert.match(environmentRetryRefusal({ BORG_PASSPHRASE_FD: '3' }) ?? '', /BORG_PASSPHRASE_FD is read by the first attempt/);
  assert.equal(environmentRetryRefusal({ BORG_PASSPHRASE_FD: '3', BORG_PASSPHRASE: 'x' }), null);
  assert.equal(environmentRetryRefusal({ BORG_PASSPHRASE_FD: '3', BORG_PASSCOMMAND: 'cat /k' }), null);
  assert.equal(environmentRetryRefusal({}), null);
});
