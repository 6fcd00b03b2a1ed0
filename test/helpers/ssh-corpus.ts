import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SSH_CORPUS = fileURLToPath(new URL('../../../fixtures/ssh-configs/', import.meta.url));

// Copies the ssh-config corpus to a fresh directory whose name has a space (so every path goes
// through shlex quoting and Include quoting) and replaces @DIR@ in its .conf files by that directory.
export function copySshCorpus(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(SSH_CORPUS, dir, { recursive: true });
  const fix = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) fix(p);
      else if (e.name.endsWith('.conf')) writeFileSync(p, readFileSync(p, 'utf8').replaceAll('@DIR@', dir));
    }
  };
  fix(dir);
  return dir;
}
