import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runTimed, TBORG, type BenchContext } from './context.js';
import { formatMiB, formatMs, formatRate, formatRatio } from './format.js';
import { floorRow, goalsMetOf, judgeAtMost, judgeBelow, judgeTrue, type BenchOutcome, type Row } from './results.js';
import { interleave, median, ratio, round, roundAll } from './stats.js';

// 3. Streaming: 1 GiB on stdout and 3 million lines on stderr from a stand-in borg
// (fixtures/bench/stream-borg.py), through tborg and directly. Both streams go to a hashing consumer
// (fixtures/bench/sha256-stream.mjs) in both cases: the bytes must be intact, tborg's peak RSS small
// and its time close to the stand-in's own. Also measured: the floor of any node wrapper
// (fixtures/bench/node-wrapper-floor.mjs: stderr piped through, no scanning), to tell tborg's own
// cost from what passing stderr through node costs.
// A second case measures tborg's stderr scan alone: 3 million lines of a remote borg's debug output
// (`Remote: borg.repository DEBUG ...`, 216 MB) on stderr and nothing on stdout, so that scanning is
// all tborg does beyond the floor; its goal is a ratio to that floor, measured in the same run.

export const STREAM_RSS_GOAL_MIB = 150;
export const STREAM_RSS_IDEAL_MIB = 80;
export const STREAM_TIME_GOAL = 1.05;
export const SCAN_FLOOR_GOAL = 1.15;
const SCAN_PREFIX = 'Remote: borg.repository DEBUG ';

// stdout to one hasher through a pipe, stderr to another through a FIFO; exits with the command's
// code once both hashes are written. Arguments: scratch dir, node, hasher script, the command.
const PIPELINE = `set -u
d=$1; node=$2; hasher=$3; shift 3
"$node" "$hasher" < "$d/err.fifo" > "$d/err.sha" &
h=$!
"$@" 2> "$d/err.fifo" | "$node" "$hasher" > "$d/out.sha"
rc=\${PIPESTATUS[0]}
wait "$h"
exit "$rc"`;

const HASHER = join(ROOT, 'fixtures', 'bench', 'sha256-stream.mjs');

type Variant = 'direct' | 'tborg' | 'floor';
const VARIANTS: Variant[] = ['direct', 'tborg', 'floor'];

interface StandinReport {
  stdoutBytes: number;
  stderrBytes: number;
  selfPeakKiB: number | null;
  parentPeakKiB: number | null;
}

export async function benchStreaming(ctx: BenchContext): Promise<BenchOutcome> {
  const runs = ctx.quick ? 2 : 5;
  const stdoutMiB = 1024;
  const stderrLines = 3_000_000;
  // Outside the package: tborg treats anything inside its own directory as itself, not borg.
  const dir = join(ctx.tmp, 'streaming');
  mkdirSync(dir, { recursive: true });
  const standin = join(dir, 'borg');
  writeFileSync(standin, `#!${ctx.python} -S\n${readFileSync(join(ROOT, 'fixtures', 'bench', 'stream-borg.py'), 'utf8')}`);
  chmodSync(standin, 0o755);
  const borgArgs = ['export-tar', '--list', join(dir, 'no-repo') + '::archive', '-'];
  const argv: Record<Variant, string[]> = {
    direct: [standin, ...borgArgs],
    tborg: [process.execPath, TBORG, ...borgArgs],
    floor: [process.execPath, join(ROOT, 'fixtures', 'bench', 'node-wrapper-floor.mjs'), ...borgArgs],
  };
  let runNo = 0;
  const runOnce = async (
    v: Variant,
    extra: NodeJS.ProcessEnv = {},
  ): Promise<{ ms: number; out: string; err: string; report: StandinReport }> => {
    const d = join(dir, `run-${++runNo}`);
    mkdirSync(d);
    const fifo = spawnSync('mkfifo', [join(d, 'err.fifo')]);
    if (fifo.status !== 0) throw new Error(`mkfifo failed: ${fifo.stderr}`);
    const report = join(d, 'report.json');
    const env = ctx.env({
      TBORG_BORG: standin,
      FLOOR_BORG: standin,
      STANDIN_STDOUT_MIB: String(stdoutMiB),
      STANDIN_STDERR_LINES: String(stderrLines),
      STANDIN_REPORT: report,
      ...extra,
    });
    const r = await runTimed(['bash', '-c', PIPELINE, 'bench-stream', d, process.execPath, HASHER, ...argv[v]], {
      env,
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`streaming (${v}) failed (exit ${r.code ?? r.signal}): ${r.stderr.slice(-500)}`);
    // "<sha256> <bytes>": both must match the reference run.
    const hash = (f: string): string => readFileSync(join(d, f), 'utf8').trim();
    const result = {
      ms: r.ms,
      out: hash('out.sha'),
      err: hash('err.sha'),
      report: JSON.parse(readFileSync(report, 'utf8')) as StandinReport,
    };
    rmSync(d, { recursive: true, force: true });
    return result;
  };

  // Warm-up (page cache, tborg's borg-version cache); the first direct run's hashes are the reference.
  const reference = await runOnce('direct');
  await runOnce('tborg');
  const samples: Record<Variant, number[]> = { direct: [], tborg: [], floor: [] };
  const peaks: number[] = [];
  const standinPeaks: number[] = [];
  let intact = true;
  const mismatches: string[] = [];
  const order = interleave<Variant>(VARIANTS, runs, ctx.random);
  for (const [i, v] of order.entries()) {
    const r = await runOnce(v);
    samples[v].push(r.ms);
    if (r.out !== reference.out || r.err !== reference.err) {
      intact = false;
      mismatches.push(`${v} run ${i + 1}: ${r.out !== reference.out ? 'stdout' : ''}${r.err !== reference.err ? ' stderr' : ''}`);
    }
    if (v === 'tborg' && r.report.parentPeakKiB !== null) peaks.push(r.report.parentPeakKiB);
    if (r.report.selfPeakKiB !== null) standinPeaks.push(r.report.selfPeakKiB);
    ctx.log(
      `streaming: ${i + 1}/${order.length} ${v} ${formatMs(r.ms)}${v === 'tborg' ? `, tborg peak ${formatMiB(r.report.parentPeakKiB ?? NaN)}` : ''}`,
    );
  }
  // The scan case: stderr only, every line a remote one.
  const scanEnv = { STANDIN_STDOUT_MIB: '0', STANDIN_STDERR_PREFIX: SCAN_PREFIX };
  const scanRuns = ctx.quick ? 3 : 9;
  const scanReference = await runOnce('direct', scanEnv);
  const scanSamples: Record<Variant, number[]> = { direct: [], tborg: [], floor: [] };
  let scanIntact = true;
  for (const [i, v] of interleave<Variant>(VARIANTS, scanRuns, ctx.random).entries()) {
    const r = await runOnce(v, scanEnv);
    scanSamples[v].push(r.ms);
    if (r.out !== scanReference.out || r.err !== scanReference.err) scanIntact = false;
    ctx.log(`streaming, stderr scan: ${i + 1}/${scanRuns * VARIANTS.length} ${v} ${formatMs(r.ms)}`);
  }
  const scan = { direct: median(scanSamples.direct), tborg: median(scanSamples.tborg), floor: median(scanSamples.floor) };
  const scanRatio = ratio(scan.tborg, scan.floor);
  const scanLines = `${(stderrLines / 1e6).toFixed(0)} M \`${SCAN_PREFIX.trim().split(' ')[0]} ...\` lines (${formatMiB(scanReference.report.stderrBytes / 1024)})`;

  const m = { direct: median(samples.direct), tborg: median(samples.tborg), floor: median(samples.floor) };
  const timeRatio = ratio(m.tborg, m.direct);
  const floorRatio = ratio(m.floor, m.direct);
  const peakKiB = peaks.length ? Math.max(...peaks) : NaN;
  const bytes = reference.report.stdoutBytes + reference.report.stderrBytes;
  const rows: Row[] = [
    {
      figure: `Streaming ${stdoutMiB} MiB stdout + ${(stderrLines / 1e6).toFixed(0)} M stderr lines: bytes`,
      tborg: intact ? 'same sha256 and length' : 'CHANGED',
      baseline: 'stand-in run directly',
      result: intact ? 'intact' : mismatches.join('; '),
      goal: 'intact',
      met: judgeTrue(intact),
    },
    {
      figure: '… time (both streams hashed)',
      tborg: `${formatMs(m.tborg)} (${formatRate(bytes, m.tborg)})`,
      baseline: `direct ${formatMs(m.direct)} (${formatRate(bytes, m.direct)})`,
      result: formatRatio(timeRatio),
      goal: `≤ ${STREAM_TIME_GOAL.toFixed(2)} x`,
      met: judgeAtMost(timeRatio, STREAM_TIME_GOAL),
    },
    floorRow('stderr piped through, not scanned', m.tborg, m.floor, floorRatio),
    {
      figure: '… peak RSS of tborg (VmHWM)',
      tborg: formatMiB(peakKiB),
      baseline: `stand-in itself ${formatMiB(median(standinPeaks))}`,
      result: formatMiB(peakKiB),
      goal: `< ${STREAM_RSS_GOAL_MIB} MiB (ideal < ${STREAM_RSS_IDEAL_MIB})`,
      met: judgeBelow(peakKiB / 1024, STREAM_RSS_GOAL_MIB, STREAM_RSS_IDEAL_MIB),
    },
    {
      figure: `Stderr scan: ${scanLines} on stderr only`,
      tborg: `${formatMs(scan.tborg)}${scanIntact ? '' : ', bytes CHANGED'}`,
      baseline: `node wrapper floor ${formatMs(scan.floor)}; stand-in directly ${formatMs(scan.direct)}`,
      result: `${formatRatio(scanRatio)} the floor`,
      goal: `≤ ${SCAN_FLOOR_GOAL.toFixed(2)} x the floor`,
      met: scanIntact ? judgeAtMost(scanRatio, SCAN_FLOOR_GOAL) : 'no',
    },
  ];
  return {
    name: 'streaming',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      runs,
      stdoutBytes: reference.report.stdoutBytes,
      stderrBytes: reference.report.stderrBytes,
      stderrLines,
      sha256: { stdout: reference.out, stderr: reference.err },
      intact,
      medianMs: { direct: round(m.direct), tborg: round(m.tborg), nodeWrapperFloor: round(m.floor) },
      timeRatio: round(timeRatio, 3),
      floorRatio: round(floorRatio, 3),
      tborgPeakKiB: Number.isFinite(peakKiB) ? peakKiB : null,
      standinPeakKiB: round(median(standinPeaks), 0),
      goal: {
        intact,
        maxTimeRatio: STREAM_TIME_GOAL,
        peakUnderMiB: STREAM_RSS_GOAL_MIB,
        idealPeakUnderMiB: STREAM_RSS_IDEAL_MIB,
        met: goalsMetOf(rows) === true,
      },
      samples: {
        direct: roundAll(samples.direct),
        tborg: roundAll(samples.tborg),
        nodeWrapperFloor: roundAll(samples.floor),
        tborgPeakKiB: peaks,
      },
      stderrScan: {
        runs: scanRuns,
        linePrefix: SCAN_PREFIX,
        stderrBytes: scanReference.report.stderrBytes,
        sha256: scanReference.err,
        intact: scanIntact,
        medianMs: { direct: round(scan.direct), tborg: round(scan.tborg), nodeWrapperFloor: round(scan.floor) },
        floorRatio: round(scanRatio, 3),
        goal: { maxFloorRatio: SCAN_FLOOR_GOAL, met: scanIntact && scanRatio <= SCAN_FLOOR_GOAL },
        samples: {
          direct: roundAll(scanSamples.direct),
          tborg: roundAll(scanSamples.tborg),
          nodeWrapperFloor: roundAll(scanSamples.floor),
        },
      },
    },
  };
}
