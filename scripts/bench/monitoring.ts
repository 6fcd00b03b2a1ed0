import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { quote } from 'shlex';
import { describeFailure, runTimed, TBORG, type BenchContext } from './context.js';
import { formatDeltaMs, formatMs, formatRatio } from './format.js';
import { goalsMetOf, judgeAtMost, type BenchOutcome, type Row } from './results.js';
import { interleave, median, ratio, round, roundAll } from './stats.js';

// 7. Monitoring (README "Monitoring"): what the status record, the metrics file and a ping cost, and above all
// that borg starts no later for a run that uses none of them. A stand-in borg (a shell script that
// answers --version and writes the time it started) is run by `tborg create host:repo::a /x` over an
// ssh repository (planned with `ssh -G`, never connected), so the figure is tborg's own time to
// borg's start. Goal: the default run (status record on, written after borg) starts borg within
// 1.05 x of a run with every monitor off (a ratio, like the start-up goal: on a loaded 2-core
// machine the medians of two identical code paths differ by ±25 ms); the ping run shows what
// sending the start ping beside borg costs.

export const MONITORING_GOAL = 1.05;

type Variant = 'off' | 'default' | 'metrics' | 'ping';
const VARIANTS: Variant[] = ['off', 'default', 'metrics', 'ping'];

export async function benchMonitoring(ctx: BenchContext): Promise<BenchOutcome> {
  const runs = ctx.quick ? 8 : 20;
  const mark = join(ctx.tmp, 'monitoring-borg-started');
  const fake = join(ctx.tmp, 'monitoring-borg');
  writeFileSync(fake, `#!/bin/sh\nif [ "$1" = --version ]; then echo "borg 1.2.4"; exit 0; fi\ndate +%s%N > ${quote(mark)}\nexit 0\n`);
  chmodSync(fake, 0o755);
  const sshConfig = join(ctx.tmp, 'monitoring_ssh_config');
  writeFileSync(sshConfig, 'Host host\n  HostName 127.0.0.1\n  User backup\n  ServerAliveInterval 10\n');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('OK'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const base = ['create', 'host:repo::a', '/x'];
  const argv: Record<Variant, string[]> = {
    off: [process.execPath, TBORG, '--tborg-status-file', 'none', ...base],
    default: [process.execPath, TBORG, ...base],
    metrics: [process.execPath, TBORG, '--tborg-metrics-file', join(ctx.tmp, 'monitoring.prom'), ...base],
    ping: [process.execPath, TBORG, '--tborg-ping', `http://127.0.0.1:${port}/ping/x`, ...base],
  };
  const env = ctx.env({ TBORG_BORG: fake, BORG_RSH: `ssh -F ${quote(sshConfig)}`, XDG_STATE_HOME: join(ctx.tmp, 'monitoring-state') });
  const toBorg: Record<Variant, number[]> = { off: [], default: [], metrics: [], ping: [] };
  const total: Record<Variant, number[]> = { off: [], default: [], metrics: [], ping: [] };
  const once = async (v: Variant): Promise<{ toBorgMs: number; ms: number }> => {
    writeFileSync(mark, '');
    const spawnedAt = Date.now();
    const r = await runTimed(argv[v], { env });
    if (r.code !== 0) throw new Error(describeFailure(`tborg (${v})`, r));
    const startedNs = readFileSync(mark, 'utf8').trim();
    if (!/^\d+$/.test(startedNs)) throw new Error(`monitoring: the stand-in borg did not run (${v})`);
    return { toBorgMs: Number(BigInt(startedNs) / 1000n) / 1000 - spawnedAt, ms: r.ms };
  };
  try {
    for (const v of VARIANTS) await once(v); // warm-up: file cache, borg-version cache
    const order = interleave<Variant>(VARIANTS, runs, ctx.random);
    for (const [i, v] of order.entries()) {
      const r = await once(v);
      toBorg[v].push(r.toBorgMs);
      total[v].push(r.ms);
      if ((i + 1) % 20 === 0 || i + 1 === order.length) ctx.log(`monitoring: ${i + 1}/${order.length} runs`);
    }
  } finally {
    server.close();
  }
  const m = (s: Record<Variant, number[]>): Record<Variant, number> => ({
    off: median(s.off),
    default: median(s.default),
    metrics: median(s.metrics),
    ping: median(s.ping),
  });
  const start = m(toBorg);
  const end = m(total);
  const rows: Row[] = [
    {
      figure: 'Monitoring: tborg start → borg start, `tborg create host:repo::a /x`, status record on (default)',
      tborg: formatMs(start.default),
      baseline: `every monitor off ${formatMs(start.off)}`,
      result: `${formatRatio(ratio(start.default, start.off))} (${formatDeltaMs(start.default - start.off)})`,
      goal: `≤ ${MONITORING_GOAL.toFixed(2)} x`,
      met: judgeAtMost(ratio(start.default, start.off), MONITORING_GOAL),
    },
    {
      figure: '… with `--tborg-ping` (start ping sent beside borg)',
      tborg: formatMs(start.ping),
      baseline: `off ${formatMs(start.off)}`,
      result: formatDeltaMs(start.ping - start.off),
      goal: '—',
      met: '—',
    },
    {
      figure: '… whole run: status record / + metrics file / + ping (after borg)',
      tborg: `${formatMs(end.default)} / ${formatMs(end.metrics)} / ${formatMs(end.ping)}`,
      baseline: `off ${formatMs(end.off)}`,
      result: `${formatDeltaMs(end.default - end.off)} / ${formatDeltaMs(end.metrics - end.off)} / ${formatDeltaMs(end.ping - end.off)}`,
      goal: '—',
      met: '—',
    },
  ];
  return {
    name: 'monitoring',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      runs,
      unit: 'ms',
      medianToBorgStart: Object.fromEntries(VARIANTS.map((v) => [v, round(start[v])])),
      medianTotal: Object.fromEntries(VARIANTS.map((v) => [v, round(end[v])])),
      ratio: round(ratio(start.default, start.off), 3),
      goal: { maxRatio: MONITORING_GOAL, met: rows[0]!.met !== 'no' },
      samples: {
        toBorgStart: Object.fromEntries(VARIANTS.map((v) => [v, roundAll(toBorg[v])])),
        total: Object.fromEntries(VARIANTS.map((v) => [v, roundAll(total[v])])),
      },
    },
  };
}
