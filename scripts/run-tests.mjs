#!/usr/bin/env node
// `npm test [-- FILTER...]`: the set-up the chosen tests need, then every chosen compiled test file
// with node's built-in runner (its summary is what CI reads). Extra arguments (file names or
// substrings of them) narrow the run: `npm test -- lock` runs the test files whose path has "lock".
//
// Test files are chosen from the TypeScript sources (tsc never deletes the output of a test file that
// was moved or removed, and a stale copy must not run, or fail, in its place). When every chosen file
// is in test/unit, the pure fast loop, the set-up is a build only: no apt, no lab roots
// (scripts/setup.mjs unit). Every test file's process loads dist/test/helpers/no-programs.js, which
// refuses to start programs in a test/unit file.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
const sources = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (sources.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}

const purpose = sources.every((f) => f.startsWith('test/unit/')) ? 'unit' : 'test';
const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs'), purpose], { stdio: 'inherit', cwd: root });
if (setup.status !== 0) process.exit(setup.status ?? 1);

// Longest first (scripts/run-test-files.mjs keeps the order; `node --test` would sort by name): a long
// file started late runs on alone at the end while the other lanes sit idle. The lab's real borg and
// sshd (e2e) take longest, those that run on every borg line of the matrix most of all, then the fake
// borg (cli), the installed programs (host), the pure tables (unit); within those, the larger file first.
const FOLDER_ORDER = ['test/e2e/', 'test/cli/', 'test/host/', 'test/unit/'];
const weigh = (f) => {
  const text = readFileSync(join(root, f), 'utf8');
  const folder = FOLDER_ORDER.findIndex((dir) => f.startsWith(dir));
  const matrix = /describeEach(Borg2)?Line\(/.test(text) ? 0 : 1;
  return { f, rank: (folder === -1 ? FOLDER_ORDER.length : folder) * 2 + matrix, size: text.length };
};
const ordered = sources
  .map(weigh)
  .sort((a, b) => a.rank - b.rank || b.size - a.size || a.f.localeCompare(b.f))
  .map((w) => w.f);
const files = ordered.map((f) => join('dist', f.replace(/\.ts$/, '.js')));
const r = spawnSync(
  process.execPath,
  ['--import', './dist/test/helpers/no-programs.js', join(root, 'scripts', 'run-test-files.mjs'), ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
