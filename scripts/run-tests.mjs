#!/usr/bin/env node
// Runs every compiled test file with node's built-in runner (its summary is what CI reads).
// Node 20's --test takes no globs, so the files are listed here. Extra arguments (file names or
// substrings of them) narrow the run: `npm test -- lock` runs the test files whose path has "lock".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
// Only compiled tests whose TypeScript source still exists: tsc never deletes the output of a test
// file that was moved or removed, and a stale copy must not run (or fail) in its place.
const hasSource = (f) => existsSync(join(root, relative(join(root, 'dist'), f)).replace(/\.js$/, '.ts'));
const files = walk(testRoot)
  .filter(hasSource)
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${process.env.TBORG_TEST_CONCURRENCY ?? 4}`, '--test-timeout=900000', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
