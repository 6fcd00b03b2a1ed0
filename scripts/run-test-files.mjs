#!/usr/bin/env node
// node's test runner over test files in the order given: scripts/run-tests.mjs starts the longest first.
// `node --test FILE...` sorts its files by name; run() keeps the order. Started by run-tests.mjs with
// `--import ./dist/test/helpers/no-programs.js`, which run() passes on to every file's process. Prints
// node's own report (spec on a terminal, else TAP) and exits 1 when the report's summary counts a
// failed or cancelled test, as `node --test` does. After the report, the failed tests once more, each
// with its file and the first lines of its error: CI keeps only the end of a long log, and in TAP a
// failure is otherwise somewhere among two thousand lines.
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

// A file's limit guards against a hang, not a slow machine: the longest file takes about 5 minutes
// alone on 2 cores, and a run beside another whole suite was seen at three times that.
const FILE_TIMEOUT_MS = 45 * 60_000;

const files = process.argv.slice(2).map((f) => resolve(f));
const concurrency = Number(process.env.TBORG_TEST_CONCURRENCY ?? 4);
const summary = {};
const failures = [];
const stream = run({ files, concurrency, timeout: FILE_TIMEOUT_MS });
stream.on('test:fail', ({ name, file, line, details, todo }) => {
  // A known failure marked TODO does not fail the run (node's summary counts it under todo).
  if (todo !== undefined && todo !== false) return;
  failures.push({ name, where: file ? `${file}${line ? `:${line}` : ''}` : '', error: details?.error });
});
stream.on('test:diagnostic', ({ nesting, message }) => {
  const count = nesting === 0 ? /^(fail|cancelled) (\d+)$/.exec(message) : null;
  if (count) summary[count[1]] = Number(count[2]);
});
stream.once('end', () => {
  process.exitCode = summary.fail === 0 && summary.cancelled === 0 ? 0 : 1;
});

// A failed test's error, as node's runner wraps it: the assertion (or what was thrown) is its cause.
function errorLines(error) {
  const cause = error?.cause ?? error;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? error ?? '');
  return text.split('\n').slice(0, 12);
}

const report = stream.compose(process.stdout.isTTY ? spec : tap);
report.pipe(process.stdout, { end: false });
report.once('end', () => {
  // spec (a terminal) lists the failing tests itself.
  if (failures.length === 0 || process.stdout.isTTY) return;
  const lines = [`# failed: ${failures.length} (a suite counts with the tests in it)`];
  for (const f of failures) {
    lines.push(`# not ok - ${f.name}${f.where ? `  (${f.where})` : ''}`);
    for (const l of errorLines(f.error)) lines.push(`#     ${l}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
});
