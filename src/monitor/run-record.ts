import { dirname, resolve } from 'node:path';
import { commandFacts } from '../borg/command-facts.js';
import type { Plan } from '../plan/plan.js';
import type { SshDestination } from '../plan/plan-input.js';
import { makeDirectory, RECORD_BUDGET_MS, limitDuration } from '../process/state-files.js';
import type { MonitorOptions, WarnSink } from './monitor-options.js';
import { isSuccess, type PingRole } from './ping.js';

// What tborg does after borg has ended, for whoever watches the backups: the end ping, the
// repository's status record and the metrics file. Loaded only after borg ended, so none of this
// costs start-up; nothing here changes the exit code (a failure is one warning line).

// A finished run, as src/run/run-borg.ts hands it over.
export interface RunEnd {
  exitCode: number;
  attempts: number;
  lockRetries: number;
  connectionRetries: number;
  unreachableRetries: number;
  lockWaitMs: number;
  lastLines: readonly string[];
  start: number;
  end: number;
}

// What recording needs from the run: its options, plan and the pinger that sent the start ping.
export interface RecordContext {
  options: MonitorOptions;
  env: NodeJS.ProcessEnv;
  terminal: WarnSink;
  plan: Plan;
  // Whether this run opened a repository (status records are about repositories).
  opensRepository: boolean;
  pinger?: {
    readonly role: PingRole;
    finish(end: { exitCode: number; lastLines: readonly string[]; durationMs: number }): Promise<string | undefined>;
  };
}

// One name per repository however it was spelled: where the connection goes as ssh -G says it
// (user, host name, port: `ssh://srv/r`, `ssh://srv:22/r`, `ssh://me@srv/r` and `srv:/r` are one
// repository), and borg's canonical path (helpers/parseformat.py Location.canonical_path: a path
// relative to the remote home becomes /./path); local paths made absolute.
export function repositoryKey(repository: NonNullable<Plan['repository']>, destination?: SshDestination): string {
  if (repository.proto === 'file') return resolve(repository.path);
  if (!repository.host) return repository.location;
  const hostname = destination?.hostname ?? repository.host;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  const user = destination?.user ?? repository.user;
  const port = destination?.port ?? repository.port;
  const path = repository.path.startsWith('/') || repository.path.startsWith('~') ? repository.path : `/./${repository.path}`;
  const slash = path.startsWith('~') ? '/' : '';
  return `${repository.proto}://${user ? `${user}@` : ''}${host}${port ? `:${port}` : ''}${slash}${path}`;
}

// borg's answer to a refused yes/no prompt (helpers/yes_no.py yes(): false_msg "Aborting." or
// invalid_msg "Invalid answer, aborting.", printed after the question; borg 2 then raises
// CancelledByUser: "Cancelled by user."). Someone said no: nothing about the repository.
export function isRefusedPrompt(run: Pick<RunEnd, 'exitCode' | 'lastLines'>): boolean {
  if (isSuccess(run.exitCode)) return false;
  const last = run.lastLines.filter((l) => l.trim() !== '').slice(-2);
  return (
    last.some((l) => /(?:^|: )(?:Aborting\.|Invalid answer, aborting\.)$/.test(l.trim())) || last.at(-1)?.trim() === 'Cancelled by user.'
  );
}

// What this run is to the status record (its command's CommandSpec.monitor), or null when it is recorded
// nowhere: reads, administration, dry runs, and maintenance refused at borg's prompt.
export function classifyRun(
  plan: Pick<Plan, 'command' | 'dryRun'> & { borg: Pick<Plan['borg'], 'major' | 'version'> },
  run: Pick<RunEnd, 'exitCode' | 'lastLines'>,
): 'backup' | 'maintenance' | null {
  const kind = commandFacts(plan.borg.major, plan.borg.version, plan.command)?.monitor ?? 'none';
  if (kind === 'none' || plan.dryRun) return null;
  if (kind === 'maintenance' && isRefusedPrompt(run)) return null;
  return kind;
}

// The end ping, the status record and the metrics file; each failure is its own warning.
export async function recordRun(context: RecordContext, run: RunEnd): Promise<void> {
  const { terminal, plan, options } = context;
  const kind = classifyRun(plan, run);
  const work: Array<Promise<void>> = [];
  // A refused prompt of maintenance reports nothing (a backup's start was sent: its result goes too).
  if (context.pinger && (kind !== null || context.pinger.role === 'job')) {
    work.push(
      context.pinger.finish({ exitCode: run.exitCode, lastLines: run.lastLines, durationMs: run.end - run.start }).then((problem) => {
        if (problem) terminal.warn(problem);
      }),
    );
  }
  if (kind !== null && context.opensRepository && plan.repository && options.statusFile !== null) {
    const files = writeFiles(context, plan.repository, kind, run);
    work.push(
      limitDuration(files, RECORD_BUDGET_MS, 'writing the status record').catch((error: unknown) => terminal.warn(describe(error))),
    );
  }
  await Promise.all(work);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The status record, then the metrics file: a failure of either is said as its own.
async function writeFiles(
  context: RecordContext,
  repository: NonNullable<Plan['repository']>,
  kind: 'backup' | 'maintenance',
  run: RunEnd,
): Promise<void> {
  const { recordPath, writeRecord, readAllRecords, withLockFile, removeOldRecord } = await import('./status-record.js');
  const { options, env, plan, terminal } = context;
  const key = repositoryKey(repository, plan.ssh?.destination);
  try {
    const path = await recordPath(options.statusFile ?? undefined, env, key);
    await writeRecord(path, {
      repository: key,
      kind,
      command: plan.command.join(' '),
      start: new Date(run.start).toISOString(),
      end: new Date(run.end).toISOString(),
      exitCode: run.exitCode,
      lockWaitSeconds: Math.round(run.lockWaitMs / 100) / 10,
      attempts: run.attempts,
      lockRetries: run.lockRetries,
      connectionRetries: run.connectionRetries,
      unreachableRetries: run.unreachableRetries,
      borgVersion: plan.borg.version,
    });
    // An older tborg named the record by the location as written, without ssh -G's facts.
    const oldPath = await recordPath(options.statusFile ?? undefined, env, repositoryKey(repository));
    if (oldPath !== path) await removeOldRecord(oldPath);
  } catch (error) {
    terminal.warn(`could not write the status record: ${describe(error)}`);
    return;
  }
  if (!options.metricsFile) return;
  const metricsFile = options.metricsFile;
  try {
    const { writeMetricsFile } = await import('./metrics.js');
    await makeDirectory(dirname(metricsFile), 0o755);
    // Read and written under one lock: of several runs ending together, the last writer has read
    // every record, so the file never goes back to a state without one of them.
    await withLockFile(`${metricsFile}.lock`, async () =>
      writeMetricsFile(metricsFile, await readAllRecords(options.statusFile ?? undefined, env)),
    );
  } catch (error) {
    terminal.warn(`could not write the metrics file ${metricsFile}: ${describe(error)}`);
  }
}
