// The rows of test/unit/command-line.test.ts (parseBorgCommandLine as a table, antfu/ni style): one
// line of argv (split like a shell would) and what borg makes of it. test/host/command-line-oracle.test.ts
// replays the same rows through the installed borg's and borg2's own argument parsing.
// Repositories are written compactly as
//   "<where> <proto> [user@]host[:port] <path> [::archive]"
// where <where> is #N (the argv index of the positional), --repo#N, BORG_REPO, or BORG_REPO#N
// (`::archive` at index N with the repository from BORG_REPO).

import { split } from 'shlex';
import type { CommandLineOptions, RepositoryArgument } from '../../src/borg/command-line.js';

const E = { BORG_REPO: 'ssh://u@envhost:2222/srv/r' };

export interface Expect {
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

export interface Row {
  major: 1 | 2;
  line: string;
  argv: string[];
  expect: Expect;
  env: NodeJS.ProcessEnv;
  options: CommandLineOptions;
}

export const rows: Row[] = [];
function _(major: 1 | 2, line: string, expect: Expect, env: NodeJS.ProcessEnv = {}, options: CommandLineOptions = {}): void {
  rows.push({ major, line, argv: split(line), expect, env, options });
}

export function describeRepository(r: RepositoryArgument | null): string | null {
  if (!r) return null;
  const l = r.location;
  const where = r.source === 'argument' ? `#${r.argIndex}` : r.argIndex === null ? r.source : `${r.source}#${r.argIndex}`;
  const host =
    l.host === null ? '' : `${l.user ? `${l.user}@` : ''}${l.host.includes(':') ? `[${l.host}]` : l.host}${l.port ? `:${l.port}` : ''} `;
  return `${where} ${l.proto} ${host}${l.path}${l.archive ? ` ::${l.archive}` : ''}`;
}

// biome-ignore format: one table row per line, aligned by hand
function addRows(): void {
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
addRows();
