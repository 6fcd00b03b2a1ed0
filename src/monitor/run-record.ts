import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Plan } from '../plan/plan.js';
import type { MonitorOptions, WarnSink } from './monitor-options.js';

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
  pinger?: { finish(end: { exitCode: number; lastLines: readonly string[]; durationMs: number }): Promise<string | undefined> };
}

// One name per repository however it was spelled: borg's canonical form (helpers/parseformat.py
// Location.canonical_path: a relative remote path becomes /./path), local paths made absolute.
export function repositoryKey(repository: NonNullable<Plan['repository']>): string {
  if (repository.proto === 'file') return resolve(repository.path);
  if (!repository.host) return repository.location;
  const host = repository.host.includes(':') ? `[${repository.host}]` : repository.host;
  const path = repository.path.startsWith('/') || repository.path.startsWith('~') ? repository.path : `/./${repository.path}`;
  const slash = path.startsWith('~') ? '/' : '';
  return `${repository.proto}://${repository.user ? `${repository.user}@` : ''}${host}${repository.port ? `:${repository.port}` : ''}${slash}${path}`;
}

// The end ping and the status record (then the metrics file) together; failures become warnings.
export async function recordRun(context: RecordContext, run: RunEnd): Promise<void> {
  const { terminal, plan, options } = context;
  const work: Array<Promise<void>> = [];
  if (context.pinger) {
    work.push(
      context.pinger
        .finish({ exitCode: run.exitCode, lastLines: run.lastLines, durationMs: run.end - run.start })
        .then((problem) => {
          if (problem) terminal.warn(problem);
        }),
    );
  }
  if (context.opensRepository && plan.repository && options.statusFile !== null) {
    work.push(
      writeStatus(context, plan.repository, run).catch((error: unknown) => {
        terminal.warn(`could not write the status record: ${error instanceof Error ? error.message : String(error)}`);
      }),
    );
  }
  await Promise.all(work);
}

async function writeStatus(context: RecordContext, repository: NonNullable<Plan['repository']>, run: RunEnd): Promise<void> {
  const [{ recordPath, writeRecord }, { WRITE_COMMANDS }] = await Promise.all([import('./status-record.js'), import('./ping.js')]);
  const { options, env, plan } = context;
  const key = repositoryKey(repository);
  const path = await recordPath(options.statusFile ?? undefined, env, key);
  const command = plan.command.join(' ');
  await writeRecord(
    path,
    {
      repository: key,
      command,
      start: new Date(run.start).toISOString(),
      end: new Date(run.end).toISOString(),
      exitCode: run.exitCode,
      lockWaitSeconds: Math.round(run.lockWaitMs / 100) / 10,
      attempts: run.attempts,
      lockRetries: run.lockRetries,
      connectionRetries: run.connectionRetries,
      unreachableRetries: run.unreachableRetries,
      borgVersion: plan.borg.version,
    },
    WRITE_COMMANDS.has(plan.command[0] ?? ''),
  );
  if (options.metricsFile) {
    const [{ writeMetricsFile }, { readAllRecords, withLockFile }] = await Promise.all([import('./metrics.js'), import('./status-record.js')]);
    const metricsFile = options.metricsFile;
    await mkdir(dirname(metricsFile), { recursive: true });
    // Read and written under one lock: of several runs ending together, the last writer has read
    // every record, so the file never goes back to a state without one of them.
    await withLockFile(`${metricsFile}.lock`, async () =>
      writeMetricsFile(metricsFile, await readAllRecords(options.statusFile ?? undefined, env)),
    );
  }
}
