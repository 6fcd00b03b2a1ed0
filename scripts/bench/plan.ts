import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from 'shlex';
import { describeFailure, runTimed, TBORG, type BenchContext } from './context.js';
import { formatDeltaMs, formatMs } from './format.js';
import { goalsMetOf, judgeBelow, type BenchOutcome, type Row } from './results.js';
import { interleave, median, round, roundAll } from './stats.js';

// 2. Planning an ssh repository: `tborg plan --json create host:repo::a /x` beyond a bare `node -e 0`.
// BORG_RSH points ssh at a config of the bench's own (`ssh -F`), so no real ~/.ssh is read; planning
// runs `ssh -G` (never a connection). Goal: under 150 ms, ideally under 40.

export const PLAN_GOAL_MS = 150;
export const PLAN_IDEAL_MS = 40;

type Variant = 'node' | 'plan' | 'planBatch';

export async function benchPlan(ctx: BenchContext): Promise<BenchOutcome> {
  const runs = ctx.quick ? 8 : 20;
  // A typical backup host block. The BatchMode variant costs one more `ssh -G`: Debian's ssh turns
  // BatchMode into a ServerAliveInterval of 300 that tborg must tell from a configured one.
  const plain = join(ctx.tmp, 'plan_ssh_config');
  writeFileSync(plain, 'Host host\n  HostName 127.0.0.1\n  User backup\n  IdentityFile /nonexistent/id_ed25519\n');
  const batch = join(ctx.tmp, 'plan_ssh_config_batch');
  writeFileSync(batch, 'Host host\n  HostName 127.0.0.1\n  User backup\n  IdentityFile /nonexistent/id_ed25519\n  BatchMode yes\n');
  const planArgv = [process.execPath, TBORG, 'plan', '--json', 'create', 'host:repo::a', '/x'];
  const argv: Record<Variant, string[]> = { node: [process.execPath, '-e', '0'], plan: planArgv, planBatch: planArgv };
  const env: Record<Variant, NodeJS.ProcessEnv> = {
    node: ctx.env(),
    plan: ctx.env({ BORG_RSH: `ssh -F ${quote(plain)}` }),
    planBatch: ctx.env({ BORG_RSH: `ssh -F ${quote(batch)}` }),
  };
  for (const v of ['node', 'plan', 'planBatch', 'plan'] as Variant[]) {
    const r = await runTimed(argv[v], { env: env[v] });
    if (r.code !== 0) throw new Error(describeFailure(`tborg plan (${v})`, r));
    if (v !== 'node') {
      const plan = JSON.parse(r.stdout) as { repository?: { host?: string }; keepalive?: string };
      if (plan.repository?.host !== 'host') throw new Error(`tborg plan did not plan the ssh repository: ${r.stdout.slice(0, 200)}`);
    }
  }
  const samples: Record<Variant, number[]> = { node: [], plan: [], planBatch: [] };
  const order = interleave<Variant>(['node', 'plan', 'planBatch'], runs, ctx.random);
  for (const [i, v] of order.entries()) {
    const r = await runTimed(argv[v], { env: env[v] });
    if (r.code !== 0) throw new Error(describeFailure(`tborg plan (${v})`, r));
    samples[v].push(r.ms);
    if ((i + 1) % 15 === 0 || i + 1 === order.length) ctx.log(`plan: ${i + 1}/${order.length} runs`);
  }
  const m = { node: median(samples.node), plan: median(samples.plan), planBatch: median(samples.planBatch) };
  const beyond = m.plan - m.node;
  const beyondBatch = m.planBatch - m.node;
  // Both figures are judged against the same goal, beyond the same bare node.
  const row = (figure: string, ms: number, beyondNode: number): Row => ({
    figure,
    tborg: formatMs(ms),
    baseline: `node -e 0 ${formatMs(m.node)}`,
    result: formatDeltaMs(beyondNode),
    goal: `< ${PLAN_GOAL_MS} ms (ideal < ${PLAN_IDEAL_MS})`,
    met: judgeBelow(beyondNode, PLAN_GOAL_MS, PLAN_IDEAL_MS),
  });
  const rows: Row[] = [
    row('Plan an ssh repository: `tborg plan --json create host:repo::a /x`', m.plan, beyond),
    row('… same with `BatchMode yes` (one more `ssh -G`)', m.planBatch, beyondBatch),
  ];
  return {
    name: 'plan',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      runs,
      unit: 'ms',
      median: { node: round(m.node), plan: round(m.plan), planBatchMode: round(m.planBatch) },
      beyondNodeMs: round(beyond),
      beyondNodeBatchModeMs: round(beyondBatch),
      goal: { underMs: PLAN_GOAL_MS, idealUnderMs: PLAN_IDEAL_MS, met: rows[0]!.met !== 'no' },
      samples: { node: roundAll(samples.node), plan: roundAll(samples.plan), planBatchMode: roundAll(samples.planBatch) },
    },
  };
}
