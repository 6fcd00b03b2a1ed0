// parseBorgCommandLine as a table, antfu/ni style: one line of argv (split like a shell would) and
// what borg makes of it. Repositories are written compactly as
//   "<where> <proto> [user@]host[:port] <path> [::archive]"
// where <where> is #N (the argv index of the positional), --repo#N, BORG_REPO, or BORG_REPO#N
// (`::archive` at index N with the repository from BORG_REPO).
//
// The same table is then replayed through the installed borg's and borg2's own argument parsing
// (Archiver.parse_args, in one Python process each) and must agree on the repository, --rsh,
// --lock-wait, --log-json, --remote-path and on whether borg accepts the line at all.

import { BORG_LAUNCHER_PREAMBLE } from '../helpers/borg-launcher.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { split } from 'shlex';
import { parseBorgVersion } from '../../src/borg/borg-version.js';
import { parseBorgCommandLine, type BorgCommandLine, type CommandLineOptions, type RepositoryArgument } from '../../src/borg/command-line.js';
import { borg2Generation } from '../../src/borg/location.js';

const E = { BORG_REPO: 'ssh://u@envhost:2222/srv/r' };

interface Expect {
  cmd: string;
  repo: string | null;
  rsh?: [string, number, 'separate' | 'joined'];
  lockWait?: number;
  stdin?: string;
  help?: boolean;
  invalid?: RegExp;
  logJson?: boolean;
  remotePath?: string;
  other?: string;
  opens?: boolean;
  // Why the installed borg's parser is not asked (it reads files, or the row is about another
  // borg version than the installed one).
  oracle?: string;
  // borg 2 rows asked of the installed borg2 only when it is one of these betas (the row uses
  // commands or options that other betas do not have).
  oracleBetas?: { since?: number; until?: number };
  // A row that an older Python's argparse (3.11, Debian 12) rejects and a newer one (3.13, Debian
  // 13) runs; tborg follows the newer (src/borg/argparse-grammar.ts matchPartial).
  olderPythonRejects?: true;
}

interface Row {
  major: 1 | 2;
  line: string;
  argv: string[];
  expect: Expect;
  env: NodeJS.ProcessEnv;
  options: CommandLineOptions;
}

const rows: Row[] = [];
function _(major: 1 | 2, line: string, expect: Expect, env: NodeJS.ProcessEnv = {}, options: CommandLineOptions = {}): void {
  rows.push({ major, line, argv: split(line), expect, env, options });
}

export function describeRepository(r: RepositoryArgument | null): string | null {
  if (!r) return null;
  const l = r.location;
  const where =
    r.source === 'argument' ? `#${r.argIndex}` : r.argIndex === null ? r.source : `${r.source}#${r.argIndex}`;
  const host = l.host === null ? '' : `${l.user ? `${l.user}@` : ''}${l.host.includes(':') ? `[${l.host}]` : l.host}${l.port ? `:${l.port}` : ''} `;
  return `${where} ${l.proto} ${host}${l.path}${l.archive ? ` ::${l.archive}` : ''}`;
}

// prettier-ignore
{
  _(1, "create repo::a /home", { cmd: 'create', repo: "#1 file repo ::a" });
  _(1, "create host:repo::a /home", { cmd: 'create', repo: "#1 ssh host repo ::a" });
  _(1, "create user@host:~/r::arch /home", { cmd: 'create', repo: "#1 ssh user@host ~/r ::arch" });
  _(1, "create ssh://user@host:2222/srv/repo::arch /home", { cmd: 'create', repo: "#1 ssh user@host:2222 /srv/repo ::arch" });
  _(1, "create -e host:path repo::a p", { cmd: 'create', repo: "#3 file repo ::a" });
  _(1, "create --exclude host:x r::a p", { cmd: 'create', repo: "#3 file r ::a" });
  _(1, "create --exclude=host:x r::a p", { cmd: 'create', repo: "#2 file r ::a" });
  _(1, "create -ehost:x r::a p", { cmd: 'create', repo: "#2 file r ::a" });
  _(1, "create --comment a::b r::a p", { cmd: 'create', repo: "#3 file r ::a" });
  _(1, "create --comment=a::b h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create --comment \"x y::z\" h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a" });
  _(1, "create -C lz4 h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a" });
  _(1, "create -Clz4 h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create -sC lz4 h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a" });
  _(1, "create -xsClz4 h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create -nsx h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create h:r::a other:file more:file", { cmd: 'create', repo: "#1 ssh h r ::a" });
  _(1, "create --pattern \"+ host:x\" --patterns-from pf h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a", oracle: 'reads the file pf' });
  _(1, "create --exclude-from ef --exclude-if-present .nobackup h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a", oracle: 'reads the file ef' });
  _(1, "create --files-cache ctime,size --chunker-params 10,23,16,4095 h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a" });
  _(1, "create --timestamp 2020-01-01T00:00:00 -c 600 h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a" });
  _(1, "create --stdin-name x --stdin-user u --stdin-group g --stdin-mode 0600 h:r::a -", { cmd: 'create', repo: "#9 ssh h r ::a", stdin: 'create -' });
  _(1, "create --filter AME --list --stats h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a" });
  _(1, "create --one h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create --no h:r::a p", { cmd: 'create', repo: null, invalid: /ambiguous option: --no could match --no-cache-sync, --no-fil/ });
  _(1, "create h:r::a -- -e x", { cmd: 'create', repo: "#1 ssh h r ::a" });
  _(1, "create -- h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a" });
  _(1, "create h:r::a -- -h", { cmd: 'create', repo: "#1 ssh h r ::a" });
  _(1, "create h:r::a -1", { cmd: 'create', repo: "#1 ssh h r ::a" });
  _(1, "list -- h:r", { cmd: 'list', repo: "#2 ssh h r" });
  _(1, "list h:r -- --x", { cmd: 'list', repo: "#1 ssh h r" });
  _(1, "--lock-wait 5 create h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a", lockWait: 5 });
  _(1, "create --lock-wait=5 h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", lockWait: 5 });
  _(1, "--lock-wait 9 create --lock-wait 3 h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a", lockWait: 3 });
  _(1, "create --lock-wait 3 h:r::a p --lock-wait 7", { cmd: 'create', repo: "#3 ssh h r ::a", lockWait: 7 });
  _(1, "--lock-wait=7 create h:r::a p --lock-w 5", { cmd: 'create', repo: "#2 ssh h r ::a", lockWait: 5 });
  _(1, "create --lock-wait abc h:r::a p", { cmd: 'create', repo: null, invalid: /argument --lock-wait: invalid int value: 'abc'/ });
  _(1, "create --lock h:r::a p", { cmd: 'create', repo: null, invalid: /argument --lock-wait: invalid int value: 'h:r::a'/ });
  _(1, "--rsh \"ssh -p 2222\" create h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a", rsh: ["ssh -p 2222", 0, 'separate'] });
  _(1, "create --rsh \"ssh -p 2222\" h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a", rsh: ["ssh -p 2222", 1, 'separate'] });
  _(1, "create --rsh=\"ssh -x\" h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", rsh: ["ssh -x", 1, 'joined'] });
  _(1, "--rsh a create --rsh b h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a", rsh: ["b", 3, 'separate'] });
  _(1, "create --rsh b h:r::a p --rsh c", { cmd: 'create', repo: "#3 ssh h r ::a", rsh: ["c", 5, 'separate'] });
  _(1, "--rs \"ssh -x\" create h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a", rsh: ["ssh -x", 0, 'separate'] });
  _(1, "create --rsh -x h:r::a p", { cmd: 'create', repo: null, invalid: /argument --rsh: expected one argument/ });
  _(1, "create --rsh \"-o Foo=bar\" h:r::a p", { cmd: 'create', repo: "#3 ssh h r ::a", rsh: ["-o Foo=bar", 1, 'separate'] });
  _(1, "--remote-path /usr/bin/borg1 list h:r", { cmd: 'list', repo: "#3 ssh h r", remotePath: "/usr/bin/borg1" });
  _(1, "list --remote-path=borg2 h:r", { cmd: 'list', repo: "#2 ssh h r", remotePath: "borg2" });
  _(1, "--log-json list h:r", { cmd: 'list', repo: "#2 ssh h r", logJson: true });
  _(1, "list h:r --log-json", { cmd: 'list', repo: "#1 ssh h r", logJson: true });
  _(1, "-v --debug-topic lock --umask 0077 list h:r", { cmd: 'list', repo: "#6 ssh h r" });
  _(1, "--upload-ratelimit 100 --upload-buffer 10 --debug-profile /tmp/prof create h:r::a p", { cmd: 'create', repo: "#7 ssh h r ::a" });
  _(1, "--remote-ratelimit 100 --remote-buffer 10 create h:r::a p", { cmd: 'create', repo: "#5 ssh h r ::a" });
  _(1, "--bypass-lock list h:r", { cmd: 'list', repo: "#2 ssh h r" });
  _(1, "--bypass-lock create h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", invalid: /Not allowed to bypass locking mechanism for chosen command/ });
  _(1, "list", { cmd: 'list', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(1, "list", { cmd: 'list', repo: null, invalid: /argument REPOSITORY_OR_ARCHIVE: Invalid location format: ""/ });
  _(1, "list ::", { cmd: 'list', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r" }, E);
  _(1, "list ::arch", { cmd: 'list', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r ::arch" }, E);
  _(1, "create ::arch p", { cmd: 'create', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r ::arch" }, E);
  _(1, "create ::arch p", { cmd: 'create', repo: null, invalid: /argument ARCHIVE: Invalid location format: "::arch"/ });
  _(1, "create :: p", { cmd: 'create', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r", invalid: /"::": No archive specified/ }, E);
  _(1, "mount :: /mnt", { cmd: 'mount', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r" }, E);
  _(1, "info", { cmd: 'info', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(1, "prune --keep-daily 7", { cmd: 'prune', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(1, "break-lock", { cmd: 'break-lock', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(1, "rename ::a b", { cmd: 'rename', repo: "BORG_REPO#1 ssh u@envhost:2222 /srv/r ::a" }, E);
  _(1, "key export", { cmd: 'key export', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(1, "key export", { cmd: 'key export', repo: null, invalid: /argument REPOSITORY: Invalid location format: ""/ });
  _(1, "serve --restrict-to-path /x", { cmd: 'serve', repo: null });
  _(1, "serve --restrict-to-repository /x --append-only", { cmd: 'serve', repo: null });
  _(1, "umount /mnt", { cmd: 'umount', repo: null });
  _(1, "--version", { cmd: '', repo: null, help: true });
  _(1, "-V", { cmd: '', repo: null, help: true });
  _(1, "--version create h:r::a p", { cmd: '', repo: null, help: true });
  _(1, "create --version h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", invalid: /unrecognized arguments: --version/ });
  _(1, "", { cmd: '', repo: null, help: true });
  _(1, "--debug", { cmd: '', repo: null, help: true });
  _(1, "help", { cmd: 'help', repo: null, help: true });
  _(1, "help create", { cmd: 'help', repo: null, help: true });
  _(1, "-h", { cmd: '', repo: null, help: true });
  _(1, "create -h", { cmd: 'create', repo: null, help: true });
  _(1, "create h:r::a p -h", { cmd: 'create', repo: null, help: true });
  _(1, "--lock-wait 5 create h:r::a p --help", { cmd: 'create', repo: null, lockWait: 5, help: true });
  _(1, "create --comment -h h:r::a p", { cmd: 'create', repo: null, invalid: /argument --comment: expected one argument/ });
  _(1, "key", { cmd: 'key', repo: null, help: true });
  _(1, "debug", { cmd: 'debug', repo: null, help: true });
  _(1, "benchmark", { cmd: 'benchmark', repo: null, help: true });
  _(1, "debug info", { cmd: 'debug info', repo: null });
  _(1, "debug convert-profile in out", { cmd: 'debug convert-profile', repo: null, oracle: 'opens the files in and out' });
  _(1, "check --verify-data h:r", { cmd: 'check', repo: "#2 ssh h r" });
  _(1, "check h:r::a", { cmd: 'check', repo: "#1 ssh h r ::a" });
  _(1, "check --max-duration 60 -P pre --first 3 h:r", { cmd: 'check', repo: "#7 ssh h r" });
  _(1, "compact --threshold 10 h:r", { cmd: 'compact', repo: "#3 ssh h r" });
  _(1, "config /r additional_free_space 2G", { cmd: 'config', repo: "#1 file /r" });
  _(1, "config -l /r", { cmd: 'config', repo: "#2 file /r" });
  _(1, "config h:r", { cmd: 'config', repo: "#1 ssh h r", invalid: /"h:r": Repository must be local/ });
  _(1, "delete h:r::a", { cmd: 'delete', repo: "#1 ssh h r ::a" });
  _(1, "delete h:r a b c", { cmd: 'delete', repo: "#1 ssh h r" });
  _(1, "diff h:r::a b p1 p2", { cmd: 'diff', repo: "#1 ssh h r ::a" });
  _(1, "export-tar --tar-filter gzip h:r::a out.tar.gz p", { cmd: 'export-tar', repo: "#3 ssh h r ::a" });
  _(1, "export-tar h:r::a -", { cmd: 'export-tar', repo: "#1 ssh h r ::a" });
  _(1, "extract --strip-components 2 h:r::a p", { cmd: 'extract', repo: "#3 ssh h r ::a" });
  _(1, "extract h:r::a -e x p", { cmd: 'extract', repo: "#1 ssh h r ::a", olderPythonRejects: true });
  _(1, "extract h:r", { cmd: 'extract', repo: "#1 ssh h r", invalid: /"h:r": No archive specified/ });
  _(1, "import-tar h:r::a -", { cmd: 'import-tar', repo: "#1 ssh h r ::a", stdin: 'import-tar -' });
  _(1, "import-tar --comment x -C lz4 h:r::a in.tar", { cmd: 'import-tar', repo: "#5 ssh h r ::a" });
  _(1, "info h:r::a", { cmd: 'info', repo: "#1 ssh h r ::a" });
  _(1, "init -e repokey h:r", { cmd: 'init', repo: "#3 ssh h r" });
  _(1, "init --encryption=none h:r", { cmd: 'init', repo: "#2 ssh h r" });
  _(1, "init -erepokey-blake2 ssh://h:22/./r", { cmd: 'init', repo: "#2 ssh h:22 /./r" });
  _(1, "init h:r", { cmd: 'init', repo: "#1 ssh h r", invalid: /the following arguments are required: -e\/--encryption/ });
  _(1, "init -e none h:r::a", { cmd: 'init', repo: "#3 ssh h r ::a", invalid: /"h:r::a": No archive can be specified/ });
  _(1, "key export h:r /tmp/key", { cmd: 'key export', repo: "#2 ssh h r" });
  _(1, "key --lock-wait 4 export h:r", { cmd: 'key export', repo: "#4 ssh h r", lockWait: 4 });
  _(1, "key import h:r -", { cmd: 'key import', repo: "#2 ssh h r", stdin: 'key import -' });
  _(1, "key import --paper h:r", { cmd: 'key import', repo: "#3 ssh h r" });
  _(1, "key import h:r file", { cmd: 'key import', repo: "#2 ssh h r" });
  _(1, "key change-passphrase h:r", { cmd: 'key change-passphrase', repo: "#2 ssh h r" });
  _(1, "key migrate-to-repokey h:r", { cmd: 'key migrate-to-repokey', repo: "#2 ssh h r" });
  _(1, "list --format \"{path}{NL}\" h:r::a", { cmd: 'list', repo: "#3 ssh h r ::a" });
  _(1, "list -a \"sh*\" --sort-by name --last=2 h:r", { cmd: 'list', repo: "#6 ssh h r" });
  _(1, "list h:r --short path", { cmd: 'list', repo: "#1 ssh h r", olderPythonRejects: true });
  _(1, "list h:r::a path --short", { cmd: 'list', repo: "#1 ssh h r ::a" });
  _(1, "mount -o allow_other h:r /mnt", { cmd: 'mount', repo: "#3 ssh h r" });
  _(1, "mount -oallow_other h:r::a /mnt p", { cmd: 'mount', repo: "#2 ssh h r ::a" });
  _(1, "mount --rsh \"-o Foo=bar\" h:r /mnt", { cmd: 'mount', repo: null, invalid: /argument --rsh: expected one argument/ });
  _(1, "prune --keep-daily 7 -w 4 --keep-within 2d h:r", { cmd: 'prune', repo: "#7 ssh h r" });
  _(1, "prune -d7 h:r", { cmd: 'prune', repo: "#2 ssh h r" });
  _(1, "prune --keep 3 h:r", { cmd: 'prune', repo: null, invalid: /ambiguous option: --keep could match --keep-13weekly, --keep/ });
  _(1, "prune h:r::a", { cmd: 'prune', repo: "#1 ssh h r ::a", invalid: /"h:r::a": No archive can be specified/ });
  _(1, "recreate --recompress h:r::a", { cmd: 'recreate', repo: null, invalid: /argument --recompress: invalid choice: 'h:r::a' \(choose from/ });
  _(1, "recreate --recompress always h:r::a", { cmd: 'recreate', repo: "#3 ssh h r ::a" });
  _(1, "recreate --recompress=always --target new h:r::a", { cmd: 'recreate', repo: "#4 ssh h r ::a" });
  _(1, "recreate -e x h:r", { cmd: 'recreate', repo: "#3 ssh h r" });
  _(1, "rename h:r::a b", { cmd: 'rename', repo: "#1 ssh h r ::a" });
  _(1, "upgrade --tam h:r", { cmd: 'upgrade', repo: "#2 ssh h r" });
  _(1, "break-lock h:r", { cmd: 'break-lock', repo: "#1 ssh h r" });
  _(1, "benchmark crud h:r /tmp", { cmd: 'benchmark crud', repo: "#2 ssh h r" });
  _(1, "debug dump-archive-items h:r::a", { cmd: 'debug dump-archive-items', repo: "#2 ssh h r ::a" });
  _(1, "debug get-obj h:r 0011 /tmp/o", { cmd: 'debug get-obj', repo: "#2 ssh h r" });
  _(1, "with-lock h:r borg list other:repo", { cmd: 'with-lock', repo: "#1 ssh h r", stdin: 'with-lock COMMAND (inherits stdin)' });
  _(1, "with-lock --lock-wait 3 h:r borg list --lock-wait 5 other:repo", { cmd: 'with-lock', repo: "#3 ssh h r", lockWait: 3, stdin: 'with-lock COMMAND (inherits stdin)' });
  _(1, "with-lock h:r cmd -h", { cmd: 'with-lock', repo: "#1 ssh h r", stdin: 'with-lock COMMAND (inherits stdin)' });
  _(1, "with-lock h:r", { cmd: 'with-lock', repo: "#1 ssh h r", stdin: 'with-lock COMMAND (inherits stdin)', invalid: /the following arguments are required: COMMAND, ARGS/ });
  _(1, "create h:r::a -", { cmd: 'create', repo: "#1 ssh h r ::a", stdin: 'create -' });
  _(1, "create h:r::a p - q", { cmd: 'create', repo: "#1 ssh h r ::a", stdin: 'create -' });
  _(1, "create --paths-from-stdin h:r::a", { cmd: 'create', repo: "#2 ssh h r ::a", stdin: 'create --paths-from-stdin' });
  _(1, "create --paths-from-stdin h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", stdin: 'create --paths-from-stdin', invalid: /Must not pass PATH with --paths-from-stdin\./ });
  _(1, "create --paths-delimiter \"\\0\" --paths-from-stdin h:r::a", { cmd: 'create', repo: "#4 ssh h r ::a", stdin: 'create --paths-from-stdin' });
  _(1, "create --content-from-command h:r::a -- cat -", { cmd: 'create', repo: "#2 ssh h r ::a", stdin: 'create --content-from-command (COMMAND inherits stdin)' });
  _(1, "create --paths-from-command h:r::a -- find /", { cmd: 'create', repo: "#2 ssh h r ::a", stdin: 'create --paths-from-command (COMMAND inherits stdin)' });
  _(1, "create --content-from-command h:r::a", { cmd: 'create', repo: "#2 ssh h r ::a", stdin: 'create --content-from-command (COMMAND inherits stdin)', invalid: /No command given\./ });
  _(1, "create h:r::a", { cmd: 'create', repo: "#1 ssh h r ::a", invalid: /Need at least one PATH argument\./ });
  _(1, "create --pattern \"R /home\" h:r::a", { cmd: 'create', repo: "#3 ssh h r ::a" });
  _(1, "create ssh://[::1]:22/./r::a p", { cmd: 'create', repo: "#1 ssh [::1]:22 /./r ::a" });
  _(1, "create [::1]:r::a p", { cmd: 'create', repo: "#1 ssh [::1] r ::a" });
  _(1, "create ./a:b::c p", { cmd: 'create', repo: "#1 file a:b ::c" });
  _(1, "create file:///tmp/r::a p", { cmd: 'create', repo: "#1 file /tmp/r ::a" });
  _(1, "list ssh://host:notaport/x", { cmd: 'list', repo: null, invalid: /argument REPOSITORY_OR_ARCHIVE: Invalid location format: "ss/ });
  _(1, "list host:/abs/repo", { cmd: 'list', repo: "#1 ssh host /abs/repo" });
  _(1, "list ./rel:colon", { cmd: 'list', repo: "#1 file rel:colon" });
  _(1, "create h:r::{hostname}-{now} p", { cmd: 'create', repo: "#1 ssh h r ::{hostname}-{now}", oracle: 'borg expands placeholders in the archive name; tborg keeps them as written' });
  _(1, "list \"h:r}x\"", { cmd: 'list', repo: null, invalid: /argument REPOSITORY_OR_ARCHIVE: Invalid location format: "h:/ });
  _(1, "bogus h:r", { cmd: '', repo: null, invalid: /argument <command>: invalid choice: 'bogus' \(choose from 'be/ });
  _(1, "create --bogus h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", invalid: /unrecognized arguments: --bogus/ });
  _(1, "--bogus create h:r::a p", { cmd: 'create', repo: "#2 ssh h r ::a", invalid: /unrecognized arguments: --bogus/ });
  _(1, "create --s h:r::a p", { cmd: '', repo: null, invalid: /ambiguous option: --s could match --show-rc, --show-version/ });
  _(2, "rlist", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "rlist", { cmd: 'rlist', repo: null });
  _(2, "-r h:r rlist", { cmd: 'rlist', repo: "--repo#1 file h:r" });
  _(2, "rlist -r ssh://u@h:22/./r", { cmd: 'rlist', repo: "--repo#2 ssh u@h:22 /./r" });
  _(2, "rlist --repo=ssh://h/r", { cmd: 'rlist', repo: "--repo#1 ssh h /r" });
  _(2, "rlist -rssh://h/r", { cmd: 'rlist', repo: "--repo#1 ssh h /r" });
  _(2, "rlist --rep ssh://h/r", { cmd: 'rlist', repo: "--repo#2 ssh h /r" });
  _(2, "-r ssh://a/r rlist -r ssh://b/r", { cmd: 'rlist', repo: "--repo#4 ssh b /r" });
  // b6+ take -r once per level (Highlander: "There can be only one."); tborg keeps b5's last-wins.
  _(2, "rlist -r ssh://b/r -r ssh://c/r", { cmd: 'rlist', repo: "--repo#4 ssh c /r", oracleBetas: { until: 5 } });
  _(2, "rlist -r \"\"", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "rlist h:r", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /unrecognized arguments: h:r/ }, E);
  _(2, "-r h:r rlist", { cmd: 'rlist', repo: "--repo#1 file h:r" });
  _(2, "create arch h:r", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "create -r ssh://h/r arch /home", { cmd: 'create', repo: "--repo#2 ssh h /r" });
  _(2, "create arch host:file -r ssh://h/r", { cmd: 'create', repo: "--repo#4 ssh h /r" });
  _(2, "create --comment \"-r x\" arch p", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /argument --comment: expected one argument/ }, E);
  _(2, "create --comment=-r arch p", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "create -e -r arch p", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /argument -e\/--exclude: expected one argument/ }, E);
  _(2, "create arch p -- -r x", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "--rsh \"ssh -p 2222\" rlist", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", rsh: ["ssh -p 2222", 0, 'separate'] }, E);
  _(2, "rlist --rsh=\"ssh -x\"", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", rsh: ["ssh -x", 1, 'joined'] }, E);
  _(2, "--lock-wait 5 rlist --lock-wait 6", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", lockWait: 6 }, E);
  _(2, "rlist --lock-wait=5", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", lockWait: 5 }, E);
  _(2, "--log-json rlist --remote-path=borg2", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", logJson: true, remotePath: "borg2" }, E);
  _(2, "rcreate -e repokey-aes-ocb", { cmd: 'rcreate', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "rcreate --encryption=none -r /tmp/x", { cmd: 'rcreate', repo: "--repo#3 file /tmp/x" });
  _(2, "rcreate -e none --other-repo ssh://o/r", { cmd: 'rcreate', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", other: "--other-repo#4 ssh o /r" }, E);
  _(2, "rcreate", { cmd: 'rcreate', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /the following arguments are required: -e\/--encryption/ }, E);
  _(2, "transfer --other-repo ssh://o/r", { cmd: 'transfer', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", other: "--other-repo#2 ssh o /r" }, E);
  _(2, "transfer", { cmd: 'transfer', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "--version", { cmd: '', repo: null, help: true });
  _(2, "help", { cmd: 'help', repo: null, help: true });
  _(2, "help rlist", { cmd: 'help', repo: null, help: true });
  _(2, "-h", { cmd: '', repo: null, help: true }, E);
  _(2, "rlist -h", { cmd: 'rlist', repo: null, help: true }, E);
  _(2, "", { cmd: '', repo: null, help: true });
  _(2, "serve --restrict-to-path /x", { cmd: 'serve', repo: null }, E);
  _(2, "umount /mnt", { cmd: 'umount', repo: null }, E);
  _(2, "with-lock borg2 rlist", { cmd: 'with-lock', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", stdin: 'with-lock COMMAND (inherits stdin)' }, E);
  _(2, "with-lock -r ssh://h/r cmd -r x", { cmd: 'with-lock', repo: "--repo#2 ssh h /r", stdin: 'with-lock COMMAND (inherits stdin)' });
  _(2, "benchmark cpu", { cmd: 'benchmark cpu', repo: null }, E);
  _(2, "benchmark crud /tmp", { cmd: 'benchmark crud', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "debug info", { cmd: 'debug info', repo: null }, E);
  _(2, "key export /tmp/k", { cmd: 'key export', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "key import -", { cmd: 'key import', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", stdin: 'key import -' }, E);
  _(2, "key import --paper", { cmd: 'key import', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "key change-location keyfile", { cmd: 'key change-location', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "import-tar arch -", { cmd: 'import-tar', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", stdin: 'import-tar -' }, E);
  _(2, "export-tar arch -", { cmd: 'export-tar', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "create arch -", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", stdin: 'create -' }, E);
  _(2, "create --paths-from-stdin arch", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", stdin: 'create --paths-from-stdin' }, E);
  _(2, "rinfo", { cmd: 'rinfo', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "rdelete", { cmd: 'rdelete', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "check", { cmd: 'check', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "compact", { cmd: 'compact', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "config additional_free_space 1G", { cmd: 'config', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "mount /mnt", { cmd: 'mount', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "diff a b", { cmd: 'diff', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "rename a b", { cmd: 'rename', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "break-lock", { cmd: 'break-lock', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "info -a \"*\"", { cmd: 'info', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "list arch", { cmd: 'list', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "prune --keep-daily 7", { cmd: 'prune', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "recreate --recompress", { cmd: 'recreate', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", oracleBetas: { until: 7 } }, E);
  // -- b10+ renamed the repository commands (rlist -> repo-list, ...) and dropped config
  _(2, "repo-list", { cmd: 'repo-list', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", oracleBetas: { since: 10 } }, E);
  _(2, "repo-list -r /srv/r --short", { cmd: 'repo-list', repo: "--repo#2 file /srv/r", oracleBetas: { since: 10 } });
  _(2, "-r ssh://h/r repo-info", { cmd: 'repo-info', repo: "--repo#1 ssh h /r", oracleBetas: { since: 10 } });
  _(2, "repo-create -e none --rsh 'ssh -x' -r ssh://h/r", { cmd: 'repo-create', repo: "--repo#6 ssh h /r", rsh: ['ssh -x', 3, 'separate'], oracleBetas: { since: 10 } });
  _(2, "repo-delete --lock-wait 5 -r ssh://h/r", { cmd: 'repo-delete', repo: "--repo#4 ssh h /r", lockWait: 5, oracleBetas: { since: 10 } });
  _(2, "repo-space --reserve 1G", { cmd: 'repo-space', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", oracleBetas: { since: 10 } }, E);
  _(2, "rlist", { cmd: '', repo: null, invalid: /argument <command>: invalid choice: 'rlist' \(choose from .*'repo-list'/, oracle: 'b19 commands' }, {}, { version: '2.0.0b19' });
  _(2, "repo-list", { cmd: '', repo: null, invalid: /argument <command>: invalid choice: 'repo-list' \(choose from .*'rlist'/, oracle: 'b5 commands' }, {}, { version: '2.0.0b5' });
  _(2, "--bypass-lock rlist", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r" }, E);
  _(2, "--bypass-lock create arch p", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /Not allowed to bypass locking mechanism for chosen command/ }, E);
  _(2, "-p create --list arch p", { cmd: 'create', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /Options --progress and --list do not play nicely together\./ }, E);
  _(2, "rlist --bogus", { cmd: 'rlist', repo: "BORG_REPO ssh u@envhost:2222 /srv/r", invalid: /unrecognized arguments: --bogus/ }, E);
  _(2, "bogus", { cmd: '', repo: null, invalid: /argument <command>: invalid choice: 'bogus' \(choose from 'an/ }, E);
  _(2, "rlist -r \"[::1]:r\"", { cmd: 'rlist', repo: "--repo#2 file [" });
  _(2, "rlist -r ssh://[::1]:22/./r", { cmd: 'rlist', repo: "--repo#2 ssh [::1]:22 /./r" });
  _(2, "rlist -r ssh://h/~/r", { cmd: 'rlist', repo: "--repo#2 ssh h /~/r" });
  _(2, "rlist -r file:///tmp/r", { cmd: 'rlist', repo: "--repo#2 file /tmp/r" });
  _(2, "rlist -r /srv/r::ignored", { cmd: 'rlist', repo: "--repo#2 file /srv/r" });
  _(2, "rlist -r ssh://h", { cmd: 'rlist', repo: null, invalid: /argument -r\/--repo: Invalid location format: "ssh:\/\/h"/ });
  _(2, "rlist -r :x", { cmd: 'rlist', repo: null, invalid: /argument -r\/--repo: Invalid location format: ":x"/ });
  // -- borg 2 betas differ (src/borg/location.ts borg2Generation); rows without a version are read as 2.0.0b5
  _(2, 'repo-list -r ssh://h/srv/r', { cmd: 'repo-list', repo: '--repo#2 ssh h srv/r', oracle: 'b13+ syntax' }, {}, { version: '2.0.0b14' });
  _(2, 'repo-list -r ssh://h//srv/r', { cmd: 'repo-list', repo: '--repo#2 ssh h /srv/r', oracle: 'b13+ syntax' }, {}, { version: '2.0.0b14' });
  _(2, 'repo-list -r rest://u@h:2222//srv/r', { cmd: 'repo-list', repo: '--repo#2 rest u@h:2222 /srv/r', oracle: 'b22 syntax' }, {}, { version: '2.0.0b22' });
  _(2, 'rlist -r socket:///run/borg/s', { cmd: 'rlist', repo: '--repo#2 socket /run/borg/s', oracle: 'b6+ syntax' }, {}, { version: '2.0.0b9' });
  _(2, 'rlist -r socket:///run/borg/s', { cmd: 'rlist', repo: '--repo#2 file socket:/run/borg/s' });
  _(2, 'repo-list -r repo', { cmd: 'repo-list', repo: '--repo#2 file /home/u/repo', oracle: 'b13+ syntax' }, {}, { version: '2.0.0b13', cwd: '/home/u' });
  // -- the options follow the beta (src/borg/borg2-commands.ts BORG2_OPTION_BETAS): b23 removed --rsh,
  // --remote-path and other global options; b22 --socket; b10 --bypass-lock
  _(2, "repo-list --rsh 'ssh -x' -r ssh://h//r", { cmd: 'repo-list', repo: '--repo#4 ssh h /r', rsh: ['ssh -x', 1, 'separate'], oracle: 'b22 options' }, {}, { version: '2.0.0b22' });
  _(2, "repo-list --rsh 'ssh -x' -r ssh://h//r", { cmd: 'repo-list', repo: '--repo#4 ssh h /r', invalid: /unrecognized arguments: --rsh ssh -x/, oracle: 'b25 options' }, {}, { version: '2.0.0b25' });
  _(2, "--rsh 'ssh -x' repo-list -r ssh://h//r", { cmd: '', repo: null, invalid: /argument <command>: invalid choice: 'ssh -x'/, oracle: 'b23 options' }, {}, { version: '2.0.0b23' });
  _(2, 'repo-list --remote-path borg-2 -r ssh://h//r', { cmd: 'repo-list', repo: '--repo#4 ssh h /r', remotePath: 'borg-2', oracle: 'b22 options' }, {}, { version: '2.0.0b22' });
  _(2, 'repo-list --remote-path borg-2 -r ssh://h//r', { cmd: 'repo-list', repo: '--repo#4 ssh h /r', invalid: /unrecognized arguments: --remote-path borg-2/, oracle: 'b25 options' }, {}, { version: '2.0.0b25' });
  _(2, 'repo-list --iec --upload-buffer 5 -r ssh://h//r', { cmd: 'repo-list', repo: '--repo#5 ssh h /r', invalid: /unrecognized arguments: --iec --upload-buffer 5/, oracle: 'b25 options' }, {}, { version: '2.0.0b25' });
  _(2, 'repo-list --socket -r /r', { cmd: 'repo-list', repo: '--repo#3 file /r', oracle: 'b21 options' }, {}, { version: '2.0.0b21' });
  _(2, 'repo-list --socket -r /r', { cmd: 'repo-list', repo: '--repo#3 file /r', invalid: /unrecognized arguments: --socket/, oracle: 'b22 options' }, {}, { version: '2.0.0b22' });
  _(2, '--bypass-lock repo-list -r /r', { cmd: 'repo-list', repo: '--repo#3 file /r', invalid: /unrecognized arguments: --bypass-lock/, oracle: 'b19 options' }, {}, { version: '2.0.0b19' });
  _(2, '--config c.yaml repo-list -r /r', { cmd: 'repo-list', repo: '--repo#4 file /r', oracle: 'b25 options (reads the file c.yaml)' }, {}, { version: '2.0.0b25' });
  // -- BORG_REPO is read while borg 2 builds its parser: a bad one stops every command
  _(2, '--version', { cmd: '', repo: null, invalid: /BORG_REPO: Invalid location format/ }, { BORG_REPO: '' });
  _(2, 'repo-list', { cmd: 'repo-list', repo: null, oracle: 'b10+ behaviour' }, { BORG_REPO: '' }, { version: '2.0.0b10' });
  _(2, 'transfer', { cmd: 'transfer', repo: 'BORG_REPO ssh u@envhost:2222 /srv/r', other: 'BORG_OTHER_REPO file /old' }, { ...E, BORG_OTHER_REPO: '/old' });
  // -- placeholders in the repository part, given the values
  _(1, 'list "{user}@h:{hostname}/r"', { cmd: 'list', repo: '#1 ssh alice@h vm/r', oracle: 'needs the real user and host name' }, {}, {
    placeholder: (name) => ({ user: 'alice', hostname: 'vm' })[name],
  });
  _(1, 'list "h:{nope}/r"', { cmd: 'list', repo: null, invalid: /Invalid location format/ }, {}, { placeholder: () => undefined });
}

function actual(r: BorgCommandLine, expect: Expect): Expect {
  const got: Expect = { cmd: r.command.join(' '), repo: describeRepository(r.repository) };
  if (r.rsh) got.rsh = [r.rsh.value, r.rsh.index, r.rsh.form];
  if (r.lockWait !== null) got.lockWait = r.lockWait;
  if (r.consumesStdin) got.stdin = r.consumesStdin;
  if (r.helpOrVersion) got.help = true;
  if (r.invalid !== null) got.invalid = expect.invalid && expect.invalid.test(r.invalid) ? expect.invalid : new RegExp(r.invalid);
  if (r.logJson) got.logJson = true;
  if (r.remotePath !== null) got.remotePath = r.remotePath;
  if (r.otherRepository) got.other = describeRepository(r.otherRepository) ?? undefined;
  // opensRepository is stated only where it is not simply "a repository, a valid line, no help".
  const usual = r.repository !== null && r.invalid === null && !r.helpOrVersion;
  if (r.opensRepository !== usual) got.opens = r.opensRepository;
  if (expect.oracle !== undefined) got.oracle = expect.oracle;
  if (expect.oracleBetas !== undefined) got.oracleBetas = expect.oracleBetas;
  if (expect.olderPythonRejects) got.olderPythonRejects = true;
  return got;
}

for (const row of rows) {
  test(`borg${row.major === 2 ? '2' : ''} ${row.line}${row.env.BORG_REPO !== undefined ? ` (BORG_REPO=${row.env.BORG_REPO})` : ''}`, () => {
    const r = parseBorgCommandLine(row.argv, row.env, row.major, row.options);
    assert.deepEqual(actual(r, row.expect), row.expect);
    if (r.repository?.argIndex != null && r.repository.source !== 'BORG_REPO') {
      // The index points at the word that holds the location.
      assert.ok(row.argv[r.repository.argIndex]!.includes(r.repository.location.location), 'argIndex');
    }
    if (r.rsh) assert.ok(row.argv[r.rsh.index]!.startsWith('--'), 'rsh index');
  });
}

test('the table is long and covers every borg 1.x command', () => {
  assert.ok(rows.length >= 200, `${rows.length} rows`);
  const seen = new Set(rows.filter((r) => r.major === 1).map((r) => parseBorgCommandLine(r.argv, r.env, 1).command.join(' ')));
  for (const c of ['create', 'extract', 'list', 'info', 'diff', 'delete', 'prune', 'compact', 'check', 'mount', 'umount', 'with-lock', 'break-lock', 'key export', 'key import', 'config', 'recreate', 'import-tar', 'export-tar', 'init', 'rename', 'upgrade', 'benchmark crud', 'serve', 'help']) {
    assert.ok(seen.has(c), c);
  }
});

test('never throws, whatever the words', () => {
  const words = ['--', '-', '-e', '--rsh', '--rsh=', '-r', '--repo=', 'create', 'with-lock', 'key', '::', 'h:r::a', '-xsC', '--lock-wait', '5', '-h', '', '=', '--=x', '-=', '{', 'serve', 'help'];
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 3000; i++) {
    const argv = Array.from({ length: next() % 7 }, () => words[next() % words.length]!);
    for (const major of [1, 2] as const) parseBorgCommandLine(argv, { BORG_REPO: 'h:r' }, major);
  }
});

// ------------------------------------------------------------------------------------------------
// The same rows through the installed borg's own parser.

// Runs Archiver.parse_args for every case inside the Python that runs the installed borg: the
// launcher script's own preamble is executed first (borg2's puts /usr/lib/borgbackup2 on sys.path).
// One parser per environment (borg 2 reads BORG_REPO while building it); argparse hands out default
// lists by reference and borg's --pattern action appends to them, so they are renewed per case.
const ORACLE = String.raw`
import sys, json, os, io, contextlib
${BORG_LAUNCHER_PREAMBLE}
from borg.archiver import Archiver

def walk(parser):
    yield parser
    for action in parser._actions:
        if hasattr(action, '_name_parser_map'):
            for sub in action._name_parser_map.values():
                yield from walk(sub)

def fresh_defaults(parser):
    for p in walk(parser):
        saved = p.__dict__.setdefault('_oracle_saved', (
            {k: list(v) for k, v in p._defaults.items() if isinstance(v, list)},
            [(a, list(a.default)) for a in p._actions if isinstance(a.default, list)]))
        for k, v in saved[0].items():
            p._defaults[k] = list(v)
        for a, v in saved[1]:
            a.default = list(v)
        # borg 2's Highlander ("There can be only one.", b6+) remembers in the action that it ran.
        for a in p._actions:
            if hasattr(a, '_Highlander__called'):
                a._Highlander__called = False

def one(a, argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            args = a.parse_args(list(argv))
        except SystemExit as e:
            return {'exit': e.code, 'message': (err.getvalue().strip().splitlines() or [''])[-1]}
    r = {}
    for attr, key in (('location', 'location'), ('other_location', 'other')):
        loc = getattr(args, attr, None)
        ok = loc is not None and getattr(loc, 'proto', None) is not None
        r[key] = {k: getattr(loc, k, None) for k in ('proto', 'user', 'host', 'port', 'path', 'archive')} if ok else None
    for k in ('rsh', 'lock_wait', 'log_json', 'remote_path'):
        v = getattr(args, k, None)
        r[k] = v if isinstance(v, (str, int, bool, type(None))) else repr(v)
    return r

def lock_wait_default():
    # What a line without --lock-wait resolves to (CommonOptions fill in the default at the end).
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return Archiver().parse_args(['break-lock'] + (['/x'] if borg.__version__.startswith('1.') else [])).lock_wait

def newer_argparse():
    # Python 3.13's _match_arguments_partial: an empty '*' positional before an option is left for later.
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('a')
    p.add_argument('b', nargs='*')
    p.add_argument('-e')
    return p.parse_known_args(['x', '-e', 'y', 'z'])[1] == []

for k in ('BORG_REPO', 'BORG_OTHER_REPO'):
    os.environ.pop(k, None)
defaults = (lock_wait_default(), newer_argparse())
out = []
archivers = {}
for case in json.load(sys.stdin):
    for k in ('BORG_REPO', 'BORG_OTHER_REPO'):
        os.environ.pop(k, None)
    os.environ.update(case['env'])
    key = (os.environ.get('BORG_REPO'), os.environ.get('BORG_OTHER_REPO'))
    if key not in archivers:
        a = Archiver()
        try:
            parser = a.build_parser()
            a.build_parser = lambda parser=parser: parser
            archivers[key] = a
        except BaseException as e:
            archivers[key] = e
    a = archivers[key]
    if isinstance(a, BaseException):
        out.append({'exception': repr(a)})
        continue
    fresh_defaults(a.build_parser())
    try:
        out.append(one(a, case['argv']))
    except BaseException as e:
        out.append({'exception': repr(e)})
print(json.dumps({'version': borg.__version__, 'lockWaitDefault': defaults[0], 'newerArgparse': defaults[1], 'results': out}))
`;

interface OracleResult {
  exit?: number;
  message?: string;
  exception?: string;
  location?: Record<string, unknown> | null;
  other?: Record<string, unknown> | null;
  rsh?: string | null;
  lock_wait?: number;
  log_json?: boolean;
  remote_path?: string | null;
}

function findLauncher(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = `${dir || '.'}/${bin}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return undefined;
}

interface OracleAnswer {
  version: string;
  // --lock-wait when not given (borg 1.x and 2.0.0b5: 1; b6+: BORG_LOCK_WAIT or 10).
  lockWaitDefault: number;
  newerArgparse: boolean;
  results: OracleResult[];
}

function askBorg(bin: string, cases: ReadonlyArray<{ argv: string[]; env: NodeJS.ProcessEnv }>): OracleAnswer | string {
  const launcher = findLauncher(bin);
  if (!launcher) return `${bin} not installed`;
  const shebang = /^#!\s*(\S+)/.exec(readFileSync(launcher, 'utf8').split('\n', 1)[0] ?? '');
  if (!shebang || !/python/.test(shebang[1]!)) return `${launcher} is not a Python launcher`;
  try {
    const out = execFileSync(shebang[1]!, ['-c', ORACLE, launcher], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      env: { ...process.env, BORG_FUSE_IMPL: 'none' },
      maxBuffer: 64 << 20,
    });
    return JSON.parse(out) as OracleAnswer;
  } catch (error) {
    return `could not run borg's parser: ${(error as Error).message.split('\n')[0]}`;
  }
}

function pick(l: Record<string, unknown> | null | undefined, major: 1 | 2): Record<string, unknown> | null {
  if (!l) return null;
  const { proto, user, host, port, path, archive } = l;
  return major === 1 ? { proto, user, host, port, path, archive } : { proto, user, host, port, path };
}

// The installed borg2's beta, asked before its parser is (rows are chosen by it).
function installedBeta(bin: string): number | null {
  const launcher = findLauncher(bin);
  if (!launcher) return null;
  try {
    const version = parseBorgVersion(execFileSync(launcher, ['--version'], { encoding: 'utf8', env: { ...process.env, BORG_FUSE_IMPL: 'none' } }));
    return version ? borg2Generation(version.version) : null;
  } catch {
    return null;
  }
}

for (const major of [1, 2] as const) {
  const bin = major === 1 ? 'borg' : 'borg2';
  const beta = major === 2 ? installedBeta(bin) : null;
  const forThisBeta = (e: Expect): boolean =>
    e.oracleBetas === undefined || (beta !== null && beta >= (e.oracleBetas.since ?? 0) && beta <= (e.oracleBetas.until ?? Infinity));
  const mine = rows.filter((r) => r.major === major && r.expect.oracle === undefined && forThisBeta(r.expect));
  const answer = askBorg(bin, mine.map((r) => ({ argv: r.argv, env: r.env })));
  test(`the installed ${bin}'s own parser agrees with the table`, { skip: typeof answer === 'string' ? answer : false }, () => {
    if (typeof answer === 'string') return;
    const problems: string[] = [];
    mine.forEach((row, i) => {
      const o = answer.results[i]!;
      const r = parseBorgCommandLine(row.argv, row.env, major, { ...row.options, version: answer.version });
      const where = `${bin} ${row.line}`;
      // Exit 0 is help or --version; an exception is borg refusing the line after argparse.
      const theirs = o.exception !== undefined || o.exit === 2 ? 'rejected' : o.exit === 0 ? 'help' : 'runs';
      let ours = r.invalid !== null ? 'rejected' : r.helpOrVersion ? 'help' : 'runs';
      // Such a row must be rejected by an older argparse: then borg rejects what tborg runs.
      if (row.expect.olderPythonRejects && !answer.newerArgparse && ours === 'runs') ours = 'rejected';
      // borg's parser returns for `borg`, `borg key` etc. and prints help afterwards.
      const printsHelpLater = theirs === 'runs' && r.helpOrVersion && r.invalid === null;
      if (theirs !== ours && !printsHelpLater) problems.push(`${where}: borg ${theirs} (${o.message ?? o.exception ?? ''}), tborg ${ours} (${r.invalid ?? ''})`);
      if (theirs !== 'runs' || ours !== 'runs') return;
      const repo = r.opensRepository || r.repository ? pick(r.repository?.location as unknown as Record<string, unknown>, major) : null;
      const wanted = r.repository === null && !r.opensRepository ? null : pick(o.location, major);
      if (JSON.stringify(repo) !== JSON.stringify(wanted)) problems.push(`${where}: repository ${JSON.stringify(wanted)} in borg, ${JSON.stringify(repo)} in tborg`);
      if (major === 2 && r.otherRepository) {
        const other = pick(r.otherRepository.location as unknown as Record<string, unknown>, 2);
        if (JSON.stringify(other) !== JSON.stringify(pick(o.other, 2))) problems.push(`${where}: other repository ${JSON.stringify(o.other)} in borg`);
      }
      if ((r.rsh?.value ?? null) !== o.rsh) problems.push(`${where}: --rsh ${o.rsh} in borg, ${r.rsh?.value} in tborg`);
      if ((r.lockWait ?? answer.lockWaitDefault) !== o.lock_wait) problems.push(`${where}: --lock-wait ${o.lock_wait} in borg, ${r.lockWait} in tborg`);
      if (r.logJson !== o.log_json) problems.push(`${where}: --log-json ${o.log_json} in borg`);
      if (r.remotePath !== o.remote_path) problems.push(`${where}: --remote-path ${o.remote_path} in borg`);
    });
    assert.deepEqual(problems, []);
  });
}
