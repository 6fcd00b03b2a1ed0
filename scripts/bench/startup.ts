import { join } from 'node:path';
import { describeFailure, ROOT, runTimed, TBORG, type BenchContext } from './context.js';
import { formatMs, formatRatio } from './format.js';
import { floorRow, goalsMetOf, judgeAtMost, type BenchOutcome, type Row } from './results.js';
import { interleave, median, ratio, roundAll, round } from './stats.js';

// 1. Start-up: `tborg --version` (passed to borg, version cache warm) against `borg --version` plus a
// bare `node -e 0`, the two processes tborg cannot avoid. Goal: at most 1.10 x their sum.
// Also measured: the floor of any node wrapper (fixtures/bench/node-wrapper-floor.mjs: spawn borg,
// pipe its stderr through, nothing else), to tell tborg's own cost from what node itself costs.
// And two parts of tborg's own cost: the exec shim (src/run/exec-shim.ts: python3 between tborg and borg;
// `noShim` is tborg with TBORG_EXEC_SHIM=off), and bin/tborg.js's sh line (`bin` runs the file as a
// program, as an installed `tborg` runs, where the others run `node bin/tborg.js`).

export const STARTUP_GOAL = 1.1;

type Variant = 'node' | 'borg' | 'tborg' | 'floor' | 'noShim' | 'bin';
const VARIANTS: Variant[] = ['node', 'borg', 'tborg', 'floor', 'noShim', 'bin'];

export async function benchStartup(ctx: BenchContext): Promise<BenchOutcome> {
  const runs = ctx.quick ? 10 : 30;
  const env = ctx.env();
  const argv: Record<Variant, string[]> = {
    node: [process.execPath, '-e', '0'],
    borg: ['borg', '--version'],
    tborg: [process.execPath, TBORG, '--version'],
    floor: [process.execPath, join(ROOT, 'fixtures', 'bench', 'node-wrapper-floor.mjs'), '--version'],
    noShim: [process.execPath, TBORG, '--version'],
    bin: [TBORG, '--version'],
  };
  const envOf = (v: Variant): NodeJS.ProcessEnv => (v === 'noShim' ? { ...env, TBORG_EXEC_SHIM: 'off' } : env);
  // Warm-up: file cache, and tborg's borg-version cache (a first run asks borg and writes it).
  for (const v of [...VARIANTS, 'tborg'] as Variant[]) {
    const r = await runTimed(argv[v], { env: envOf(v) });
    if (r.code !== 0) throw new Error(describeFailure(argv[v].join(' '), r));
    if (v !== 'node' && v !== 'borg' && !/borg \d/.test(r.stdout))
      throw new Error(`tborg --version printed ${JSON.stringify(r.stdout)}, not borg's version`);
  }
  const samples: Record<Variant, number[]> = { node: [], borg: [], tborg: [], floor: [], noShim: [], bin: [] };
  const order = interleave<Variant>(VARIANTS, runs, ctx.random);
  for (const [i, v] of order.entries()) {
    const r = await runTimed(argv[v], { env: envOf(v) });
    if (r.code !== 0) throw new Error(describeFailure(argv[v].join(' '), r));
    samples[v].push(r.ms);
    if ((i + 1) % 20 === 0 || i + 1 === order.length) ctx.log(`startup: ${i + 1}/${order.length} runs`);
  }
  const m = {
    node: median(samples.node),
    borg: median(samples.borg),
    tborg: median(samples.tborg),
    floor: median(samples.floor),
    noShim: median(samples.noShim),
    bin: median(samples.bin),
  };
  const baseline = m.borg + m.node;
  const r = ratio(m.tborg, baseline);
  const rFloor = ratio(m.floor, baseline);
  const rows: Row[] = [
    {
      figure: 'Start-up: `tborg --version` (passed to borg)',
      tborg: formatMs(m.tborg),
      baseline: `borg ${formatMs(m.borg)} + node -e 0 ${formatMs(m.node)} = ${formatMs(baseline)}`,
      result: `${formatRatio(r)} (${m.tborg - baseline >= 0 ? '+' : ''}${formatMs(m.tborg - baseline)})`,
      goal: `≤ ${STARTUP_GOAL.toFixed(2)} x`,
      met: judgeAtMost(r, STARTUP_GOAL),
    },
    floorRow('spawn borg, pipe its stderr, nothing else', m.tborg, m.floor, rFloor),
    {
      figure: "… of which the exec shim (python3 hands over to borg) and bin's sh line",
      tborg: `shim ${formatMs(m.tborg - m.noShim)}, sh line ${formatMs(m.bin - m.tborg)}`,
      baseline: `TBORG_EXEC_SHIM=off ${formatMs(m.noShim)}; as a program ${formatMs(m.bin)}`,
      result: '—',
      goal: '—',
      met: '—',
    },
  ];
  return {
    name: 'startup',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      runs,
      unit: 'ms',
      median: {
        node: round(m.node),
        borg: round(m.borg),
        tborg: round(m.tborg),
        nodeWrapperFloor: round(m.floor),
        tborgWithoutShim: round(m.noShim),
        tborgAsProgram: round(m.bin),
      },
      shimMs: round(m.tborg - m.noShim),
      shLineMs: round(m.bin - m.tborg),
      baselineMs: round(baseline),
      ratio: round(r, 3),
      overheadMs: round(m.tborg - baseline),
      floorRatio: round(rFloor, 3),
      tborgAboveFloorMs: round(m.tborg - m.floor),
      goal: { maxRatio: STARTUP_GOAL, met: rows[0]!.met !== 'no' },
      samples: {
        node: roundAll(samples.node),
        borg: roundAll(samples.borg),
        tborg: roundAll(samples.tborg),
        nodeWrapperFloor: roundAll(samples.floor),
        tborgWithoutShim: roundAll(samples.noShim),
        tborgAsProgram: roundAll(samples.bin),
      },
    },
  };
}
