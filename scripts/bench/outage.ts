import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../test/lab/lab.js';
import { describeFailure, sleep, timeChild, waitUntil, type BenchContext } from './context.js';
import { formatSeconds } from './format.js';
import { connectionsOf, initRepos, labTimed, listArchives, lockHeld, tborgArgv } from './lab-helpers.js';
import { goalsMetOf, judgeTrue, type BenchOutcome, type Row } from './results.js';
import { interleave, round, roundAll, summarize } from './stats.js';

// 6. Outage: the guide's failure. A create is cut off mid-upload (iptables DROP on its connection
// alone, in the lab's namespace). Keepalives are shrunk on both ends so it takes seconds: the client's
// ssh gives up after (3+1) x 1 s, the server's sshd (ClientAlive 1 x 3) ends the stale `borg serve`
// and its lock after ~2 x (3+1) x 1 s (docs/facts.md).
//   tborg: TBORG_KEEPALIVE=1x3, TBORG_SERVER_ALIVE=1x3 — one run, until the archive lands.
//   plain borg with the guide's settings: ServerAliveInterval 1 / CountMax 3 in BORG_RSH and
//   --lock-wait 600 — one run (what cron starts); it fails. Then: when the stale lock went, and when a
//   retry started at that moment lands (in real life the retry is the next cron run, hours later).

const BLOB_MIB = 3;
const RATE_KIB = 600; // --upload-ratelimit: the 3 MiB upload takes ~5 s, so the cut lands mid-upload
const CUT_AFTER_LOCK_MS = 1500;

type Variant = 'tborg' | 'borg';

interface OutageResult {
  variant: Variant;
  landed: boolean;
  exitCode: number | null;
  // Seconds after the cut.
  ended: number;
  lockFree: number | null;
  retryLanded: number | null;
}

export async function benchOutage(ctx: BenchContext, lab: Lab): Promise<BenchOutcome> {
  const runs = ctx.quick ? 1 : 3;
  const big = join(lab.dir, 'bench-outage-data');
  mkdirSync(big, { recursive: true });
  // Incompressible, so it really is uploaded at the rate limit.
  writeFileSync(join(big, 'blob'), randomBytes(BLOB_MIB * 1024 * 1024));
  const order = interleave<Variant>(['tborg', 'borg'], runs, ctx.random);
  ctx.log(`outage: ${order.length} trials, initialising repositories`);
  const urls = await initRepos(
    lab,
    order.map((_, i) => `outage-${i}`),
  );
  const guideRsh = `${lab.rsh} -o ServerAliveInterval=1 -o ServerAliveCountMax=3`;
  const argv: Record<Variant, (url: string) => string[]> = {
    tborg: (url) => tborgArgv('create', '--upload-ratelimit', String(RATE_KIB), `${url}::cut`, big),
    borg: (url) => ['borg', '--lock-wait', '600', 'create', '--upload-ratelimit', String(RATE_KIB), `${url}::cut`, big],
  };
  const env: Record<Variant, NodeJS.ProcessEnv> = {
    tborg: lab.env({ TBORG_KEEPALIVE: '1x3', TBORG_SERVER_ALIVE: '1x3' }),
    borg: lab.env({ BORG_RSH: guideRsh }),
  };
  const results: OutageResult[] = [];
  for (const [i, variant] of order.entries()) {
    const name = `outage-${i}`;
    const url = urls[i]!;
    const spawnedAt = Date.now();
    const child = lab.spawn(argv[variant](url), { env: env[variant], stdio: ['ignore', 'pipe', 'pipe'] });
    let ended = false;
    const done = timeChild(child, 600_000).finally(() => (ended = true));
    await waitUntil(`${variant} to take the lock`, () => lockHeld(lab, name), 30_000);
    await sleep(CUT_AFTER_LOCK_MS);
    const ports = await connectionsOf(lab, child.pid!);
    if (ports.length !== 1) throw new Error(`outage: expected one ssh connection of ${variant}, found ${ports.length}`);
    const cut = Date.now();
    await lab.dropConnection(ports[0]!);
    // Watch the lock from the cut on: the first moment it is free is when the stale borg serve left.
    let lockFreeAt: number | null = null;
    while (!ended || (variant === 'borg' && lockFreeAt === null)) {
      if (lockFreeAt === null && !lockHeld(lab, name)) lockFreeAt = Date.now();
      if (Date.now() - cut > 300_000) throw new Error(`outage: ${variant} trial still running 300 s after the cut`);
      await sleep(20);
    }
    const r = await done;
    // Seconds from the cut to the run's exit (timeChild times from spawn to exit).
    const endedAfter = (spawnedAt + r.ms - cut) / 1000;
    let landed = r.code === 0 && (await listArchives(lab, url)).includes('cut');
    let retryLanded: number | null = null;
    if (variant === 'borg') {
      if (landed) throw new Error('outage: plain borg landed despite the cut (the fault did not take)');
      // What the next run with the same settings does once the stale lock is gone.
      const retry = await labTimed(lab, argv.borg(url), env.borg, 600_000);
      if (retry.code !== 0) throw new Error(describeFailure('the retry of plain borg', retry));
      retryLanded = (Date.now() - cut) / 1000;
      landed = false;
    } else if (!landed) {
      ctx.log(`outage: tborg did not land: ${describeFailure('tborg', r)}`);
    }
    await lab.heal();
    const result: OutageResult = {
      variant,
      landed,
      exitCode: r.code,
      ended: endedAfter,
      lockFree: lockFreeAt === null ? null : (lockFreeAt - cut) / 1000,
      retryLanded,
    };
    results.push(result);
    ctx.log(
      `outage: ${i + 1}/${order.length} ${variant}: ` +
        (variant === 'tborg'
          ? `${landed ? 'landed' : `did not land (exit ${r.code})`} ${formatSeconds(result.ended)} after the cut`
          : `exit ${r.code} ${formatSeconds(result.ended)} after the cut, lock free after ${formatSeconds(result.lockFree ?? NaN)}, a retry then landed at ${formatSeconds(retryLanded ?? NaN)}`),
    );
  }
  return summarizeOutage(results, runs);
}

function summarizeOutage(results: OutageResult[], runs: number): BenchOutcome {
  const t = results.filter((r) => r.variant === 'tborg');
  const b = results.filter((r) => r.variant === 'borg');
  const tLanded = t.filter((r) => r.landed);
  const tTime = summarize(tLanded.map((r) => r.ended));
  const bEnded = summarize(b.map((r) => r.ended));
  const bFree = summarize(b.map((r) => r.lockFree ?? NaN));
  const bRetry = summarize(b.map((r) => r.retryLanded ?? NaN));
  const allLanded = t.length > 0 && tLanded.length === t.length;
  const rows: Row[] = [
    {
      figure: 'Outage: create cut off mid-upload, until it lands (keepalive 1 x 3 on both ends)',
      tborg: `lands ${formatSeconds(tTime.median)} after the cut, in one run (${tLanded.length}/${t.length} landed)`,
      baseline: `borg with the guide's settings (ServerAlive, --lock-wait 600): did not land; exit ${b[0]?.exitCode ?? '?'} ${formatSeconds(bEnded.median)} after the cut`,
      result: allLanded ? 'lands; plain borg waits for the next cron run' : 'did not land',
      goal: 'lands in one run',
      met: judgeTrue(allLanded),
    },
    {
      figure: '… plain borg retried the moment the stale lock is gone',
      tborg: `${formatSeconds(tTime.median)}`,
      baseline: `lock gone ${formatSeconds(bFree.median)} after the cut; that retry lands at ${formatSeconds(bRetry.median)}`,
      result: `${formatSeconds(bRetry.median - tTime.median)} later than tborg, at best`,
      goal: '—',
      met: '—',
    },
  ];
  const pick = (xs: OutageResult[], f: (r: OutageResult) => number | null): (number | null)[] =>
    roundAll(
      xs.map((r) => f(r) ?? NaN),
      2,
    );
  return {
    name: 'outage',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      unit: 's after the cut',
      runs,
      blobMiB: BLOB_MIB,
      uploadRateLimitKiB: RATE_KIB,
      tborg: { landed: tLanded.length, runs: t.length, landedMedian: round(tTime.median, 2), samples: pick(t, (r) => r.ended) },
      borg: {
        landed: 0,
        runs: b.length,
        exitCodes: b.map((r) => r.exitCode),
        endedMedian: round(bEnded.median, 2),
        lockFreeMedian: round(bFree.median, 2),
        retryLandedMedian: round(bRetry.median, 2),
        samples: { ended: pick(b, (r) => r.ended), lockFree: pick(b, (r) => r.lockFree), retryLanded: pick(b, (r) => r.retryLanded) },
      },
      goal: { lands: true, met: allLanded },
    },
  };
}
