import { UsageError, TborgError } from '../errors.js';
import type { CommandContext } from '../command-context.js';
import { signalExitCode } from '../../run/borg-process.js';
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, formatCheck, runDoctor, type Check, type DoctorReport } from '../../guide/doctor.js';
import { TBORG_VERSION } from '../version.js';
import { toJson } from './plan-command.js';

// `tborg doctor [--json] [BORG_COMMON_OPTIONS] REPOSITORY` (issue 6). The checks live in src/guide/doctor/ (doctor.ts runs them);
// this file reads doctor's own options, prints, and turns a stopping signal into an orderly end
// (the probes run in sessions of their own, so a terminal's Ctrl-C does not reach them by itself).

const USAGE = `Usage: tborg doctor [--json] [BORG_COMMON_OPTIONS] REPOSITORY

Checks what a backup to REPOSITORY needs, without changing it, and says what tborg would do:
  borg        the local borg (path and version; never tborg itself)
  location    how borg reads REPOSITORY (ssh://..., host:path, a local path, :: with BORG_REPO;
              borg 2 also -r REPOSITORY)
  keepalive   the ssh keepalive (ServerAliveInterval, ServerAliveCountMax) for the repository's host
              and where it is set (file:line), or what tborg injects when it is not
  lock-wait   how long tborg waits for a held lock, and why
  server      whether the server answers (ssh with BatchMode=yes, ConnectTimeout=${DEFAULT_CONNECT_TIMEOUT_SECONDS}: never a
              prompt) and which borg runs there
  repository  whether borg can open it: exists, is a repository, the passphrase (borg list --last 1)
  lock        whether it is locked now: the repository lock, or this machine's cache lock

borg common options such as --rsh, --remote-path, --lock-wait are used as a run would use them.
The repository is only opened for reading (one borg list, a shared lock for a moment); doctor never
writes to it and never breaks a lock. Every check prints one line: ok, warn, fail or skip.

Options:
  --json   print one JSON object instead (fields documented in src/cli/commands/doctor-command.ts)
  --help   show this help

Exit codes: 0 healthy; 1 warnings (no keepalive of your own, locked now, ...);
2 the repository cannot be reached or used (unreachable, does not exist, bad argument, no borg).
`;

interface Arguments {
  json: boolean;
  words: string[];
  afterDashDash: string[];
}

async function parseArguments(context: CommandContext): Promise<Arguments | 'help'> {
  const { default: yargs } = await import('yargs');
  const parser = yargs(context.args)
    .help(false)
    .version(false)
    .option('json', { type: 'boolean', default: false })
    .option('help', { type: 'boolean' })
    // Everything doctor does not know is borg's: options stay words, in order, with their values.
    .parserConfiguration({
      'unknown-options-as-args': true,
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
      'populate--': true,
    })
    .strict(false)
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new UsageError(`${message ?? error?.message ?? 'bad arguments'} (see tborg doctor --help)`);
    });
  const argv = (await parser.parseAsync()) as Record<string, unknown> & { _: Array<string | number>; '--'?: Array<string | number> };
  if (argv.help === true) {
    context.terminal.out(USAGE);
    return 'help';
  }
  if (Array.isArray(argv.json)) throw new UsageError('--json given more than once');
  return { json: argv.json === true, words: argv._.map(String), afterDashDash: (argv['--'] ?? []).map(String) };
}

export async function runDoctorCommand(context: CommandContext): Promise<number> {
  let args: Arguments | 'help';
  try {
    args = await parseArguments(context);
  } catch (error) {
    if (error instanceof TborgError) {
      context.terminal.error(error.message, 'doctor');
      return error.exitCode;
    }
    throw error;
  }
  if (args === 'help') return 0;
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
