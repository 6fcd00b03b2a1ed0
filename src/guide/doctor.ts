import { join } from 'node:path';
import { borgCacheDir } from '../borg/borg-cache-dir.js';
import { borgLine } from '../borg/borg-version.js';
import type { PlanRequest } from '../plan/plan-options.js';
import { TborgError } from '../core/errors.js';
import { buildPlan, type Plan } from '../plan/plan.js';
import type { PlanInput } from '../plan/plan-input.js';
import { gatherPlanInput } from '../plan/plan-facts.js';
import { passwdHome } from '../process/passwd-home.js';
import { runBufferedChild, type BufferedChildOptions, type BufferedChildResult } from '../process/buffered-child.js';
import { sshDialect } from '../ssh/ssh-settings.js';
import { verdict, type Check, type CheckName, type Verdict } from './doctor/check.js';
import { checkLocation, doctorPlanArgs, splitDoctorWords } from './doctor/doctor-argument.js';
import { checkKeepalive, findKeepaliveSources } from './doctor/keepalive-check.js';
import { checkLocalBorg, gatherLocalBorg } from './doctor/local-borg.js';
import { checkHolders, holderAlive, lastingLockHolders } from './doctor/lock-holders.js';
import { checkLockWait } from './doctor/lock-wait-check.js';
import { planRshWords, probeSshOptions, repositoryProbe, serverProbeArgv, storeRshWords } from './doctor/probe-argv.js';
import { interpretRepositoryProbe } from './doctor/repository-probe.js';
import { interpretServerProbe } from './doctor/server-probe.js';
import { buildGuardProbeArgv, readGuardVersion, addGuardFinding } from './doctor/guard-probe.js';

// `tborg doctor REPO`: what a run against REPO would do and whether it can work right now.
// Every check is a pure function from facts to a Check; the facts come from the plan (the same
// gatherPlanInput + buildPlan a run uses, for `borg list REPO`) and from three bounded child
// processes: `ssh ... borg --version`, `borg list --json --last 1 --lock-wait 5 REPO`, nothing else.
// Nothing here writes to the repository, and no child can prompt or run for long:
//  - ssh gets -o BatchMode=yes -o ConnectTimeout=N after the user's words (the user's own values
//    still win: ssh keeps the first value it obtains, readconf.c);
//  - borg and ssh run in a session of their own (setsid), so neither borg's getpass nor ssh can
//    open /dev/tty, and stdin is /dev/null;
//  - every child has a timeout, after which its whole process group is killed.
//
// Why `borg list` and not `borg with-lock REPO true`: with-lock re-writes the manifest and commits
// (borg 1.2.4 archiver.py do_with_lock: repository.put(MANIFEST_ID, ...) then repository.commit();
// the same in 2.0.0b5 archiver/lock_cmds.py), so every call adds segment files and a new
// index/hints/integrity generation: measured, the repository listing changes. `borg list` opens the
// repository with a shared lock (with_repository(lock=True, exclusive=False)), which cannot be had
// while anyone holds the exclusive lock (locking.py Lock.acquire takes lock.exclusive to touch the
// roster), and writes nothing. It cannot see other readers (borg mount, list, extract hold shared
// locks); for a local repository doctor reads the roster file for them.
//
// This file runs the checks in order; each check lives in doctor/ (the argument and location, the
// local borg, the keepalive, the lock wait, both probes' argv, the server probe, the repository
// probe, the lock files), pure where it can be.

// What `tborg doctor` prints a check with: its one line, and the check itself (doctor-command.ts).
export { formatCheck, type Check } from './doctor/check.js';

// How doctor runs a child: runBufferedChild (its own process group, killed on timeout or abort),
// or a fake in tests.
export type ProcessRunner = (file: string, args: readonly string[], options: BufferedChildOptions) => Promise<BufferedChildResult>;

// The limits and hooks of one doctor run (tests give a fake runner, a clock and onCheck).
export interface DoctorOptions {
  // ssh's ConnectTimeout for both probes (the user's own -o ConnectTimeout in BORG_RSH wins).
  connectTimeoutSeconds?: number;
  // Overall limits per child: ssh -> connect + login + `borg --version`; borg -> connect + lock
  // wait + reading the manifest (the server loads the repository index for that).
  serverTimeoutSeconds?: number;
  repositoryTimeoutSeconds?: number;
  run?: ProcessRunner;
  now?: () => Date;
  signal?: AbortSignal;
  // Called as each check completes, for output as it happens.
  onCheck?: (check: Check) => void;
}

// What a run found: the checks in order and the verdict; the plan for --json.
export interface DoctorReport {
  checks: Check[];
  verdict: Verdict;
  plan: Plan | null;
  // The borg argv doctor planned with (what `tborg plan ARGS` would show).
  planArgs: string[] | null;
  durationMs: number;
}

// ssh's ConnectTimeout for the probes unless the user's words set one (named in doctor's --help).
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

const ORDER: readonly CheckName[] = ['borg', 'location', 'keepalive', 'lock-wait', 'server', 'repository', 'lock'];

// Runs every check once, in ORDER, and the two probes side by side; never throws for what it checks.
export async function runDoctor(
  context: PlanRequest,
  words: readonly string[],
  afterDashDash: readonly string[],
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const started = Date.now();
  const run = options.run ?? runBufferedChild;
  const now = options.now ?? (() => new Date());
  const connectTimeout = options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const serverTimeout = options.serverTimeoutSeconds ?? connectTimeout + 20;
  const repositoryTimeout = options.repositoryTimeoutSeconds ?? connectTimeout + 50;
  const { env } = context;
  const checks: Check[] = [];
  let plan: Plan | null = null;
  let planArgs: string[] | null = null;
  const add = (check: Check): void => {
    checks.push(check);
    options.onCheck?.(check);
  };
  // Every check appears once, in ORDER, even when an earlier failure leaves it nothing to look at.
  const skipRest = (why: string): void => {
    for (const name of ORDER) if (!checks.some((c) => c.name === name)) add({ name, status: 'skip', detail: why });
  };
  const finish = (): DoctorReport => ({ checks, verdict: verdict(checks), plan, planArgs, durationMs: Date.now() - started });

  const borg = gatherLocalBorg(context);
  add(checkLocalBorg(borg));
  if (borg.path === null) {
    skipRest('not checked: no borg');
    return finish();
  }
  const major = borgLine(borg.version);
  const split = splitDoctorWords(words, major, afterDashDash);
  if (split.error !== null) {
    add({ name: 'location', status: 'fail', detail: `bad argument: ${split.error}` });
    skipRest('not checked: bad argument');
    return finish();
  }
  if (split.repository === null && !env.BORG_REPO) {
    add({ name: 'location', status: 'fail', detail: 'no repository given, and BORG_REPO is not set (usage: tborg doctor REPOSITORY)' });
    skipRest('not checked: no repository');
    return finish();
  }
  planArgs = doctorPlanArgs(split, major, borg.version ?? undefined);
  let input: PlanInput;
  try {
    input = await gatherPlanInput({ ...context, args: planArgs }, { locateHostBlock: true });
    plan = buildPlan(input);
  } catch (error) {
    if (!(error instanceof TborgError)) throw error;
    // ssh -G refused the configuration, or BORG_RSH cannot be split as borg splits it: a run would
    // stop at the same place.
    add({ name: 'location', status: 'skip', detail: 'not checked' });
    add({ name: 'keepalive', status: 'fail', detail: error.message });
    skipRest('not checked: no plan');
    return finish();
  }
  const commandLine = input.commandLine;
  add(checkLocation(input, split));
  const loc = commandLine.repository?.location;
  if (checks.at(-1)!.status === 'fail' || !loc) {
    skipRest('not checked: bad argument');
    return finish();
  }
  const sources =
    input.ssh && loc.host
      ? findKeepaliveSources(
          input.ssh.rsh.words,
          input.ssh.rsh.source,
          loc.host,
          loc.user,
          passwdHome(),
          sshDialect(input.ssh.target[0], { env }),
        )
      : null;
  add(checkKeepalive(plan, input, sources));
  add(checkLockWait(plan, { serverAliveGiven: context.options.serverAlive !== undefined }));

  const sshOptions = probeSshOptions(connectTimeout);
  const remotePath = commandLine.remotePath ?? env.BORG_REMOTE_PATH ?? 'borg';
  // Both probes start together: each costs a connection and, for borg, a Python start-up (~0.5-1 s),
  // and the borg one is useless only when the ssh one fails, which it then also does, just as fast.
  const repositoryAbort = new AbortController();
  const repositorySignal = options.signal ? AbortSignal.any([options.signal, repositoryAbort.signal]) : repositoryAbort.signal;
  const probe = repositoryProbe(plan, commandLine, env, split, major, input.ssh ? sshOptions : null);
  const command = `borg ${planArgs[0]}`;
  const home = env.HOME || passwdHome() || '/';
  const repositoryRun = run(plan.borg.path, probe.argv, {
    env: { ...env, ...probe.env },
    timeoutMs: repositoryTimeout * 1000,
    signal: repositorySignal,
  });
  if (input.ssh && loc.host) {
    const argv = input.ssh.rest
      ? [...storeRshWords(plan), ...sshOptions, loc.user ? `${loc.user}@${loc.host}` : loc.host, remotePath, '--version']
      : serverProbeArgv(planRshWords(plan, commandLine, env), sshOptions, { user: loc.user, host: loc.host, port: loc.port }, remotePath);
    const result = await run(argv[0]!, argv.slice(1), {
      env,
      timeoutMs: serverTimeout * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let server = interpretServerProbe(result, { host: loc.host, remotePath, localMajor: major, timeoutSeconds: serverTimeout });
    server.data = { ...server.data, argv };
    // README "The server half": only where a borg serve holds the lock (not borg2's store locks).
    if (server.status !== 'fail' && !input.ssh.rest && plan.lockWait.model?.kind === 'serve') {
      const guardArgv = buildGuardProbeArgv(
        planRshWords(plan, commandLine, env),
        sshOptions,
        { user: loc.user, host: loc.host, port: loc.port },
        remotePath,
      );
      const guard = await run(guardArgv[0]!, guardArgv.slice(1), {
        env,
        timeoutMs: serverTimeout * 1000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      server = addGuardFinding(server, readGuardVersion(guard), context.options.serverGuard, loc.host);
    }
    add(server);
    if (server.status === 'fail') {
      repositoryAbort.abort();
      await repositoryRun;
      skipRest('not tried: the server cannot be reached');
      return finish();
    }
  } else {
    const why =
      loc.proto === 'file'
        ? 'local repository: no server'
        : input.nonSshRsh
          ? `${input.nonSshRsh.source} is not ssh: borg connects by itself (see repository)`
          : `${loc.proto} repository: not reached through borg's ssh`;
    add({ name: 'server', status: 'skip', detail: why });
  }
  const result = await repositoryRun;
  if (options.signal?.aborted) {
    skipRest('not checked: stopped');
    return finish();
  }
  const outcome = interpretRepositoryProbe(result, {
    command,
    env,
    home,
    timeoutSeconds: repositoryTimeout,
    now: now(),
    storeLock: plan.lockWait.model?.kind === 'store',
  });
  outcome.repository.data = { ...outcome.repository.data, argv: [plan.borg.path, ...probe.argv] };
  add(outcome.repository);
  let lock = outcome.lock;
  if (lock.status === 'ok') {
    if (outcome.repositoryId) {
      const dir = join(borgCacheDir(env, home), outcome.repositoryId);
      lock = checkHolders('cache', join(dir, 'lock.exclusive'), await lastingLockHolders(dir), (h) => holderAlive(h, env)) ?? lock;
    }
    if (lock.status === 'ok' && loc.proto === 'file') {
      // A local repository's roster can be read: readers are seen too.
      lock = checkHolders('repository', join(loc.path, 'lock.roster'), await lastingLockHolders(loc.path), (h) => holderAlive(h, env)) ?? {
        ...lock,
        detail: `not locked: ${command} got its lock, and no reader is in its lock.roster`,
      };
    }
  }
  add(lock);
  return finish();
}
