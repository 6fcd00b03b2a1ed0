// Pure arithmetic for the benchmark: medians of interleaved runs and the figures built from them.
// No I/O here, so test/unit/bench-smoke.test.ts checks it as a table.

// The middle value (mean of the two middle values for an even count); NaN for no samples, so a
// bench that measured nothing cannot pass for one that measured zero.
export function median(samples: readonly number[]): number {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const xs = samples.filter((x) => Number.isFinite(x));
  return {
    n: xs.length,
    median: median(xs),
    min: xs.length ? Math.min(...xs) : NaN,
    max: xs.length ? Math.max(...xs) : NaN,
  };
}

// value / baseline; NaN when the baseline is not a positive number (a ratio against nothing).
export function ratio(value: number, baseline: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline <= 0) return NaN;
  return value / baseline;
}

// Rounds for the JSON record: enough digits for the figure, none of the float noise.
export function round(value: number, digits = 1): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function roundAll(values: readonly number[], digits = 1): (number | null)[] {
  return values.map((v) => round(v, digits));
}

// Fisher-Yates with an injected random source, so the order of runs is random in the bench and
// fixed in the test.
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const xs = [...items];
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

// `runs` rounds, each running every variant once in a fresh random order: a slow spell on a shared
// machine then hits every variant alike instead of all runs of one.
export function interleave<T>(variants: readonly T[], runs: number, random: () => number): T[] {
  const order: T[] = [];
  for (let r = 0; r < runs; r++) order.push(...shuffle(variants, random));
  return order;
}

// Deals trials to `slots` parallel lanes, longest first onto the least loaded lane, so lanes finish
// at about the same time. `cost` estimates a trial's duration.
export function dealToSlots<T>(trials: readonly T[], slots: number, cost: (t: T) => number): T[][] {
  const lanes: { load: number; items: T[] }[] = Array.from({ length: Math.max(1, slots) }, () => ({ load: 0, items: [] }));
  const sorted = [...trials].map((t, i) => ({ t, i, c: cost(t) })).sort((a, b) => b.c - a.c || a.i - b.i);
  for (const { t, c } of sorted) {
    const lane = lanes.reduce((best, l) => (l.load < best.load ? l : best), lanes[0]!);
    lane.items.push(t);
    lane.load += c;
  }
  return lanes.map((l) => l.items);
}
