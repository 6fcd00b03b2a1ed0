// Pure formatting for the benchmark's table: numbers as people read them, and a Markdown table
// that is also readable as plain text (columns padded), so the same output goes to a terminal and
// into README.md.

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 10) return `${sign}${abs.toFixed(1)} ms`;
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  return `${sign}${formatSecondsAbs(abs / 1000)}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'n/a';
  return `${seconds < 0 ? '-' : ''}${formatSecondsAbs(Math.abs(seconds))}`;
}

function formatSecondsAbs(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 100) return `${s.toFixed(1)} s`;
  return `${Math.round(s)} s`;
}

// A difference, always signed: "+112 ms".
export function formatDeltaMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 0 ? `+${formatMs(ms)}` : formatMs(ms);
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)} x` : 'n/a';
}

export function formatMiB(kib: number): string {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : 'n/a';
}

export function formatRate(bytes: number, ms: number): string {
  if (!Number.isFinite(bytes) || !Number.isFinite(ms) || ms <= 0) return 'n/a';
  return `${(bytes / (1024 * 1024) / (ms / 1000)).toFixed(0)} MiB/s`;
}

// A Markdown pipe table with padded columns. Pipes inside cells are escaped so a cell never splits.
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapeCell = (cell: string): string => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const all = [header, ...rows].map((r) => header.map((_, i) => escapeCell(r[i] ?? '')));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}
