import { parseDuration } from '../../core/duration.js';
import { formatDuration } from '../../plan/lock-wait.js';
import type { CommandContext } from '../command-context.js';
import { readAllRecords, type StatusRecord } from '../../monitor/status-record.js';

// status's words, as the one parser (own-commands.ts) reads them.
export interface StatusArgs {
  json: boolean;
  maxAge: string | undefined;
}

// One repository's verdict, for the text line and --json.
export interface StatusLine {
  repository: string;
  state: 'ok' | 'failed' | 'stale';
  lastSuccessAgeSeconds: number | null;
  record: StatusRecord;
}

// Judges each record: failed (the last run ended 2 or up), stale (no success within maxAge), ok.
export function judgeRecords(records: readonly StatusRecord[], now: number, maxAgeSeconds: number | undefined): StatusLine[] {
  return records.map((record) => {
    const age = record.lastSuccess === null ? null : Math.max(0, Math.round((now - Date.parse(record.lastSuccess)) / 1000));
    const failed = record.exitCode !== 0 && record.exitCode !== 1;
    const stale = maxAgeSeconds !== undefined && (age === null || age > maxAgeSeconds);
    return { repository: record.repository, state: failed ? 'failed' : stale ? 'stale' : 'ok', lastSuccessAgeSeconds: age, record };
  });
}

// The human line: verdict, repository, last success and its age, the last run and its waits.
export function formatStatusLine(line: StatusLine): string {
  const r = line.record;
  const success = r.lastSuccess === null ? 'never' : `${r.lastSuccess} (${formatDuration(line.lastSuccessAgeSeconds ?? 0)} ago)`;
  const waits = [
    r.lockWaitSeconds > 0 ? `waited ${formatDuration(r.lockWaitSeconds)} for the lock` : '',
    r.unreachableRetries > 0 ? `${r.unreachableRetries} unreachable` : '',
    r.connectionRetries > 0 ? `${r.connectionRetries} lost connection${r.connectionRetries > 1 ? 's' : ''}` : '',
  ].filter(Boolean);
  return (
    `${line.state.padEnd(6)} ${r.repository}  last success ${success}; last run ${r.command} at ${r.end} exit ${r.exitCode}, ` +
    `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${waits.length > 0 ? `, ${waits.join(', ')}` : ''}`
  );
}

// `tborg status`: a local check for cron or a monitoring agent.
export async function runStatusCommand(context: CommandContext, args: StatusArgs): Promise<number> {
  const maxAge = args.maxAge === undefined ? undefined : parseDuration(args.maxAge, '--max-age');
  const records = await readAllRecords(context.options.statusFile ?? undefined, context.env);
  const lines = judgeRecords(records, Date.now(), maxAge);
  const exitCode = lines.length === 0 ? 2 : lines.every((l) => l.state === 'ok') ? 0 : 1;
  if (args.json) {
    const repositories = lines.map((l) => ({ ...l.record, state: l.state, lastSuccessAgeSeconds: l.lastSuccessAgeSeconds }));
    context.terminal.out(`${JSON.stringify({ exitCode, maxAgeSeconds: maxAge ?? null, repositories }, null, 2)}\n`);
  } else if (lines.length === 0) {
    context.terminal.error('no status records yet (they are written after each run that opens a repository)', 'status');
  } else {
    context.terminal.out(lines.map(formatStatusLine).join('\n') + '\n');
  }
  return exitCode;
}
