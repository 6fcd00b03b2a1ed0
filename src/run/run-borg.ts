import { homedir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { findBorg } from '../borg/borg-binary.js';
import type { RunRequest } from './run-request.js';
import { TborgError } from '../core/errors.js';
import type { Plan } from '../plan/plan.js';
import type { Pinger } from '../monitor/ping.js';
import { startedAsBorg, wrapperError } from './recursion-guard.js';
import { BorgRunner, type AttemptResult } from './borg-process.js';
import type { RunEnd } from '../monitor/run-record.js';
import type { ProbeResult } from './connect-wait.js';
import type { LandedAnswer, LandedCheck } from '../plan/landed.js';

// `tborg <borg arguments>`: plan, then run borg, retrying what is safe to retry.
export async function runBorg(context: RunRequest): Promise<number> {
  const parent = startedAsBorg(context.env);
  if (parent) {
    // A tborg started this tborg as its borg (a wrapper script named borg, recursion-guard.ts): that
    // tborg planned the run already. Run the real borg untouched: the first on PATH that is neither
    // tborg nor that wrapper, whatever TBORG_BORG says (it may name the wrapper).
    let real: string;
    try {
      real = findBorg(undefined, context.env, [...context.selfPaths, parent.borgPath]);
    } catch (error) {
      if (error instanceof TborgError) throw wrapperError(parent);
      throw error;
    }
    return runOnce(real, context.args, context.env, context);
  }
  if (onlyPrintsOrServes(context.args)) {
    return runOnce(findBorg(context.options.borg, context.env, context.selfPaths), context.args, context.env, context);
  }
  const [{ buildPlan }, { gatherPlanInput }] = await Promise.all([import('../plan/plan.js'), import('../plan/plan-facts.js')]);
  // borg writes JSON log lines: so does tborg, before its first word (an ssh -G failure included;
  // the parsed line also catches an abbreviation such as --log-j).
  const dashes = context.args.indexOf('--');
  if ((dashes === -1 ? context.args : context.args.slice(0, dashes)).includes('--log-json')) context.terminal.speakJson();
  const input = await gatherPlanInput(context);
  if (input.commandLine.logJson) context.terminal.speakJson();
  const plan = buildPlan(input);
  for (const warning of plan.warnings) if (warning.onRun) context.terminal.warn(warning.text);
  const env = { ...context.env, ...plan.env };
  const start = Date.now();
  // README "Monitoring": the start ping goes out once borg has been started, never before it.
  let pinging: Promise<Pinger | undefined> | undefined;
  const beginPing = (): void => {
    if (context.options.pingUrl) pinging ??= startPing(context, plan);
  };
  if (!plan.retry.lockTimeouts && plan.retry.connectionRetries === 0) {
    // Nothing to retry (no repository, or a line borg will reject): one attempt, no retry machinery.
    const runner = new BorgRunner(plan.borg.path, context.terminal);
    let result: AttemptResult;
    try {
      const attempt = runner.attempt(plan.borg.argv, env);
      beginPing();
      result = await attempt;
    } finally {
      runner.dispose();
    }
    const end = { exitCode: result.exitCode, attempts: 1, lockRetries: 0, connectionRetries: 0, unreachableRetries: 0, lockWaitMs: 0 };
    const pinger = await pinging;
    if (pinger) await record(context, plan, false, pinger, { ...end, lastLines: result.findings.lastLines, start, end: Date.now() });
    return result.exitCode;
  }
  const runner = new BorgRunner(plan.borg.path, context.terminal);
  try {
    const [{ runAttempts }, { spinnerSafeDuringAttempts }] = await Promise.all([import('./attempts.js'), import('./spinner-safety.js')]);
    const outcome = await runAttempts(plan, env, {
      attempt: (argv, attemptEnv, options) => {
        const attempt = runner.attempt(argv, attemptEnv, options);
        beginPing();
        return attempt;
      },
      now: () => Date.now(),
      sleep: async (ms, signal) => {
        await delay(ms, undefined, { signal }).catch(() => undefined);
      },
      random: Math.random,
      signal: runner.signal,
      stoppedBy: () => runner.received,
      terminal: context.terminal,
      spinDuringAttempts: spinnerSafeDuringAttempts(plan, context.env, { stdoutIsTTY: context.stdoutIsTTY }),
      home: homedir(),
      ...(plan.ssh?.probe ? { probe: probeOf(plan.ssh.probe, runner.signal) } : {}),
      ...(plan.retry.landedCheck ? { checkLanded: landedCheckOf(plan, plan.retry.landedCheck, env, runner.signal) } : {}),
    });
    runner.dispose();
    await record(context, plan, true, await pinging, { ...outcome, start, end: Date.now() });
    return outcome.exitCode;
  } finally {
    runner.dispose();
  }
}

// How long tborg's probe knocks: as long as ssh's own connect would at most be worth waiting for
// between two attempts of the connect wait.
const PROBE_TIMEOUT_MS = 10_000;

function probeOf(target: { host: string; port: number }, signal: AbortSignal): () => Promise<ProbeResult> {
  return async () => {
    const { probeReach } = await import('./reach-probe.js');
    return probeReach(target.host, target.port, PROBE_TIMEOUT_MS, signal);
  };
}

function landedCheckOf(plan: Plan, check: LandedCheck, env: NodeJS.ProcessEnv, signal: AbortSignal) {
  return async ({ sinceMs, deadline }: { sinceMs: number; deadline: number }): Promise<LandedAnswer> => {
    const { checkLanded } = await import('./landed-check.js');
    return checkLanded({ borgPath: plan.borg.path, borgVersion: plan.borg.version, env, check, sinceMs, deadline, signal });
  };
}

// `--version`/`-V`, `-h`/`--help` anywhere before `--`, `borg help ...`, `borg serve ...` and a bare
// `borg`: borg prints and exits, or serves (on the server, where nothing of tborg's applies). There
// is nothing to plan or retry, so the planner is not even loaded: `alias borg=tborg` must not make
// `borg --version` noticeably slower.
export function onlyPrintsOrServes(args: readonly string[]): boolean {
  if (args.length === 0 || args[0] === 'help' || args[0] === 'serve') return true;
  for (const arg of args) {
    if (arg === '--') break;
    if (arg === '--version' || arg === '-V' || arg === '-h' || arg === '--help') return true;
  }
  return false;
}

async function startPing(context: RunRequest, plan: Plan): Promise<Pinger | undefined> {
  const [{ Pinger, choosePingRole, checkPingUrl }, { commandFacts }] = await Promise.all([
    import('../monitor/ping.js'),
    import('../borg/command-facts.js'),
  ]);
  const kind = commandFacts(plan.borg.major, plan.borg.version, plan.command)?.monitor ?? 'none';
  const role = choosePingRole(kind, plan.dryRun === true, context.options.pingAll);
  if (role === null) return undefined;
  // A mistyped URL costs its pings, never the backup (README "Monitoring").
  const problem = checkPingUrl(context.options.pingUrl!);
  if (problem) {
    context.terminal.warn(`no ping sent: --tborg-ping/TBORG_PING_URL is ${problem}; the backup's result is unchanged`);
    return undefined;
  }
  const what = [plan.command.join(' '), plan.repository?.location].filter(Boolean).join(' ');
  const pinger = new Pinger(context.options.pingUrl!, context.options.pingStyle, `tborg: borg ${what}`, role);
  pinger.start();
  return pinger;
}

// After borg: the end ping, the status record, the metrics file (run-record.ts, loaded only now).
async function record(context: RunRequest, plan: Plan, opensRepository: boolean, pinger: Pinger | undefined, run: RunEnd): Promise<void> {
  if (!pinger && (!opensRepository || context.options.statusFile === null)) return;
  try {
    const { recordRun } = await import('../monitor/run-record.js');
    await recordRun(
      { options: context.options, env: context.env, terminal: context.terminal, plan, opensRepository, ...(pinger ? { pinger } : {}) },
      run,
    );
  } catch (error) {
    context.terminal.warn(`could not record the run: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function runOnce(borgPath: string, argv: readonly string[], env: NodeJS.ProcessEnv, context: RunRequest): Promise<number> {
  const runner = new BorgRunner(borgPath, context.terminal);
  try {
    return (await runner.attempt(argv, env)).exitCode;
  } finally {
    runner.dispose();
  }
}
