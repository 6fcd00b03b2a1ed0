import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type Lab } from '../../test/lab/lab.js';
import { describeFailure, sleep, TBORG, timeChild, waitUntil, type BenchContext } from './context.js';
import { formatSeconds } from './format.js';
import { connectionsOf, initRepo, listArchives, lockHeld, tborgArgv } from './lab-helpers.js';
import { goalsMetOf, judgeTrue, type BenchOutcome, type Row } from './results.js';
import { round } from './stats.js';

// 8. Cut to landed (README "The server half"): a create cut off mid-upload (iptables DROP on its
// connection alone), from the cut until the archive is in the repository, on three servers:
//   guard     sshd's defaults (no ClientAlive*: a stale borg serve lives 2 h 11 min), the key's forced
//             command runs tborg's guard, tborg --tborg-server-guard on;
//   default   the same sshd without the guard: tborg waits its W (it assumes the guide's 10 x 30
//             server) and gives up, the stale serve still holding the lock;
//   guide     the guide's server (ClientAlive 10 x 30), no guard: the stale serve goes after ~620 s.
// The client's keepalive is 1 x 3 in all three (it gives up after ~4 s), so the figures show the
// server's part. The three run side by side, each in a lab of its own.

const BLOB_MIB = 3;
const RATE_KIB = 600;
const CUT_AFTER_LOCK_MS = 1500;
type Server = 'guard' | 'default' | 'guide';

interface CutResult {
  server: Server;
  landed: boolean;
  exitCode: number | null;
  // Seconds after the cut: the run's exit.
  ended: number;
  stderrTail: string;
}

async function startServer(server: Server): Promise<Lab> {
  const lab = await startLab({ clientAlive: server === 'guide' ? { interval: 10, countMax: 30 } : null, name: `bench-cut-${server}` });
  if (server !== 'guard') return lab;
  const guard = join(lab.dir, 'server-home', '.local', 'bin', 'tborg-serve-guard');
  const run = join(lab.dir, 'server-run');
  mkdirSync(run, { recursive: true, mode: 0o700 });
  const r = spawnSync(
    process.execPath,
    [TBORG, 'authorized-keys', '--guard', '--guard-path', guard, '--set-env', `XDG_RUNTIME_DIR=${run}`, '-'],
    {
      input: `${lab.clientPublicKey}\n`,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`guard: tborg authorized-keys --guard failed: ${r.stderr}`);
  await lab.setAuthorizedKeys(r.stdout);
  return lab;
}

async function cutOnce(server: Server, lab: Lab, big: string): Promise<CutResult> {
  const url = await initRepo(lab, 'cut');
  const env = lab.env({ TBORG_KEEPALIVE: '1x3', ...(server === 'guard' ? { TBORG_SERVER_GUARD: 'on' } : {}) });
  const child = lab.spawn(tborgArgv('create', '--upload-ratelimit', String(RATE_KIB), `${url}::cut`, big), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnedAt = Date.now();
  const done = timeChild(child, 1_200_000);
  await waitUntil(`${server}: the lock`, () => lockHeld(lab, 'cut'), 30_000);
  await sleep(CUT_AFTER_LOCK_MS);
  const ports = await connectionsOf(lab, child.pid!);
  if (ports.length !== 1) throw new Error(`guard: expected one ssh connection (${server}), found ${ports.length}`);
  const cut = Date.now();
  await lab.dropConnection(ports[0]!);
  const r = await done;
  const landed = r.code === 0 && (await listArchives(lab, url)).includes('cut');
  return {
    server,
    landed,
    exitCode: r.code,
    ended: (spawnedAt + r.ms - cut) / 1000,
    stderrTail: r.stderr.trim().split('\n').slice(-2).join(' | '),
  };
}

export async function benchGuard(ctx: BenchContext): Promise<BenchOutcome> {
  const labs = new Map<Server, Lab>();
  try {
    for (const server of ['guard', 'default', 'guide'] as const) labs.set(server, await startServer(server));
    const big = join(labs.get('guard')!.dir, 'bench-cut-data');
    mkdirSync(big, { recursive: true });
    writeFileSync(join(big, 'blob'), randomBytes(BLOB_MIB * 1024 * 1024));
    ctx.log('guard: cutting a create on three servers at once (the two without the guard take ~11 min)');
    const results = await Promise.all(
      (['guard', 'default', 'guide'] as const).map(async (server) => {
        const result = await cutOnce(server, labs.get(server)!, big);
        ctx.log(
          `guard: ${server}: ${result.landed ? 'landed' : `did not land (exit ${result.exitCode}: ${result.stderrTail})`} ${formatSeconds(result.ended)} after the cut`,
        );
        return result;
      }),
    );
    return summarize(results);
  } catch (error) {
    throw new Error(describeError(error));
  } finally {
    for (const lab of labs.values()) await lab.close().catch(() => undefined);
  }
}

function describeError(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && 'ms' in error)
    return describeFailure('guard', error as Parameters<typeof describeFailure>[1]);
  return error instanceof Error ? error.message : String(error);
}

function summarize(results: CutResult[]): BenchOutcome {
  const by = (s: Server): CutResult => results.find((r) => r.server === s)!;
  const guard = by('guard');
  const plain = by('default');
  const guide = by('guide');
  const outcome = (r: CutResult): string =>
    r.landed ? `lands ${formatSeconds(r.ended)} after the cut` : `gives up ${formatSeconds(r.ended)} after the cut (exit ${r.exitCode})`;
  const rows: Row[] = [
    {
      figure: 'Cut to landed: sshd defaults, the guard (keepalive 1 x 3)',
      tborg: outcome(guard),
      baseline: `sshd defaults, no guard: ${outcome(plain)}`,
      result: guard.landed ? 'lands; without the guard the lock stays 2h11m' : 'did not land',
      goal: 'lands within the client give-up + 5 s + the retry',
      met: judgeTrue(guard.landed),
    },
    {
      figure: "… the guide's 10 x 30 server, no guard",
      tborg: outcome(guide),
      baseline: '—',
      result: guard.landed && guide.landed ? `the guard lands ${formatSeconds(guide.ended - guard.ended)} sooner` : '—',
      goal: '—',
      met: '—',
    },
  ];
  const pick = (r: CutResult): Record<string, unknown> => ({ landed: r.landed, exitCode: r.exitCode, ended: round(r.ended, 2) });
  return {
    name: 'guard',
    rows,
    goalsMet: goalsMetOf(rows),
    data: {
      unit: 's after the cut',
      blobMiB: BLOB_MIB,
      uploadRateLimitKiB: RATE_KIB,
      clientKeepalive: '1x3',
      guard: pick(guard),
      default: pick(plain),
      guide: pick(guide),
    },
  };
}
