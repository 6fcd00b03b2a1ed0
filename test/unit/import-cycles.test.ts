import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importedNames, importGraph, sourceFiles } from '../helpers/import-graph.js';

// No module of src/ may import itself back through others, type-only imports included (a reader
// cannot tell the flow from a cycle, and `npx madge --circular` counts them too). The graph is read
// from the TypeScript sources with the compiler's own import scanner (test/helpers/import-graph.ts).
// Which folder may import which: test/unit/import-layers.test.ts.

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

// The strongly connected components with more than one module, or one that imports itself: each is
// a set of modules that import one another in a circle (Tarjan's algorithm).
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

const graphs: Array<[string, Record<string, string[]>, string[][]]> = [
  ['a chain', { a: ['b'], b: ['c'], c: [] }, []],
  ['a diamond', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, []],
  ['two modules importing each other', { a: ['b'], b: ['a'] }, [['a', 'b']]],
  ['a ring through three', { main: ['cmd'], cmd: ['ctx'], ctx: ['main'], other: ['main'] }, [['cmd', 'ctx', 'main']]],
  ['a module importing itself', { a: ['a'], b: [] }, [['a']]],
  [
    'two separate rings',
    { a: ['b'], b: ['a'], c: ['d'], d: ['c'] },
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
  ],
];

for (const [name, edges, expected] of graphs) {
  test(`cycles: ${name}`, () => {
    const found = cycles(new Map(Object.entries(edges)));
    assert.deepEqual(
      found.sort((x, y) => x[0]!.localeCompare(y[0]!)),
      expected,
    );
  });
}

test('the import scanner sees every kind of import a cycle can run through', () => {
  const source = `import type { A } from './a.js';\nimport {\n  b,\n} from '../b.js';\nexport { c } from './c.js';\nimport './d.js';\nconst e = await import('./e.js');\nimport f from 'node:fs';\n`;
  const names = importedNames(source);
  assert.deepEqual(names.sort(), ['../b.js', './a.js', './c.js', './d.js', './e.js', 'node:fs']);
});

test('src/ has no import cycle', () => {
  const files = sourceFiles(SRC);
  const graph = importGraph(files);
  assert.ok(files.length > 20, `found only ${files.length} source files under ${SRC}`);
  // The graph is real (a broken resolver would find no edge, and so no cycle).
  const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
  assert.ok(edges >= files.length, `only ${edges} imports between ${files.length} source files`);
  const found = cycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' <-> '));
  assert.deepEqual(found, [], `import cycles in src/:\n${found.join('\n')}`);
});
