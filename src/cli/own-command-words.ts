// The words of tborg's own commands as main reads them before (and mostly without) yargs: which
// words are tborg's commands, and where `tborg plan`'s own options end. One module, because main
// loads it on every run.

// tborg's own commands: words borg does not use as commands, so borg's command space stays borg's.
// `shell-completion` prints the shell completion script of these commands (own-commands.ts); not
// `completion`, which is borg 2's own command (`borg completion SHELL`, src/borg/borg2-commands.ts).
export const OWN_COMMANDS = ['plan', 'doctor', 'ssh-config', 'sshd-config', 'authorized-keys', 'status', 'shell-completion'] as const;
export type OwnCommand = (typeof OWN_COMMANDS)[number];

// The word bash's and zsh's completion scripts (from `tborg shell-completion`) call tborg with.
export const COMPLETION_REQUEST = '--get-yargs-completions';

// Where `tborg plan`'s own options end and borg's words begin. plan's options (--json, --help) are
// read only at the start, before the first word that is not one of them; that word and every word
// after it are borg's, byte for byte (`tborg plan list --json repo` keeps borg's --json, and borg's
// options before its command, `tborg plan -r REPO check`, stay borg's). yargs cannot say this
// itself: its halt-at-non-option would halt at the word `plan`, which it re-reads in a command's
// parse. So the yargs parser (own-commands.ts) gets `plan OWN_WORDS... -- BORG_WORDS...` from here,
// and the fast path below reads the one common shape without loading yargs (~70 ms).

// plan's own options, as own-commands.ts declares them to yargs.
export const PLAN_OPTION_NAMES = ['json', 'help'] as const;

// What `tborg plan` was asked: JSON or text, and borg's words.
export interface PlanArgs {
  json: boolean;
  borgArgs: string[];
}

// A word yargs would read as one of plan's options: --NAME, --NAME=VALUE, --no-NAME (boolean-negation).
function isPlanOption(word: string): boolean {
  const match = /^--(?:no-)?([^=]+)(?:=.*)?$/s.exec(word);
  return match !== null && (PLAN_OPTION_NAMES as readonly string[]).includes(match[1]!);
}

// Splits plan's words into its own options and borg's words.
export function splitPlanWords(args: readonly string[]): { own: string[]; borg: string[] } {
  let end = 0;
  while (end < args.length && isPlanOption(args[end]!)) end++;
  return { own: args.slice(0, end), borg: args.slice(end) };
}

// The bench's and every script's shape, `plan [--json] WORD...` with WORD[0] not an option, read
// without yargs: what yargs gives for it (test/unit/plan-words.test.ts proves it row by row).
// undefined: any other shape, for the yargs parser.
export function fastPlanArgs(args: readonly string[]): PlanArgs | undefined {
  const json = args[0] === '--json';
  const borgArgs = json ? args.slice(1) : args.slice();
  const first = borgArgs[0];
  if (first === undefined || first.startsWith('-')) return undefined;
  return { json, borgArgs };
}
