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
import { readdirSync } from 'node:fs';
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

// The runner starts files in the order given, so a long file started late runs on alone at the end
// while the other lanes sit idle: the folders whose files take longest start first. The lab's real
// borg and sshd (e2e) wait longest, then the fake borg (cli), the installed programs (host), the pure
// tables (unit).
const FOLDER_ORDER = ['test/e2e/', 'test/cli/', 'test/host/', 'test/unit/'];
const rank = (f) => {
  const i = FOLDER_ORDER.findIndex((dir) => f.startsWith(dir));
  return i === -1 ? FOLDER_ORDER.length : i;
};
const ordered = [...sources].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const files = ordered.map((f) => join('dist', f.replace(/\.ts$/, '.js')));
const r = spawnSync(
  process.execPath,
  [
    '--import',
    './dist/test/helpers/no-programs.js',
    '--test',
    `--test-concurrency=${process.env.TBORG_TEST_CONCURRENCY ?? 4}`,
    '--test-timeout=900000',
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
