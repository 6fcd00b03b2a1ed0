// `npm run bench`: tborg's cost and speed beside plain borg, measured in one run on this machine
// (README "Performance"). Prints progress on stderr, the results table (Markdown) on stdout, and writes the
// numbers to bench-results.json (or --out FILE). Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { labAvailable, startLab, type Lab } from '../test/lab/lab.js';
import { TBORG_VERSION } from '../src/cli/version.js';
import { cleanEnv, ROOT, type BenchContext } from './bench/context.js';
import { renderTable } from './bench/format.js';
import { describeMachine, load1, readMachineInfo } from './bench/machine.js';
import {
  BENCH_NAMES,
  buildReport,
  failedRow,
  LAB_BENCHES,
  parseBenchArgs,
  rowCells,
  TABLE_HEADER,
  toCompactJson,
  type BenchName,
  type BenchOutcome,
} from './bench/results.js';

const USAGE = `Usage: npm run bench -- [--quick] [--only NAME[,NAME...]] [--out FILE]
  --quick   fewer runs (a smoke run of every bench in a few minutes)
  --only    run only these benches: ${BENCH_NAMES.join(', ')}
  --out     where to write the JSON record (default: bench-results.json in the repository)
The lab benches (${LAB_BENCHES.join(', ')}) need root: they start a throwaway sshd in a network namespace.`;

function findPython(): string {
  for (const candidate of ['/usr/bin/python3', '/bin/python3']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  const r = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (!found) throw new Error('bench: python3 not found (the streaming stand-in needs it): apt-get install python3');
  return found;
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin'], { cwd: ROOT, encoding: 'utf8' });
  return `${r.stdout.trim()}${dirty.stdout.trim() ? '+dirty' : ''}`;
}

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const selected: BenchName[] = options.only.length > 0 ? BENCH_NAMES.filter((n) => options.only.includes(n)) : [...BENCH_NAMES];
  const labNeeded = selected.some((n) => LAB_BENCHES.includes(n));
  if (labNeeded) {
    if (process.getuid?.() !== 0) {
      console.error(
        `bench: the ${selected.filter((n) => LAB_BENCHES.includes(n)).join(', ')} benches need root: they run a throwaway sshd ` +
          `in a network namespace and inject faults with iptables.\n` +
          `Run as root (sudo npm run bench), or without them: npm run bench -- --only ${selected.filter((n) => !LAB_BENCHES.includes(n)).join(',') || 'startup,plan,streaming'}`,
      );
      return 1;
    }
    const available = labAvailable();
    if (!available.ok) {
      console.error(`bench: the lab cannot start: ${available.why}`);
      return 1;
    }
  }

  const started = Date.now();
  const elapsed = (): string => {
    const s = Math.round((Date.now() - started) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  };
  const tmp = mkdtempSync(join(tmpdir(), 'tborg-bench-'));
  const python = findPython();
  const ctx: BenchContext = {
    tmp,
    quick: options.quick,
    log: (text) => process.stderr.write(`[bench ${elapsed()}] ${text}\n`),
    random: Math.random,
    env: (extra) => cleanEnv(tmp, extra),
    python,
  };
  let lab: Lab | undefined;
  const cleanUp = async (): Promise<void> => {
    await lab?.close().catch(() => undefined);
    lab = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`bench: ${signal}: cleaning up\n`);
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const machine = readMachineInfo(python);
  const loadStart = load1();
  ctx.log(`machine: ${describeMachine(machine)}`);
  ctx.log(
    `load average (1 min) ${loadStart} on ${machine.cores} cores${loadStart > machine.cores * 0.5 ? ': the machine is busy, expect noisy numbers' : ''}`,
  );
  ctx.log(`benches: ${selected.join(', ')}${options.quick ? ' (quick)' : ''}`);

  const outcomes: BenchOutcome[] = [];
  try {
    for (const name of selected) {
      ctx.log(`${name}: start`);
      try {
        let outcome: BenchOutcome;
        if (name === 'guard') {
          // Three labs of its own (sshd defaults with and without the guard, the guide's 10 x 30).
          outcome = await (await import('./bench/guard.js')).benchGuard(ctx);
        } else if (LAB_BENCHES.includes(name)) {
          if (!lab) {
            ctx.log('lab: starting sshd in a network namespace (ClientAlive 1 x 3)');
            lab = await startLab({ clientAlive: { interval: 1, countMax: 3 }, name: 'bench' });
          }
          outcome = await runLabBench(name, ctx, lab);
        } else {
          outcome = await runLocalBench(name, ctx);
        }
        outcomes.push(outcome);
        ctx.log(`${name}: done`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.log(`${name}: FAILED: ${message}`);
        outcomes.push({ name, rows: [failedRow(name, message)], data: {}, goalsMet: false, error: message });
      }
    }
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const loadEnd = load1();
  const report = buildReport({
    date: new Date(started),
    version: TBORG_VERSION,
    commit: gitCommit(),
    quick: options.quick,
    only: options.only,
    machine,
    load: { start: loadStart, end: loadEnd },
    durationSeconds: (Date.now() - started) / 1000,
    outcomes,
  });
  const table = renderTable(
    TABLE_HEADER,
    outcomes.flatMap((o) => o.rows.map(rowCells)),
  );
  process.stdout.write(`${table}\n\nMachine: ${describeMachine(machine)}\n`);
  process.stdout.write(
    `Load average (1 min): ${loadStart} at the start, ${loadEnd} at the end; ${report.durationSeconds} s in all${options.quick ? ' (--quick)' : ''}.\n`,
  );
  const out = options.out
    ? isAbsolute(options.out)
      ? options.out
      : resolve(process.cwd(), options.out)
    : join(ROOT, 'bench-results.json');
  writeFileSync(out, `${toCompactJson(report)}\n`);
  ctx.log(`wrote ${out}`);
  return outcomes.some((o) => o.error) ? 1 : 0;
}

async function runLocalBench(name: BenchName, ctx: BenchContext): Promise<BenchOutcome> {
  switch (name) {
    case 'startup':
      return (await import('./bench/startup.js')).benchStartup(ctx);
    case 'plan':
      return (await import('./bench/plan.js')).benchPlan(ctx);
    case 'streaming':
      return (await import('./bench/streaming.js')).benchStreaming(ctx);
    case 'monitoring':
      return (await import('./bench/monitoring.js')).benchMonitoring(ctx);
    default:
      throw new Error(`bench: ${name} is a lab bench`);
  }
}

async function runLabBench(name: BenchName, ctx: BenchContext, lab: Lab): Promise<BenchOutcome> {
  switch (name) {
    case 'handoff':
      return (await import('./bench/handoff.js')).benchHandoff(ctx, lab);
    case 'contention':
      return (await import('./bench/contention.js')).benchContention(ctx, lab);
    case 'outage':
      return (await import('./bench/outage.js')).benchOutage(ctx, lab);
    default:
      throw new Error(`bench: ${name} is not a lab bench`);
  }
}

process.exitCode = await main(process.argv.slice(2));
