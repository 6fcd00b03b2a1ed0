import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirectory } from '../process/state-files.js';
import { listCountedRuns, type CountedRun, type RunSummary, type StatusRecord } from './status-record.js';

// node_exporter's textfile collector format (the Prometheus text exposition format 0.0.4), one
// series per repository and kind (`backup`, or a maintenance command's name: node_exporter's own
// textfile conventions, e.g. *_timestamp_seconds) from the status records, so one file serves every
// cron job on the machine.
// Hand-written: five gauges do not need a client library, and the format's only trap, label value
// escaping, is below (tested against a Prometheus text-format parser).

interface Gauge {
  name: string;
  help: string;
  value(run: RunSummary): number;
}

const seconds = (iso: string | null): number => (iso === null ? 0 : Date.parse(iso) / 1000);

const GAUGES: readonly Gauge[] = [
  {
    name: 'tborg_last_success_timestamp_seconds',
    help: 'End of the last run of this kind (backup: create, import-tar; or prune, compact, check, ...) that succeeded; 0 if never.',
    value: (r) => seconds(r.lastSuccess),
  },
  { name: 'tborg_last_run_timestamp_seconds', help: 'End of the last run of this kind.', value: (r) => seconds(r.end) },
  { name: 'tborg_last_exit_code', help: "borg's exit code of the last run (0 ok, 1 warning, 2 and up error).", value: (r) => r.exitCode },
  { name: 'tborg_lock_wait_seconds', help: 'How long the last run waited for a repository lock.', value: (r) => r.lockWaitSeconds },
  { name: 'tborg_attempts', help: 'borg attempts of the last run (1 when nothing was retried).', value: (r) => r.attempts },
];

// Label values: backslash, double quote and newline are escaped (exposition format spec).
export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

// The whole file: HELP and TYPE once per metric, then one sample per repository and kind (the
// runs `tborg status` counts at `now`: status-record.ts listCountedRuns).
export function formatMetrics(records: readonly StatusRecord[], now: number): string {
  const runs: CountedRun[] = listCountedRuns(records, now);
  const lines: string[] = [];
  for (const gauge of GAUGES) {
    lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
    for (const { repository, kind, run } of runs) {
      lines.push(`${gauge.name}{repository="${escapeLabelValue(repository)}",kind="${escapeLabelValue(kind)}"} ${gauge.value(run)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// Atomic (temp file + rename in the same directory): node_exporter never reads half a file.
export async function writeMetricsFile(path: string, records: readonly StatusRecord[], now = Date.now()): Promise<void> {
  await makeDirectory(dirname(path), 0o755);
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, formatMetrics(records, now), { mode: 0o644 });
  await rename(temp, path);
}
