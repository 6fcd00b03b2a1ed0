// The usage text `tborg COMMAND --help` prints above yargs' list of the command's options. Here, not in
// the commands' own modules, so the one parser (own-commands.ts) names them without loading any command.

export const PLAN_USAGE = `tborg plan [--json] BORG_ARGUMENTS...

Shows what \`tborg BORG_ARGUMENTS...\` would do, and runs nothing but ssh -G (which never connects).
plan's own options come first: from the first word that is not one of them, every word is borg's,
as given (\`tborg plan list --json REPO\` plans borg's --json).`;

// The connect timeout is doctor's DEFAULT_CONNECT_TIMEOUT_SECONDS (test/cli/own-commands-cli.test.ts
// checks that the two agree).
export const DOCTOR_USAGE = `Usage: tborg doctor [--json] [BORG_COMMON_OPTIONS] REPOSITORY

Checks what a backup to REPOSITORY needs, without changing it, and says what tborg would do:
  borg        the local borg (path and version; never tborg itself)
  location    how borg reads REPOSITORY (ssh://..., host:path, a local path, :: with BORG_REPO;
              borg 2 also -r REPOSITORY)
  keepalive   the ssh keepalive (ServerAliveInterval, ServerAliveCountMax) for the repository's host
              and where it is set (file:line), or what tborg injects when it is not
  lock-wait   how long tborg waits for a held lock, and why
  server      whether the server answers (ssh with BatchMode=yes, ConnectTimeout=10: never a
              prompt) and which borg runs there
  repository  whether borg can open it: exists, is a repository, the passphrase (borg list --last 1)
  lock        whether it is locked now: the repository lock, or this machine's cache lock

borg common options such as --rsh, --remote-path, --lock-wait are used as a run would use them.
The repository is only opened for reading (one borg list, a shared lock for a moment); doctor never
writes to it and never breaks a lock. Every check prints one line: ok, warn, fail or skip.

Exit codes: 0 healthy; 1 warnings (no keepalive of your own, locked now, ...);
2 the repository cannot be reached or used (unreachable, does not exist, bad argument, no borg).`;

export const SSH_CONFIG_USAGE_LINE = 'tborg ssh-config HOST [--config FILE] [--write] [--keepalive IxC]';

export const SSH_CONFIG_USAGE = `Usage: ${SSH_CONFIG_USAGE_LINE}

Shows the ssh keepalive (ServerAliveInterval x ServerAliveCountMax) that ssh uses for HOST, where
it comes from, and the lines tborg would add so that borg's ssh connection notices a dead server.
With --write, adds them where ssh reads them first for HOST and for no other host, after checking
the edited file with ssh -G; keeps FILE.tborg-backup-<time> beside it. HOST is the host as written
in the repository location (an alias from the ssh config, or a host name).`;

export const SSHD_CONFIG_USAGE = `tborg sshd-config [--tborg-server-alive IxC | --server-alive IxC] [--match-user USER] [--borg2]

Prints ClientAliveInterval/ClientAliveCountMax lines for the server's sshd_config, ready to paste,
with how long a stale \`borg serve\` then keeps the repository lock. Default 10x30, borg's serve guide.
With --borg2: also what these lines do and do not do for borg2 2.0.0b22 and later (store locks).`;

export const AUTHORIZED_KEYS_USAGE = `tborg authorized-keys [OPTIONS] KEYFILE|-

Prints one line for the server's ~/.ssh/authorized_keys that lets the key in KEYFILE (a .pub file,
or - for stdin) run \`borg serve\` and nothing else, as borg's serve guide recommends:
  command="borg serve --restrict-to-path /srv/borg",restrict ssh-ed25519 AAAA... you@client
With --borg2 (on by itself with --remote-path borg2) the line is for borg2 2.0.0b22 or later:
  command="borg2 serve --rest --restrict-to-repository /srv/borg/repo --permissions write-only",restrict ...
The backup account's login shell must be a POSIX shell (sh, bash, dash, zsh, ksh).
With --guard the key runs through the server half's guard (README "The server half"), written to
~/.local/bin/tborg-serve-guard (or --guard-path) of the account tborg runs as; on a server without
Node, copy it there instead (--print-guard) and name it with --guard-path:
  tborg authorized-keys --print-guard | ssh backup@nas 'mkdir -p .local/bin && cat > .local/bin/tborg-serve-guard.new && chmod 755 .local/bin/tborg-serve-guard.new && mv .local/bin/tborg-serve-guard.new .local/bin/tborg-serve-guard'
  tborg authorized-keys --guard-path /home/backup/.local/bin/tborg-serve-guard --restrict-to-path /srv/borg key.pub`;

export const STATUS_USAGE = `tborg status [--json] [--max-age DURATION] [--forget REPOSITORY]

One line per repository from tborg's status records (in $XDG_STATE_HOME/tborg or
--tborg-status-file): did its last backup (create, import-tar) land, and when did one last land;
then one line per maintenance command (prune, compact, check, delete, recreate) with its own last
run. Reads, dry runs and prompts answered "no" are recorded nowhere. Exit 0 when every last run
succeeded (and, with --max-age, every last backup success is recent enough), 1 otherwise, 2 when
there are no records. A repository whose runs never succeeded is forgotten a week after its last
run; --forget REPOSITORY deletes its records at once.`;

export const SHELL_COMPLETION_USAGE = `tborg shell-completion

Prints a completion script for the shell in $SHELL (bash or zsh) that completes tborg's own commands
and their options. borg's commands and options are borg's: tborg offers none of them, and the
shell falls back to file names. Install it with
  tborg shell-completion >> ~/.bashrc      (or ~/.zshrc)`;
