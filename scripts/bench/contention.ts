import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../test/lab/lab.js';
import { describeFailure, type BenchContext } from './context.js';
import { formatRatio, formatSeconds } from './format.js';
import { initRepo, labTimed, listArchives, tborgArgv } from './lab-helpers.js';
import { goalsMetOf, judgeTrue, type BenchOutcome, type Row } from './results.js';
import { median, ratio, round, roundAll, shuffle } from './stats.js';

// 5. Contention: N tborg clients (N = 5, 10) start `create` of a small directory together against
// one repository over the lab's sshd. Every archive must land; the makespan (first start to last
// exit) is set against N x the solo time. Each client has a borg cache of its own, as N machines
// would; the solo time is the median of the same N clients run one after another (so it includes the
// same cache resyncs a concurrent round does).

const CLIENT_COUNTS = [5, 10] as const;

interface Round {
  kind: 'serial' | 'concurrent';
  ms: number;
  // serial: each create's own time
  each: number[];
  landed: number;
}

export async function benchContention(ctx: BenchContext, lab: Lab): Promise<BenchOutcome> {
  // Rounds per client count. One round of 10 is ~1 min on 2 cores, so 10 clients get one round.
  const repsFor = (n: number): number => (ctx.quick || n >= 10 ? 1 : 2);
  const data = join(lab.dir, 'bench-contention-data');
  mkdirSync(data, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const text = `file ${i}\n`.repeat(1000);
    writeFileSync(join(data, `f${i}`), text);
    bytes += text.length;
  }
  const rows: Row[] = [];
  const record: Record<string, unknown> = { files: 20, bytes };
  for (const n of CLIENT_COUNTS) {
    const url = await initRepo(lab, `contend-${n}`);
    const clientEnv = Array.from({ length: n }, (_, i) => lab.env({ BORG_BASE_DIR: join(lab.dir, 'bench-clients', `n${n}-c${i}`) }));
    const create = async (i: number, archive: string): Promise<number> => {
      const r = await labTimed(lab, tborgArgv('create', `${url}::${archive}`, data), clientEnv[i], 600_000);
      if (r.code !== 0) throw new Error(describeFailure(`tborg create ${archive}`, r));
      return r.ms;
    };
    const concurrent = async (tag: string): Promise<Round> => {
      const started = process.hrtime.bigint();
      await Promise.all(clientEnv.map((_, i) => create(i, `${tag}-c${i}`)));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const names = await listArchives(lab, url);
      const landed = clientEnv.filter((_, i) => names.includes(`${tag}-c${i}`)).length;
      return { kind: 'concurrent', ms, each: [], landed };
    };
    const serial = async (tag: string): Promise<Round> => {
      const each: number[] = [];
      for (const i of clientEnv.keys()) each.push(await create(i, `${tag}-c${i}`));
      const names = await listArchives(lab, url);
      const landed = clientEnv.filter((_, i) => names.includes(`${tag}-c${i}`)).length;
      return { kind: 'serial', ms: each.reduce((a, b) => a + b, 0), each, landed };
    };
    // Warm-up (not timed): every client builds its cache; also a first check that all land.
    ctx.log(`contention: ${n} clients, warm-up round`);
    const warm = await concurrent(`w`);
    const rounds: Round[] = [];
    for (let rep = 1; rep <= repsFor(n); rep++) {
      for (const kind of shuffle(['serial', 'concurrent'] as const, ctx.random)) {
        const round_ = kind === 'serial' ? await serial(`s${rep}`) : await concurrent(`p${rep}`);
        rounds.push(round_);
        ctx.log(`contention: ${n} clients, ${kind} round ${rep}: ${formatSeconds(round_.ms / 1000)}, ${round_.landed}/${n} landed`);
      }
    }
    const solo = median(rounds.filter((r) => r.kind === 'serial').flatMap((r) => r.each));
    const makespans = rounds.filter((r) => r.kind === 'concurrent').map((r) => r.ms);
    const makespan = median(makespans);
    const concurrentRounds = [warm, ...rounds.filter((r) => r.kind === 'concurrent')];
    const allLanded = rounds.every((r) => r.landed === n) && warm.landed === n;
    const landedTotal = concurrentRounds.reduce((a, r) => a + r.landed, 0);
    const r = ratio(makespan, n * solo);
    rows.push({
      figure: `Contention: ${n} tborg creates at once on one repository`,
      tborg: `makespan ${formatSeconds(makespan / 1000)}; ${landedTotal}/${n * concurrentRounds.length} archives landed`,
      baseline: `${n} x solo ${formatSeconds(solo / 1000)} = ${formatSeconds((n * solo) / 1000)}`,
      result: formatRatio(r),
      goal: 'every archive lands',
      met: judgeTrue(allLanded),
    });
    record[`clients${n}`] = {
      rounds: repsFor(n),
      soloMedianMs: round(solo),
      makespanMedianMs: round(makespan),
      ratioToSerial: round(r, 3),
      allLanded,
      landed: landedTotal,
      expected: n * concurrentRounds.length,
      warmupMakespanMs: round(warm.ms),
      samples: {
        soloMs: roundAll(
          rounds.filter((x) => x.kind === 'serial').flatMap((x) => x.each),
          0,
        ),
        makespanMs: roundAll(makespans, 0),
      },
    };
  }
  return { name: 'contention', rows, goalsMet: goalsMetOf(rows), data: record };
}
