import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDeltaMs, formatMiB, formatMs, formatRatio, formatSeconds, renderTable } from '../../scripts/bench/format.js';
import {
  BENCH_NAMES,
  buildReport,
  checkReportShape,
  failedRow,
  goalsMetOf,
  judgeAtMost,
  judgeBelow,
  parseBenchArgs,
  rowCells,
  TABLE_HEADER,
  toCompactJson,
  type BenchOutcome,
  type MachineInfo,
  type Row,
} from '../../scripts/bench/results.js';
import { dealToSlots, interleave, median, ratio, round, shuffle, summarize } from '../../scripts/bench/stats.js';

// The benchmark's pure helpers (scripts/bench/*). The benchmark itself is `npm run bench`, never
// part of `npm test`.

// A fixed "random" sequence, so shuffles are reproducible.
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('stats', () => {
  const medians: [number[], number][] = [
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, 5, 5, 100], 5],
    [[1, NaN, 3], 2],
    [[], NaN],
  ];
  for (const [xs, expected] of medians) {
    test(`median(${JSON.stringify(xs)}) = ${expected}`, () => {
      if (Number.isNaN(expected)) assert.ok(Number.isNaN(median(xs)));
      else assert.equal(median(xs), expected);
    });
  }

  test('median does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    assert.deepEqual(xs, [3, 1, 2]);
  });

  test('summarize', () => {
    assert.deepEqual(summarize([2, 9, 4]), { n: 3, median: 4, min: 2, max: 9 });
    const empty = summarize([]);
    assert.equal(empty.n, 0);
    assert.ok(Number.isNaN(empty.median) && Number.isNaN(empty.min) && Number.isNaN(empty.max));
  });

  test('ratio against the baseline; NaN against nothing', () => {
    assert.equal(ratio(110, 100), 1.1);
    assert.ok(Number.isNaN(ratio(1, 0)));
    assert.ok(Number.isNaN(ratio(1, -5)));
    assert.ok(Number.isNaN(ratio(NaN, 1)));
  });

  test('round', () => {
    assert.equal(round(1.26, 1), 1.3);
    assert.equal(round(1234.5678, 0), 1235);
    assert.equal(round(NaN), null);
  });

  test('shuffle keeps every item and follows the random source', () => {
    const xs = ['a', 'b', 'c', 'd'];
    const s = shuffle(xs, sequence(0));
    assert.deepEqual([...s].sort(), xs);
    assert.deepEqual(s, ['b', 'c', 'd', 'a']);
    assert.deepEqual(xs, ['a', 'b', 'c', 'd'], 'input untouched');
  });

  test('interleave: every round runs every variant once', () => {
    const order = interleave(['node', 'borg', 'tborg'], 4, sequence(0.1, 0.7, 0.4, 0.9));
    assert.equal(order.length, 12);
    for (let r = 0; r < 4; r++) assert.deepEqual(order.slice(r * 3, r * 3 + 3).sort(), ['borg', 'node', 'tborg']);
  });

  test('dealToSlots balances long trials over the lanes', () => {
    const trials = ['L1', 'L2', 'L3', 's1', 's2', 's3', 's4', 's5', 's6'];
    const lanes = dealToSlots(trials, 3, (t) => (t.startsWith('L') ? 60 : 15));
    assert.equal(lanes.length, 3);
    assert.deepEqual(lanes.flat().sort(), [...trials].sort());
    for (const lane of lanes) assert.equal(lane.filter((t) => t.startsWith('L')).length, 1);
    assert.deepEqual(
      dealToSlots(['a'], 0, () => 1),
      [['a']],
    );
  });
});

describe('format', () => {
  const cases: [string, string][] = [
    [formatMs(4.26), '4.3 ms'],
    [formatMs(412.4), '412 ms'],
    [formatMs(1234), '1.23 s'],
    [formatMs(48_500), '48.5 s'],
    [formatMs(NaN), 'n/a'],
    [formatSeconds(0.84), '0.84 s'],
    [formatSeconds(123.4), '123 s'],
    [formatSeconds(-1.5), '-1.50 s'],
    [formatDeltaMs(88.2), '+88 ms'],
    [formatDeltaMs(-3), '-3.0 ms'],
    [formatRatio(1.0449), '1.04 x'],
    [formatRatio(NaN), 'n/a'],
    [formatMiB(62_259), '60.8 MiB'],
  ];
  for (const [actual, expected] of cases) test(`${expected}`, () => assert.equal(actual, expected));

  test('renderTable: a padded Markdown table, pipes in cells escaped', () => {
    const table = renderTable(
      ['Figure', 'Value'],
      [
        ['start-up', '1.05 x'],
        ['a|b', 'x'],
      ],
    );
    assert.equal(table, ['| Figure   | Value  |', '| -------- | ------ |', '| start-up | 1.05 x |', '| a\\|b     | x      |'].join('\n'));
  });

  test("renderTable: missing cells are empty, every line has the header's columns", () => {
    const lines = renderTable(['A', 'B', 'C'], [['1']]).split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.equal(line.split(' | ').length, 3);
  });
});

describe('verdicts', () => {
  test('judgeAtMost / judgeBelow', () => {
    assert.equal(judgeAtMost(1.1, 1.1), 'yes');
    assert.equal(judgeAtMost(1.11, 1.1), 'no');
    assert.equal(judgeAtMost(NaN, 1.1), 'no');
    assert.equal(judgeAtMost(2, 3, 2), 'yes (ideal too)');
    assert.equal(judgeBelow(150, 150), 'no');
    assert.equal(judgeBelow(60, 150, 40), 'yes');
    assert.equal(judgeBelow(39, 150, 40), 'yes (ideal too)');
  });

  test('goalsMetOf: one miss spoils the bench; no goals is null', () => {
    const row = (met: Row['met']): Row => ({ figure: 'f', tborg: '', baseline: '', result: '', goal: '', met });
    assert.equal(goalsMetOf([row('yes'), row('yes (ideal too)')]), true);
    assert.equal(goalsMetOf([row('yes'), row('no')]), false);
    assert.equal(goalsMetOf([row('—')]), null);
    assert.equal(goalsMetOf([]), null);
  });
});

describe('arguments', () => {
  test('defaults', () => {
    assert.deepEqual(parseBenchArgs([]), { quick: false, only: [], out: undefined, help: false });
  });
  test('--quick, --only (comma list, repeated, deduplicated), --out', () => {
    assert.deepEqual(parseBenchArgs(['--quick', '--only', 'startup,plan', '--only=plan', '--out', 'x.json']), {
      quick: true,
      only: ['startup', 'plan'],
      out: 'x.json',
      help: false,
    });
  });
  test('errors', () => {
    assert.throws(() => parseBenchArgs(['--only', 'nope']), /unknown bench 'nope'/);
    assert.throws(() => parseBenchArgs(['--out']), /--out needs a value/);
    assert.throws(() => parseBenchArgs(['--fast']), /unknown argument/);
  });
});

describe('the JSON record', () => {
  const machine: MachineInfo = {
    cpu: 'AMD EPYC',
    cores: 2,
    memoryGiB: 23.5,
    kernel: '6.1.0',
    os: 'Debian GNU/Linux 12 (bookworm)',
    node: 'v20.20.2',
    borg: 'borg 1.2.4',
    openssh: 'OpenSSH_9.2p1',
    python: 'Python 3.11.2',
  };
  const startup: BenchOutcome = {
    name: 'startup',
    rows: [{ figure: 'Start-up', tborg: '330 ms', baseline: '310 ms', result: '1.06 x', goal: '≤ 1.10 x', met: 'yes' }],
    data: { ratio: 1.06 },
    goalsMet: true,
  };
  const failed: BenchOutcome = {
    name: 'outage',
    rows: [failedRow('outage', 'lab: boom\nmore')],
    data: {},
    goalsMet: false,
    error: 'lab: boom',
  };

  function report(outcomes: BenchOutcome[]) {
    return buildReport({
      date: new Date('2026-01-02T03:04:05Z'),
      version: '0.1.0',
      commit: 'abc123',
      quick: false,
      only: [],
      machine,
      load: { start: 0.4, end: 0.6 },
      durationSeconds: 512.4,
      outcomes,
    });
  }

  test('compact JSON: same value as JSON.stringify, arrays of numbers on one line', () => {
    const value = { a: [1, 2.5, null], b: { c: 'x', d: [] as number[], e: [{ f: 1 }] }, g: undefined, h: {} };
    const text = toCompactJson(value);
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    assert.match(text, /"a": \[1, 2\.5, null\]/);
    assert.match(text, /"d": \[\]/);
    assert.equal(toCompactJson([NaN]), '[null]');
  });

  test('shape survives a JSON round trip', () => {
    const parsed: unknown = JSON.parse(toCompactJson(report([startup, failed])));
    assert.deepEqual(checkReportShape(parsed), []);
    const r = parsed as ReturnType<typeof report>;
    assert.equal(r.schema, 'tborg-bench/1');
    assert.equal(r.durationSeconds, 512);
    assert.equal(r.goalsMet, false, 'a failed bench means not every goal was met');
    assert.equal(r.benches.outage?.error, 'lab: boom');
    assert.equal(r.benches.outage?.rows[0]?.result, 'lab: boom', 'first line only');
    assert.deepEqual(Object.keys(r.benches), ['startup', 'outage']);
  });

  test('all met -> goalsMet true; nothing judged -> null', () => {
    assert.equal(report([startup]).goalsMet, true);
    assert.equal(report([]).goalsMet, null);
  });

  test('checkReportShape names what is wrong', () => {
    assert.deepEqual(checkReportShape(null), ['not an object']);
    const broken = JSON.parse(JSON.stringify(report([startup]))) as Record<string, unknown>;
    delete (broken.machine as Record<string, unknown>).borg;
    (broken.benches as Record<string, unknown>).warp = { rows: [], data: {}, goalsMet: null };
    assert.deepEqual(checkReportShape(broken), ['machine.borg is not a string', 'unknown bench warp']);
  });

  test("table rows have the header's columns, one per bench name known", () => {
    assert.equal(rowCells(startup.rows[0]!).length, TABLE_HEADER.length);
    assert.deepEqual([...BENCH_NAMES], ['startup', 'plan', 'streaming', 'handoff', 'contention', 'outage', 'monitoring', 'guard']);
  });
});
