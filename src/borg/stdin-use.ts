import type { CommandWords } from './command-spec.js';

// Input borg reads from stdin, which a second attempt cannot read again (CommandSpec.stdin of the
// commands below; each says why a line of it reads stdin, or null):
//   create PATH "-"            archiver create: `if path == '-'` reads the data from stdin
//   create --paths-from-stdin  reads the list of paths from stdin
//   import-tar ARCHIVE -       dash_open(args.tarfile, 'rb')
//   key import REPO -          `args.path != '-'` check, then reads the key from stdin
//   init --import-related-secrets -   (1.4) dash_open(..., 'r')
//   with-lock REPO CMD         CMD inherits borg's stdin and may read it
//   create --content-from-command / --paths-from-command CMD: borg reads CMD's stdout, but CMD
//   itself inherits borg's stdin (archiver.py do_create: subprocess.Popen(args.paths,
//   stdout=PIPE), no stdin=), so `--content-from-command -- cat` reads stdin, like with-lock's.

type Words = Pick<CommandWords, 'options' | 'positionals'>;

export function findCreateStdin(w: Words): string | null {
  if (w.options.has('--paths-from-stdin')) return 'create --paths-from-stdin';
  if (w.options.has('--content-from-command')) return 'create --content-from-command (COMMAND inherits stdin)';
  if (w.options.has('--paths-from-command')) return 'create --paths-from-command (COMMAND inherits stdin)';
  if (w.positionals.get('PATH')?.includes('-')) return 'create -';
  return null;
}

export function findImportTarStdin(w: Words): string | null {
  return w.positionals.get('TARFILE')?.[0] === '-' ? 'import-tar -' : null;
}

export function findKeyImportStdin(w: Words): string | null {
  if (w.options.has('--paper')) return null;
  return w.positionals.get('PATH')?.[0] === '-' ? 'key import -' : null;
}

export function findInitStdin(w: Words): string | null {
  return w.options.get('--import-related-secrets') === '-' ? 'init --import-related-secrets -' : null;
}

export function findWithLockStdin(): string {
  return 'with-lock COMMAND (inherits stdin)';
}
