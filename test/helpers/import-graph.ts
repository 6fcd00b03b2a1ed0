import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

// The import graph of src/, read from the TypeScript sources with the compiler's own import scanner
// (static imports, `import type`, `export ... from`, dynamic import()): for the cycle test and the
// layer test (test/unit/import-cycles.test.ts, test/unit/import-layers.test.ts).

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

// The relative module names one source text imports.
export function importedNames(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((i) => i.fileName);
}

// file -> the files of `files` it imports.
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importedNames(readFileSync(file, 'utf8'))
      .filter((name) => name.startsWith('.'))
      .map((name) => resolve(dirname(file), name).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}
