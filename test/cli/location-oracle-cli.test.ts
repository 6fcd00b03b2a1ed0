// Every borg of the version matrix (test/lab/borgs.ts: the machine's borg and borg2, and those of
// the lab's Debian roots, e.g. sid's 2.0.0b25 and trixie's 2.0.0b19) reads the texts of
// test/helpers/location-tables.ts with its own Location class (parseformat.py, with its real
// placeholder expansion and BORG_REPO handling), and tborg's parseLocation for that version must
// read every one of them alike.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLocation } from '../../src/borg/location.js';
import { BORG_LAUNCHER_PREAMBLE, launcherOf } from '../helpers/borg-launcher.js';
import { BORG1, BORG2, GENERATIONS } from '../helpers/location-tables.js';
import { borgLines, inLine } from '../lab/borgs.js';

const CORPUS = [
  ...BORG1.map(([text, , env]) => [text, env?.BORG_REPO ?? null] as const),
  ...BORG2.map(([text, , env]) => [text, env?.BORG_REPO ?? null] as const),
  ...GENERATIONS.map(([text]) => [text, null] as const),
].filter(([text, repo]) => !/[{}]/.test(text) && !/[{}]/.test(repo ?? ''));

const LOCATION_ORACLE = String.raw`
import sys, json, os
${BORG_LAUNCHER_PREAMBLE}
try:
    from borg.helpers.parseformat import Location
except ImportError:
    from borg.helpers import Location
out = []
for text, repo in json.load(sys.stdin):
    os.environ.pop('BORG_REPO', None)
    if repo is not None:
        os.environ['BORG_REPO'] = repo
    try:
        l = Location(text)
        ok = getattr(l, 'valid', True) and l.proto is not None
        d = {k: getattr(l, k, None) for k in ('proto', 'user', 'host', 'port', 'path', 'archive')} if ok else None
        # 2.0.0b22+ hands sftp:, s3:, ... to borgstore unparsed (path None); tborg's path is that URL.
        if d is not None and d['path'] is None and getattr(l, 'processed', None) is not None:
            d['path'] = l.processed
        out.append(d)
    except Exception:
        out.append(None)
print(json.dumps({'version': borg.__version__, 'results': out}))
`;

// The project directory exists inside every root (test/lab/in-root binds it), so the oracle's working
// directory, against which borg2 b13+ makes local paths absolute, is the same for both sides.
const CWD = join(import.meta.dirname, '..', '..', '..');

for (const line of borgLines()) {
  test(`${line.name} ${line.version}: its own Location class and tborg agree on ${CORPUS.length} texts`, () => {
    const found = launcherOf(line);
    assert.equal(typeof found, 'object', String(found));
    const { launcher, python } = found as { launcher: string; python: string };
    const argv = inLine(line, [python, '-c', LOCATION_ORACLE, launcher]);
    const answer = JSON.parse(execFileSync(argv[0]!, argv.slice(1), { input: JSON.stringify(CORPUS), encoding: 'utf8', cwd: CWD })) as {
      version: string;
      results: Array<Record<string, unknown> | null>;
    };
    assert.equal(answer.version, line.version);
    const problems: string[] = [];
    CORPUS.forEach(([text, repo], i) => {
      const env = repo === null ? {} : { BORG_REPO: repo };
      const mine = parseLocation(text, env, line.major, { version: answer.version, cwd: CWD });
      const got = mine
        ? { proto: mine.proto, user: mine.user, host: mine.host, port: mine.port, path: mine.path, archive: mine.archive }
        : null;
      const want = answer.results[i] ?? null;
      if (JSON.stringify(got) !== JSON.stringify(want))
        problems.push(`${JSON.stringify(text)} BORG_REPO=${repo}: borg ${JSON.stringify(want)}, tborg ${JSON.stringify(got)}`);
    });
    assert.deepEqual(problems, []);
  });
}
