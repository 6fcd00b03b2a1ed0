import { parseDuration } from '../../core/duration.js';
import { formatDuration } from '../../plan/lock-wait.js';
import type { CommandContext } from '../command-context.js';
import { listCountedRuns, forgetRecords, readAllRecords, type RunSummary, type StatusRecord } from '../../monitor/status-record.js';
import { isSuccess } from '../../monitor/ping.js';

// status's words, as the one parser (own-commands.ts) reads them.
export interface StatusArgs {
  json: boolean;
  maxAge: string | undefined;
  // --forget REPOSITORY: delete that repository's records (as `tborg status` names it).
  forget?: string | undefined;
}

// One verdict per repository and kind: did its last backup land, and when did one last land
// (README "Monitoring"); maintenance (prune, compact, check, ...) on lines of its own.
export interface StatusLine {
  repository: string;
  // 'backup' or a maintenance command's name.
  kind: string;
  state: 'ok' | 'failed' | 'stale';
  lastSuccessAgeSeconds: number | null;
  run: RunSummary;
}

// Judges each counted run (status-record.ts listCountedRuns: never-succeeded runs are forgotten after a
// week): failed (the last run did not succeed), stale (a backup with no success within maxAge:
// maintenance has its own rhythm, weekly checks included), ok.
export function judgeRecords(records: readonly StatusRecord[], now: number, maxAgeSeconds: number | undefined): StatusLine[] {
  return listCountedRuns(records, now).map(({ repository, kind, run }) => {
    const age = run.lastSuccess === null ? null : Math.max(0, Math.round((now - Date.parse(run.lastSuccess)) / 1000));
    const failed = !isSuccess(run.exitCode);
    const stale = kind === 'backup' && maxAgeSeconds !== undefined && (age === null || age > maxAgeSeconds);
    return { repository, kind, state: failed ? 'failed' : stale ? 'stale' : 'ok', lastSuccessAgeSeconds: age, run };
  });
}

// The human line: verdict, repository (and the maintenance command), last success and its age,
// the last run and its waits.
export function formatStatusLine(line: StatusLine): string {
  const r = line.run;
  const success = r.lastSuccess === null ? 'never' : `${r.lastSuccess} (${formatDuration(line.lastSuccessAgeSeconds ?? 0)} ago)`;
  const waits = [
    r.lockWaitSeconds > 0 ? `waited ${formatDuration(r.lockWaitSeconds)} for the lock` : '',
    r.unreachableRetries > 0 ? `${r.unreachableRetries} unreachable` : '',
    r.connectionRetries > 0 ? `${r.connectionRetries} lost connection${r.connectionRetries > 1 ? 's' : ''}` : '',
  ].filter(Boolean);
  const what = line.kind === 'backup' ? 'last backup' : `last ${line.kind}`;
  return (
    `${line.state.padEnd(6)} ${line.repository}  ${what} ${success === 'never' ? 'never succeeded' : `succeeded ${success}`}; ` +
    `last run ${r.command} at ${r.end} exit ${r.exitCode}, ` +
    `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${waits.length > 0 ? `, ${waits.join(', ')}` : ''}`
  );
}

// `tborg status`: a local check for cron or a monitoring agent.
export async function runStatusCommand(context: CommandContext, args: StatusArgs): Promise<number> {
  const statusFile = context.options.statusFile ?? undefined;
  if (args.forget !== undefined) {
    const count = await forgetRecords(statusFile, context.env, args.forget);
    if (count === 0) {
      context.terminal.error(`no status record of ${args.forget} (name it as tborg status prints it)`, 'status');
      return 1;
    }
    context.terminal.out(`forgot ${args.forget}\n`);
    return 0;
  }
  const maxAge = args.maxAge === undefined ? undefined : parseDuration(args.maxAge, '--max-age');
  const records = await readAllRecords(statusFile, context.env);
  const lines = judgeRecords(records, Date.now(), maxAge);
  const exitCode = lines.length === 0 ? 2 : lines.every((l) => l.state === 'ok') ? 0 : 1;
  if (args.json) {
    const repositories = lines.map((l) => ({
      repository: l.repository,
      kind: l.kind,
      ...l.run,
      state: l.state,
      lastSuccessAgeSeconds: l.lastSuccessAgeSeconds,
    }));
    context.terminal.out(`${JSON.stringify({ exitCode, maxAgeSeconds: maxAge ?? null, repositories }, null, 2)}\n`);
  } else if (lines.length === 0) {
    context.terminal.error('no status records yet (they are written after each backup and maintenance run)', 'status');
  } else {
    context.terminal.out(lines.map(formatStatusLine).join('\n') + '\n');
  }
  return exitCode;
}
