import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BorgLine } from '../lab/borgs.js';

// Python that loads an installed borg the way its launcher script does (/usr/bin/borg, /usr/bin/borg2:
// the launcher's own preamble runs first — borg2's puts /usr/lib/borgbackup2 on sys.path — but not its
// main call), then imports borg. The tests that replay borg's own parser and Location class start
// their oracle scripts with it; the launcher's path is sys.argv[1].
export const BORG_LAUNCHER_PREAMBLE = String.raw`
launcher = sys.argv[1]
src = open(launcher).read()
for guard in ("if __name__ == '__main__':", 'if __name__ == "__main__":'):
    if guard in src:
        src = src[:src.index(guard)]
exec(compile(src, launcher, 'exec'), {'__name__': 'launcher'})
import borg`;

// The root's launcher (/usr/bin/borg2) and the python its first line names.
export function launcherOf(line: BorgLine): { launcher: string; python: string } | string {
  let launcher = `/usr/bin/${line.client}`;
  if (line.root === undefined) {
    const found = execFileSync('sh', ['-c', `command -v ${line.client}`], { encoding: 'utf8' }).trim();
    if (!found) return `${line.client} not on PATH`;
    launcher = found;
  }
  const text = readFileSync(join(line.root ?? '/', launcher), 'utf8');
  const python = /^#!\s*(\S*python\S*)/.exec(text)?.[1];
  return python ? { launcher, python } : `${launcher} is not a Python launcher`;
}
