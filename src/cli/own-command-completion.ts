import { OWN_COMMANDS, splitPlanWords } from './own-command-words.js';

// The answer to bash's and zsh's completion scripts (`tborg shell-completion`), for the one parser.

// Completion offers tborg's own commands and their options, and nothing for borg's words: borg's
// commands and options belong to borg and change with its version, so tborg keeps no second list of
// them. The shell then falls back to file names (bash's `-o default`, zsh's _default).
export function completeOwnWords(
  current: string,
  argv: { _: Array<string | number> },
  completionFilter: (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void,
  done: (completions: string[]) => void,
): void {
  // argv._ is what the shell passed: `tborg`, the words typed, and the word being completed unless
  // that one is an option.
  const typed = argv._.slice(1).map(String);
  if (!current.startsWith('-')) typed.pop();
  const first = typed[0];
  const borgWords =
    first === 'plan'
      ? splitPlanWords(typed.slice(1)).borg.length > 0
      : first !== undefined && !(OWN_COMMANDS as readonly string[]).includes(first);
  // After plan's first borg word, the words are borg's too (own-command-words.ts).
  if (borgWords) {
    done([]);
    return;
  }
  completionFilter((error, completions) => done(error ? [] : (completions ?? [])));
}
