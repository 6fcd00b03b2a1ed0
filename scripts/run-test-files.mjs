#!/usr/bin/env node
// node's test runner over test files in the order given: scripts/run-tests.mjs starts the longest first.
// `node --test FILE...` sorts its files by name; run() keeps the order. Started by run-tests.mjs with
// `--import ./dist/test/helpers/no-programs.js`, which run() passes on to every file's process. Prints
// node's own report (spec on a terminal, else TAP) and exits 1 when the report's summary counts a
// failed or cancelled test, as `node --test` does.
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

// A file's limit guards against a hang, not a slow machine: the longest file takes about 5 minutes
// alone on 2 cores, and a run beside another whole suite was seen at three times that.
const FILE_TIMEOUT_MS = 45 * 60_000;

const files = process.argv.slice(2).map((f) => resolve(f));
const concurrency = Number(process.env.TBORG_TEST_CONCURRENCY ?? 4);
const summary = {};
const stream = run({ files, concurrency, timeout: FILE_TIMEOUT_MS });
stream.on('test:diagnostic', ({ nesting, message }) => {
  const count = nesting === 0 ? /^(fail|cancelled) (\d+)$/.exec(message) : null;
  if (count) summary[count[1]] = Number(count[2]);
});
stream.once('end', () => {
  process.exitCode = summary.fail === 0 && summary.cancelled === 0 ? 0 : 1;
});
stream.compose(process.stdout.isTTY ? spec : tap).pipe(process.stdout);
