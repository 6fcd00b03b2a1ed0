import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// README "Development" has one row per folder of src/ (what it makes, the files to start with), so a
// newcomer's map is the tree: a folder added, moved or removed changes the table in the same commit,
// and every file the table names as a start exists.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('README "Development": one table row per folder of src/, naming files that exist', () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('\n## Development'), readme.indexOf('\n## ', readme.indexOf('\n## Development') + 1));
  const rows = section.split('\n').filter((l) => /^\| `src\/[^`]+\/` \|/.test(l));
  const folders = rows.map((l) => /^\| `src\/([^`]+)\/`/.exec(l)![1]!);
  const tree = readdirSync(`${ROOT}src`, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  assert.deepEqual([...folders].sort(), [...tree].sort());
  for (const [i, row] of rows.entries()) {
    const starts = row.split('|').at(-2)!;
    for (const [, name] of starts.matchAll(/`([\w./-]+\.ts)`/g)) {
      const inFolder = readdirSync(`${ROOT}src/${folders[i]}`, { recursive: true }).map(String);
      assert.ok(inFolder.includes(name!), `README names ${name} as a start of src/${folders[i]}/, which has no such file`);
    }
  }
});
