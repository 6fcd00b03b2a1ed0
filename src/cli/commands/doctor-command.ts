import type { CommandContext } from '../command-context.js';
import { signalExitCode } from '../../run/borg-process.js';
import { formatCheck, runDoctor, type Check, type DoctorReport } from '../../guide/doctor.js';
import { TBORG_VERSION } from '../version.js';
import { toJson } from './plan-command.js';

// `tborg doctor [--json] [BORG_COMMON_OPTIONS] REPOSITORY` (README "tborg doctor"). The checks live in src/guide/doctor/ (doctor.ts runs them);
// this file prints (its words are read by own-commands.ts) and turns a stopping signal into an orderly end
// (the probes run in sessions of their own, so a terminal's Ctrl-C does not reach them by itself).

// doctor's words, as the one parser (own-commands.ts) reads them: its --json, and borg's words
// (options with their values, the repository) in order, and what came after a `--`.
export interface DoctorArgs {
  json: boolean;
  words: string[];
  afterDashDash: string[];
}

export async function runDoctorCommand(context: CommandContext, args: DoctorArgs): Promise<number> {
  const { json } = args;

  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = (): void => {
      received ??= signal;
      controller.abort();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  let report: DoctorReport;
  try {
    report = await runDoctor(context, args.words, args.afterDashDash, {
      signal: controller.signal,
      // People see each line as its check ends (ssh may take its ConnectTimeout); machines get one object.
      // After a stopping signal the remaining checks only say "stopped": they are not printed.
      ...(json ? {} : { onCheck: (check: Check) => void (received ? undefined : context.terminal.out(`${formatCheck(check)}\n`)) }),
    });
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
  if (received) {
    context.terminal.error(`stopped by ${received}`, 'doctor');
    return signalExitCode(received);
  }
  if (json) context.terminal.out(`${JSON.stringify(toDoctorJson(report), null, 2)}\n`);
  else context.terminal.out(`${report.verdict.summary}\n`);
  return report.verdict.exitCode;
}

// The JSON contract of `tborg doctor --json` (scripts rely on these names; add, never rename):
//   tborg        tborg's version
//   verdict      "healthy" | "warnings" | "unusable"
//   exitCode     0 | 1 | 2, the process's exit code (0 healthy, 1 warnings, 2 unusable)
//   checks       [{ name, status, detail, ...facts }], always these names in this order:
//                borg, location, keepalive, lock-wait, server, repository, lock;
//                status "ok" | "warn" | "fail" | "skip" (skip: not applicable, or not checked
//                because an earlier check failed; it does not change the verdict). Facts by check:
//                  borg        path, version, skippedTborg[]
//                  location    location, proto, host, port, user, path, source
//                  keepalive   state (the plan's: configured|injected|warned|off|not-applicable),
//                              configured, effective ({serverAliveInterval, serverAliveCountMax}),
//                              intervalSource, countMaxSource (e.g. "~/.ssh/config:12 (Host lab)")
//                  lock-wait   seconds, userGiven, attemptSeconds, formula, clientBound, serverBound, margin
//                  server      host, remotePath, seconds, exitCode, remoteVersion, restricted, argv
//                  repository  exitCode, id, encryption, newestArchive {name, time}, seconds, argv
//                  lock        locked (true|false|null: unknown), kind ("repository"|"cache"|null), path
//   keepalive    the keepalive check's facts (null when there is no plan)
//   lockWait     the plan's lock wait, as `tborg plan --json` prints it (null when there is no plan)
//   planArgs     the borg arguments doctor planned with (borg list REPO, or rlist -r REPO)
//   plan         `tborg plan --json` of planArgs (null when there is no plan)
//   durationMs   how long doctor took
export function toDoctorJson(report: DoctorReport): Record<string, unknown> {
  const plan = report.plan ? toJson(report.plan) : null;
  const keepalive = report.checks.find((c) => c.name === 'keepalive');
  return {
    tborg: TBORG_VERSION,
    verdict: report.verdict.verdict,
    exitCode: report.verdict.exitCode,
    checks: report.checks.map((c) => ({ name: c.name, status: c.status, detail: c.detail, ...c.data })),
    keepalive: report.plan && keepalive ? { ...keepalive.data } : null,
    lockWait: plan ? plan.lockWait : null,
    planArgs: report.planArgs,
    plan,
    durationMs: report.durationMs,
  };
}
