import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Comments that name a file of this repository name one that exists: a reader following
// "see src/run/next-step.ts" must land somewhere. Checked: every comment of the sources (src/, test/,
// scripts/, bin/, fixtures/) and the Markdown of README.md and docs/. A path with a folder
// (`src/borg/location.ts`, `test/lab/lab.ts`) must exist as written; a bare file name of ours
// (`next-step.ts`) must be the name of some file of the repository.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = ['src', 'test', 'scripts', 'bin', 'fixtures'];
const PATH = /(?<![\w./-])((?:src|test|scripts|docs|fixtures|bin|\.ci)\/[\w./*-]*[\w*-])(?![\w/-])/g;
// Files of ours end so (or have no extension); `src/borg/archiver.py` or `docs/usage/serve.rst` is
// borg's source, cited as the house style asks, and node's `src/string_search.h` is node's.
const OUR_EXTENSIONS = /(?:^|\/)[^/.]+$|\.(?:ts|mjs|js|md|sh|json)$/;
const BARE = /(?<![\w./-])([a-z][\w-]*\.(?:ts|mjs))(?![\w/.-])/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' ? [] : files(join(dir, e.name))) : [join(dir, e.name)],
  );
}

// The comment text of a source file: `//` to the end of the line, block comments, and `#` lines of
// shell scripts. Strings are not comments, but a `//` inside one is rare enough to read as one.
function commentText(source: string, shell: boolean): string[] {
  const found: string[] = [];
  if (shell) return source.split('\n').filter((l) => l.trimStart().startsWith('#'));
  for (const m of source.matchAll(/\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/.*$/gm)) found.push(m[0]);
  return found;
}

// The repository paths and bare file names one text names.
function namedPaths(text: string): { paths: string[]; bare: string[] } {
  const paths = [...text.matchAll(PATH)].map((m) => m[1]!.replace(/\.$/, '')).filter((p) => OUR_EXTENSIONS.test(p));
  const bare = [...text.matchAll(BARE)].map((m) => m[1]!);
  return { paths, bare };
}

test('namedPaths: paths with a folder and bare file names, not URLs or package files', () => {
  const text =
    '// see src/run/next-step.ts and test/lab/lab.ts, or next-step.ts; borg src/borg/archiver.py; p-retry index.js; dist/test/unit/x.js; test/e2e/borg2-*-e2e.test.ts';
  assert.deepEqual(namedPaths(text), {
    paths: ['src/run/next-step.ts', 'test/lab/lab.ts', 'test/e2e/borg2-*-e2e.test.ts'],
    bare: ['next-step.ts'],
  });
});

test('every repository path named in a comment or the docs exists', () => {
  const all = files(ROOT)
    .map((f) => relative(ROOT, f))
    .filter((f) => !f.startsWith('dist/') && !f.startsWith('.git/'));
  const names = new Set(all.map((f) => basename(f)));
  const sources = SOURCE_DIRS.flatMap((d) =>
    all.filter((f) => (f.startsWith(`${d}/`) && /\.(ts|mjs|js|sh)$/.test(f)) || (d === 'test' && f === 'test/lab/in-root')),
  );
  // A path with `*` names the files it matches (test/e2e/borg2-*-e2e.test.ts): one must exist.
  const exists = (p: string): boolean => {
    if (!p.includes('*')) return existsSync(join(ROOT, p));
    const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`);
    return all.some((f) => re.test(f));
  };
  const docs = ['README.md', ...all.filter((f) => f.startsWith('docs/') && f.endsWith('.md'))];
  assert.ok(sources.length > 100, `only ${sources.length} source files found`);
  const missing: string[] = [];
  for (const file of [...sources, ...docs]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const parts = file.endsWith('.md') ? [text] : commentText(text, file.endsWith('.sh') || file === 'test/lab/in-root');
    for (const part of parts) {
      const { paths, bare } = namedPaths(part);
      for (const p of paths) if (!exists(p)) missing.push(`${file}: ${p}`);
      for (const b of bare) if (!names.has(b)) missing.push(`${file}: ${b}`);
    }
  }
  assert.deepEqual([...new Set(missing)], [], `comments name files that do not exist:\n${[...new Set(missing)].join('\n')}`);
});
