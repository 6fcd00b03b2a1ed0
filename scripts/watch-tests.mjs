#!/usr/bin/env node
// `npm run test:watch [-- FILTER...]`: the fast loop while editing. tsc rebuilds on every save and
// node's runner re-runs the test/unit files (narrowed by FILTER, as `npm test -- FILTER`) whose
// compiled code changed, or that import what changed. Stop with Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const filters = process.argv.slice(2);

const first = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs'), 'unit'], { stdio: 'inherit', cwd: root });
if (first.status !== 0) process.exit(first.status ?? 1);

const files = readdirSync(join(root, 'test', 'unit'))
  .filter((f) => f.endsWith('.test.ts') && (filters.length === 0 || filters.some((x) => `test/unit/${f}`.includes(x))))
  .map((f) => join('dist', 'test', 'unit', f.replace(/\.ts$/, '.js')));
const children = [
  spawn(process.execPath, [tsc, '-p', 'tsconfig.json', '--watch', '--preserveWatchOutput'], { stdio: 'inherit', cwd: root }),
  spawn(process.execPath, ['--import', './dist/test/helpers/no-programs.js', '--test', '--watch', ...files], {
    stdio: 'inherit',
    cwd: root,
  }),
];
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children) child.on('exit', stop);
