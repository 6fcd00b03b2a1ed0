import type { Parser } from './argparse-grammar.js';
import { effective, positionalByName, type ParseState } from './argparse-replay.js';

// Input borg reads from stdin, which a second attempt cannot read again:
//   create PATH "-"            archiver create: `if path == '-'` reads the data from stdin
//   create --paths-from-stdin  reads the list of paths from stdin
//   import-tar ARCHIVE -       dash_open(args.tarfile, 'rb')
//   key import REPO -          `args.path != '-'` check, then reads the key from stdin
//   init --import-related-secrets -   (1.4) dash_open(..., 'r')
//   with-lock REPO CMD         CMD inherits borg's stdin and may read it
//   create --content-from-command / --paths-from-command CMD: borg reads CMD's stdout, but CMD
//   itself inherits borg's stdin (archiver.py do_create: subprocess.Popen(args.paths,
//   stdout=PIPE), no stdin=), so `--content-from-command -- cat` reads stdin, like with-lock's.
export function stdinUse(state: ParseState, leaf: Parser): string | null {
  const key = state.path.join(' ');
  const has = (id: string): boolean => state.occurrences.some((o) => o.action.id === id);
  const value = (id: string): string | null => effective(state.occurrences, id)?.value ?? null;
  if (key === 'create') {
    if (has('--paths-from-stdin')) return 'create --paths-from-stdin';
    if (has('--content-from-command')) return 'create --content-from-command (COMMAND inherits stdin)';
    if (has('--paths-from-command')) return 'create --paths-from-command (COMMAND inherits stdin)';
    if (positionalByName(state, leaf, 'PATH')?.some((w) => w.text === '-')) return 'create -';
    return null;
  }
  if (key === 'import-tar') {
    return positionalByName(state, leaf, 'TARFILE')?.[0]?.text === '-' ? 'import-tar -' : null;
  }
  if (key === 'key import') {
    if (has('--paper')) return null;
    return positionalByName(state, leaf, 'PATH')?.[0]?.text === '-' ? 'key import -' : null;
  }
  if (key === 'init' && value('--import-related-secrets') === '-') return 'init --import-related-secrets -';
  if (key === 'with-lock') return 'with-lock COMMAND (inherits stdin)';
  return null;
}
