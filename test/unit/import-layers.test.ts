import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importGraph, sourceFiles } from '../helpers/import-graph.js';

// The layers of src/ point one way: each folder imports only the folders below it, so a reader can
// follow a run from src/cli down to src/process and nothing lower knows the CLI exists. A layer that
// needs something from above declares the narrow interface it needs (src/run/run-request.ts RunOutput,
// src/plan/plan-options.ts PlanOptions, src/monitor/monitor-options.ts WarnSink) and src/cli passes the
// concrete Terminal and options in. README "Development" describes each folder.

// Bottom first. A folder may import itself and the folders it lists, all of them below it.
const LAYERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['core', []],
  ['process', ['core']],
  ['borg', ['core', 'process']],
  ['ssh', ['core', 'process', 'borg']],
  ['plan', ['core', 'process', 'borg', 'ssh']],
  ['monitor', ['core', 'process', 'borg', 'ssh', 'plan']],
  ['run', ['core', 'process', 'borg', 'ssh', 'plan', 'monitor']],
  ['guide', ['core', 'process', 'borg', 'ssh', 'plan']],
  ['cli', ['core', 'process', 'borg', 'ssh', 'plan', 'monitor', 'run', 'guide']],
];

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

// Folder of a path relative to src/ ('run/attempts.ts' -> 'run'; a file directly in src/ -> '.').
function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '.';
}

// Every import that leaves its folder for one its layer does not list, as "from -> to".
function layerViolations(graph: ReadonlyMap<string, readonly string[]>, layers = LAYERS): string[] {
  const allowed = new Map(layers.map(([folder, below]) => [folder, new Set([folder, ...below])]));
  const found: string[] = [];
  for (const [from, targets] of graph) {
    const mayImport = allowed.get(folderOf(from));
    for (const to of targets) if (!mayImport?.has(folderOf(to))) found.push(`${from} -> ${to}`);
  }
  return found.sort();
}

test('layers: an import into a higher folder is a violation, one into the same or a lower folder is not', () => {
  const graph = new Map([
    ['run/attempts.ts', ['run/backoff.ts', 'plan/plan.ts', 'core/errors.ts']],
    ['run/borg-process.ts', ['cli/terminal.ts']],
    ['borg/command-line.ts', ['plan/connection-retry.ts']],
    ['core/errors.ts', ['cli/main.ts']],
    ['cli/main.ts', ['run/run-borg.ts', 'guide/doctor.ts']],
    ['stray.ts', ['core/errors.ts']],
  ]);
  assert.deepEqual(layerViolations(graph), [
    'borg/command-line.ts -> plan/connection-retry.ts',
    'core/errors.ts -> cli/main.ts',
    'run/borg-process.ts -> cli/terminal.ts',
    'stray.ts -> core/errors.ts',
  ]);
});

test('layers: the table itself points one way (each folder lists only folders above it in the table)', () => {
  const order = LAYERS.map(([folder]) => folder);
  for (const [i, [folder, below]] of LAYERS.entries()) {
    for (const other of below)
      assert.ok(order.indexOf(other) > -1 && order.indexOf(other) < i, `${folder} may import ${other}, which is not below it`);
  }
  assert.deepEqual(LAYERS[0], ['core', []], 'src/core imports nothing of tborg');
});

test('layers: every folder of src/ has its place in the table', () => {
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual(folders, LAYERS.map(([folder]) => folder).sort());
});

test('layers: no folder of src/ imports one above it (nothing below src/cli imports src/cli)', () => {
  const graph = importGraph(sourceFiles(SRC));
  const relativeGraph = new Map([...graph].map(([from, targets]) => [relative(SRC, from), targets.map((t) => relative(SRC, t))]));
  const edges = [...relativeGraph.values()].reduce((n, targets) => n + targets.length, 0);
  assert.ok(edges > 100, `only ${edges} imports found in src/: the scanner is broken`);
  const found = layerViolations(relativeGraph);
  assert.deepEqual(found, [], `imports against the layers of src/:\n${found.join('\n')}`);
});
