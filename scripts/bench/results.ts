// The benchmark's results: table rows, goal verdicts and the JSON record (bench-results.json).
// Pure, so the JSON shape and the verdicts are checked by test/unit/bench-smoke.test.ts.
import { formatDeltaMs, formatMs, formatRatio } from './format.js';

export const BENCH_NAMES = ['startup', 'plan', 'streaming', 'handoff', 'contention', 'outage', 'monitoring', 'guard'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

// Benches that run over the lab's sshd in a network namespace: they need root.
export const LAB_BENCHES: readonly BenchName[] = ['handoff', 'contention', 'outage', 'guard'];

const REPORT_SCHEMA = 'tborg-bench/1';

// "yes", "yes (ideal too)", "no", or "—" for a figure that has no goal (information only).
export type Verdict = 'yes' | 'yes (ideal too)' | 'no' | '—';

export interface Row {
  figure: string;
  tborg: string;
  baseline: string;
  result: string;
  goal: string;
  met: Verdict;
}

export interface BenchOutcome {
  name: BenchName;
  rows: Row[];
  // Numbers for the JSON record: medians, samples (rounded), goals and whether they were met.
  data: Record<string, unknown>;
  // false when any goal of this bench was missed; null when it has none or did not finish.
  goalsMet: boolean | null;
  // Set when the bench could not finish; its rows then say so.
  error?: string;
}

// Verdict for "value must be at most `limit`" (and ideally at most `ideal`).
export function judgeAtMost(value: number, limit: number, ideal?: number): Verdict {
  if (!Number.isFinite(value) || value > limit) return 'no';
  return ideal !== undefined && value <= ideal ? 'yes (ideal too)' : 'yes';
}

// Verdict for "value must be under `limit`" (and ideally under `ideal`).
export function judgeBelow(value: number, limit: number, ideal?: number): Verdict {
  if (!Number.isFinite(value) || value >= limit) return 'no';
  return ideal !== undefined && value < ideal ? 'yes (ideal too)' : 'yes';
}

export function judgeTrue(ok: boolean): Verdict {
  return ok ? 'yes' : 'no';
}

// The information row under a time figure: how far tborg is above a do-nothing node wrapper doing
// the same spawning and piping (its "floor"), and what that floor alone costs against the baseline.
export function floorRow(what: string, tborgMs: number, floorMs: number, floorRatio: number): Row {
  return {
    figure: `… floor of any node wrapper (${what})`,
    tborg: `${formatDeltaMs(tborgMs - floorMs)} above the floor`,
    baseline: `floor ${formatMs(floorMs)}`,
    result: `floor alone: ${formatRatio(floorRatio)}`,
    goal: '—',
    met: '—',
  };
}

// false as soon as one row missed its goal; null when no row has a goal.
export function goalsMetOf(rows: readonly Row[]): boolean | null {
  const judged = rows.filter((r) => r.met !== '—');
  if (judged.length === 0) return null;
  return judged.every((r) => r.met !== 'no');
}

export const TABLE_HEADER = ['Figure', 'tborg', 'Baseline (same run)', 'Result', 'Goal', 'Met'] as const;

export function rowCells(row: Row): string[] {
  return [row.figure, row.tborg, row.baseline, row.result, row.goal, row.met];
}

// The row a bench shows when it failed before it could measure.
export function failedRow(name: BenchName, error: string): Row {
  return { figure: name, tborg: 'failed', baseline: '', result: error.split('\n')[0]!.slice(0, 120), goal: '', met: 'no' };
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  borg: string;
  openssh: string;
  python: string;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  date: string;
  tborg: { version: string; commit: string | null };
  options: { quick: boolean; only: BenchName[] };
  machine: MachineInfo;
  // 1-minute load average before and after: other work on the machine makes the numbers noisy.
  load: { start: number; end: number };
  durationSeconds: number;
  goalsMet: boolean | null;
  benches: Partial<Record<BenchName, { goalsMet: boolean | null; error?: string; rows: Row[]; data: Record<string, unknown> }>>;
}

export function buildReport(input: {
  date: Date;
  version: string;
  commit: string | null;
  quick: boolean;
  only: BenchName[];
  machine: MachineInfo;
  load: { start: number; end: number };
  durationSeconds: number;
  outcomes: readonly BenchOutcome[];
}): Report {
  const benches: Report['benches'] = {};
  for (const o of input.outcomes) {
    benches[o.name] = { goalsMet: o.goalsMet, ...(o.error ? { error: o.error } : {}), rows: o.rows, data: o.data };
  }
  const verdicts = input.outcomes.map((o) => o.goalsMet).filter((g): g is boolean => g !== null);
  return {
    schema: REPORT_SCHEMA,
    date: input.date.toISOString(),
    tborg: { version: input.version, commit: input.commit },
    options: { quick: input.quick, only: input.only },
    machine: input.machine,
    load: { start: input.load.start, end: input.load.end },
    durationSeconds: Math.round(input.durationSeconds),
    goalsMet: verdicts.length === 0 ? null : verdicts.every(Boolean),
    benches,
  };
}

// What is wrong with a parsed bench-results.json ([] when nothing): guards the record's shape for
// whoever reads it later (README, a CI job comparing runs).
export function checkReportShape(value: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return ['not an object'];
  if (value.schema !== REPORT_SCHEMA) problems.push(`schema is not ${REPORT_SCHEMA}`);
  if (typeof value.date !== 'string' || Number.isNaN(Date.parse(value.date))) problems.push('date is not an ISO date');
  const machine = value.machine;
  if (!isObject(machine)) problems.push('machine missing');
  else {
    for (const key of ['cpu', 'kernel', 'os', 'node', 'borg', 'openssh', 'python']) {
      if (typeof machine[key] !== 'string') problems.push(`machine.${key} is not a string`);
    }
    for (const key of ['cores', 'memoryGiB']) if (typeof machine[key] !== 'number') problems.push(`machine.${key} is not a number`);
  }
  const load = value.load;
  if (!isObject(load) || typeof load.start !== 'number' || typeof load.end !== 'number') problems.push('load.start/end missing');
  if (!isObject(value.benches)) problems.push('benches missing');
  else {
    for (const [name, bench] of Object.entries(value.benches)) {
      if (!(BENCH_NAMES as readonly string[]).includes(name)) problems.push(`unknown bench ${name}`);
      if (!isObject(bench)) {
        problems.push(`benches.${name} is not an object`);
        continue;
      }
      if (!Array.isArray(bench.rows)) problems.push(`benches.${name}.rows is not an array`);
      else {
        for (const [i, row] of bench.rows.entries()) {
          if (!isObject(row) || ['figure', 'tborg', 'baseline', 'result', 'goal', 'met'].some((k) => typeof row[k] !== 'string')) {
            problems.push(`benches.${name}.rows[${i}] is not a row`);
          }
        }
      }
      if (!isObject(bench.data)) problems.push(`benches.${name}.data is not an object`);
      if (bench.goalsMet !== null && typeof bench.goalsMet !== 'boolean') problems.push(`benches.${name}.goalsMet is not boolean or null`);
    }
  }
  return problems;
}

// Parses --quick, --only NAME[,NAME...] (repeatable) and --out FILE. Unknown words are errors.
export interface BenchOptions {
  quick: boolean;
  only: BenchName[];
  out: string | undefined;
  help: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { quick: false, only: [], out: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`bench: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--only':
        for (const name of value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          if (!(BENCH_NAMES as readonly string[]).includes(name)) {
            throw new Error(`bench: unknown bench '${name}' (one of ${BENCH_NAMES.join(', ')})`);
          }
          if (!options.only.includes(name as BenchName)) options.only.push(name as BenchName);
        }
        break;
      case '--out':
        options.out = value();
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new Error(`bench: unknown argument '${arg}' (try --help)`);
    }
  }
  return options;
}

// JSON with objects indented and arrays of plain values on one line: a record of a few hundred
// samples stays short enough to read in a diff.
export function toCompactJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v ?? null)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + toCompactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toCompactJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value ?? null);
}
