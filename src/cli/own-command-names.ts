// tborg's own commands: words borg does not use as commands, so borg's command space stays borg's.
// `shell-completion` prints the shell completion script of these commands (own-commands.ts); not
// `completion`, which is borg 2's own command (`borg completion SHELL`, src/borg/borg-commands.ts).
export const OWN_COMMANDS = ['plan', 'doctor', 'ssh-config', 'sshd-config', 'authorized-keys', 'status', 'shell-completion'] as const;
export type OwnCommand = (typeof OWN_COMMANDS)[number];

// The word bash's and zsh's completion scripts (from `tborg shell-completion`) call tborg with.
export const COMPLETION_REQUEST = '--get-yargs-completions';
