import { UsageError } from './errors.js';

// Durations as people write them in cron lines and unit files: `90` (seconds), `90s`, `15m`, `1h30m`,
// `2d`. Used by --tborg-connect-wait and `tborg status --max-age`.
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

// Parses a duration into whole seconds; one clear line (UsageError, exit 2) for anything else.
export function parseDuration(value: string, where: string): number {
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  const parts = /^(?:\d+[smhd])+$/.test(text) ? [...text.matchAll(/(\d+)([smhd])/g)] : [];
  if (parts.length === 0) {
    throw new UsageError(`${where}: expected a duration such as 90, 90s, 15m, 1h30m or 2d, got '${value}'`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
}
