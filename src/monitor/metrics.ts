import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StatusRecord } from './status-record.js';

// node_exporter's textfile collector format (the Prometheus text exposition format 0.0.4), one
// series per repository from the status records, so one file serves every cron job on the machine.
// Hand-written: five gauges do not need a client library, and the format's only trap, label value
// escaping, is below (tested against a Prometheus text-format parser).

interface Gauge {
  name: string;
  help: string;
  value(record: StatusRecord): number;
}

const seconds = (iso: string | null): number => (iso === null ? 0 : Date.parse(iso) / 1000);

const GAUGES: readonly Gauge[] = [
  {
    name: 'tborg_last_success_timestamp_seconds',
    help: 'End of the last run of a command that writes (create, prune, ...) that ended with 0 or 1; 0 if never.',
    value: (r) => seconds(r.lastSuccess),
  },
  { name: 'tborg_last_run_timestamp_seconds', help: 'End of the last tborg run on the repository.', value: (r) => seconds(r.end) },
  { name: 'tborg_last_exit_code', help: "borg's exit code of the last run (0 ok, 1 warning, 2 and up error).", value: (r) => r.exitCode },
  { name: 'tborg_lock_wait_seconds', help: 'How long the last run waited for a repository lock.', value: (r) => r.lockWaitSeconds },
  { name: 'tborg_attempts', help: 'borg attempts of the last run (1 when nothing was retried).', value: (r) => r.attempts },
];

// Label values: backslash, double quote and newline are escaped (exposition format spec).
export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

// The whole file: HELP and TYPE once per metric, then one sample per repository.
export function formatMetrics(records: readonly StatusRecord[]): string {
  const lines: string[] = [];
  for (const gauge of GAUGES) {
    lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
    for (const record of records) {
      lines.push(`${gauge.name}{repository="${escapeLabelValue(record.repository)}"} ${gauge.value(record)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// Atomic (temp file + rename in the same directory): node_exporter never reads half a file.
export async function writeMetricsFile(path: string, records: readonly StatusRecord[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, formatMetrics(records), { mode: 0o644 });
  await rename(temp, path);
}
