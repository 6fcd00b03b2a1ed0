import { readdirSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { findBorg, isTborg } from '../borg/borg-binary.js';
import { BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS } from '../borg/borg1-commands.js';
import { BORG2_COMMON_OPTIONS, BORG2_TOP_ONLY_OPTIONS } from '../borg/borg2-commands.js';
import { borgCacheDir, isCacheLock, LOCK_TIMEOUT_RE } from '../borg/borg-errors.js';
import { readBorgVersion } from '../borg/borg-version.js';
import type { BorgCommandLine } from '../borg/command-line.js';
import { TborgError } from '../cli/errors.js';
import { formatDuration } from '../plan/lock-wait.js';
import { borg2Generation } from '../borg/location.js';
import type { CommandContext } from '../cli/command-context.js';
import { buildPlan, type Plan, type PlanInput } from '../plan/plan.js';
import { gatherPlanInput } from '../plan/plan-facts.js';
import { joinRsh, parseSshArgv, readRsh, splitLikePython, sshTarget } from '../ssh/rsh.js';
import { canonicalKeyword, describePlace, findSettingSource, SYSTEM_CONFIG_FILE, userConfigFile } from '../ssh/ssh-config-source.js';

// `tborg doctor REPO` (issue 6): what a run against REPO would do and whether it can work right now.
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

// ---------------------------------------------------------------------------------------------
// Checks and the verdict (pure)

// 'skip': the check could not run (an earlier one failed, or it does not apply); it does not change
// the verdict.
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
export type CheckName = 'borg' | 'location' | 'keepalive' | 'lock-wait' | 'server' | 'repository' | 'lock';

export interface Check {
  name: CheckName;
  status: CheckStatus;
  // One line, for people.
  detail: string;
  // Machine-readable facts of this check; --json puts them beside name/status/detail.
  data?: Record<string, unknown>;
}

export type VerdictWord = 'healthy' | 'warnings' | 'unusable';

export interface Verdict {
  exitCode: 0 | 1 | 2;
  verdict: VerdictWord;
  // The last line of the human output.
  summary: string;
  // One line per check, then the summary.
  lines: string[];
}

// `ok    keepalive  ...`: the status in 6 columns, the name in 11 (the longest, "repository", 10).
export function formatCheck(check: Check): string {
  return `${check.status.padEnd(6)}${check.name.padEnd(11)}${check.detail}`;
}

// Exit 2 when anything failed (the repository cannot be reached or used), 1 on warnings, else 0.
export function verdict(checks: readonly Check[]): Verdict {
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name);
  const warned = checks.filter((c) => c.status === 'warn').map((c) => c.name);
  let exitCode: 0 | 1 | 2;
  let word: VerdictWord;
  let summary: string;
  if (failed.length > 0) {
    exitCode = 2;
    word = 'unusable';
    summary = `verdict: the repository cannot be reached or used (${failed.join(', ')} failed${warned.length > 0 ? `; warnings: ${warned.join(', ')}` : ''}), exit 2`;
  } else if (warned.length > 0) {
    exitCode = 1;
    word = 'warnings';
    summary = `verdict: usable, with warnings (${warned.join(', ')}), exit 1`;
  } else {
    exitCode = 0;
    word = 'healthy';
    summary = 'verdict: healthy, exit 0';
  }
  return { exitCode, verdict: word, summary, lines: [...checks.map(formatCheck), summary] };
}

// ---------------------------------------------------------------------------------------------
// The argument (pure)

export interface DoctorWords {
  // borg common options, in order, with their values.
  options: string[];
  // The repository as written (borg 1.x `::ARCHIVE` removed), or null: BORG_REPO.
  repository: string | null;
  // The `::ARCHIVE` that was dropped, for the message.
  droppedArchive: string | null;
  // Why the words cannot be a repository argument, or null.
  error: string | null;
}

// Which common options take a value, from the table borg-commands.ts keeps in step with borg's
// own parsers ("--rsh RSH" takes one, "--debug" none).
function optionsWithValue(major: 1 | 2): Set<string> {
  const table = major === 1 ? [...BORG1_COMMON_OPTIONS, ...BORG1_TOP_ONLY_OPTIONS] : [...BORG2_COMMON_OPTIONS, ...BORG2_TOP_ONLY_OPTIONS];
  const set = new Set<string>();
  for (const text of table) {
    const words = text.split(' ');
    if (!words.some((w) => !w.startsWith('-'))) continue;
    for (const w of words) if (w.startsWith('-')) set.add(w);
  }
  return set;
}

// Splits what follows `doctor` into borg common options and the one repository: a positional
// (any borg) or `-r/--repo REPO` (borg 2's way, accepted for 1.x too). Words after `--` are
// positionals. Options doctor does not know are passed on; borg's parser judges them in the plan.
export function splitDoctorWords(words: readonly string[], major: 1 | 2, afterDashDash: readonly string[] = []): DoctorWords {
  const withValue = optionsWithValue(major);
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (word === '-r' || word === '--repo') {
      const value = words[i + 1];
      if (value === undefined) return { options, repository: null, droppedArchive: null, error: `${word} needs a repository` };
      positionals.push(value);
      i++;
      continue;
    }
    if (word.startsWith('--repo=')) {
      positionals.push(word.slice('--repo='.length));
      continue;
    }
    if (word.startsWith('-r') && !word.startsWith('--') && word.length > 2) {
      positionals.push(word.slice(2));
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      options.push(word);
      if (!word.includes('=') && withValue.has(word) && i + 1 < words.length) options.push(words[++i]!);
      continue;
    }
    positionals.push(word);
  }
  positionals.push(...afterDashDash);
  if (positionals.length > 1) {
    return { options, repository: null, droppedArchive: null, error: `one repository only, got ${positionals.join(' ')}` };
  }
  let repository = positionals[0] ?? null;
  let droppedArchive: string | null = null;
  // borg 1.x REPO::ARCHIVE: a repository path never contains "::" (borg's Location regexes), so the
  // first "::" starts the archive. `borg list REPO::ARCHIVE` would list the whole archive.
  if (major === 1 && repository !== null && repository.includes('::')) {
    const at = repository.indexOf('::');
    droppedArchive = repository.slice(at + 2) || null;
    repository = repository.slice(0, at) || '::';
  }
  return { options, repository, droppedArchive, error: null };
}

// The command doctor plans and probes with: the one that lists a repository's archives
// (borg 1.x `list REPO`; borg 2 `rlist -r REPO`, renamed `repo-list` in 2.0.0b10).
export function listCommand(major: 1 | 2, version: string | undefined): string {
  if (major === 1) return 'list';
  return borg2Generation(version) >= 10 ? 'repo-list' : 'rlist';
}

// borg's argv for the plan: [command, ...options, REPO] (borg 1.x) or [command, ...options, -r, REPO].
export function doctorPlanArgs(split: DoctorWords, major: 1 | 2, version: string | undefined): string[] {
  const repo = split.repository === null ? [] : major === 1 ? [split.repository] : ['-r', split.repository];
  return [listCommand(major, version), ...split.options, ...repo];
}

// The rsh words a run of this plan hands borg: the plan's --rsh (possibly with tborg's keepalive),
// else its BORG_RSH, else the user's.
export function planRshWords(plan: Plan, commandLine: BorgCommandLine, env: NodeJS.ProcessEnv): string[] {
  const rsh = commandLine.rsh;
  if (rsh) {
    const word = plan.baseArgv[rsh.form === 'separate' ? rsh.index + 1 : rsh.index] ?? '';
    const value = rsh.form === 'separate' ? word : word.slice(word.indexOf('=') + 1);
    return splitLikePython(value);
  }
  if (plan.env.BORG_RSH !== undefined) return splitLikePython(plan.env.BORG_RSH);
  return readRsh(null, env).words;
}

// borg2 rest over ssh: the words before the destination in the argv a run of this plan makes ssh run.
export function storeRshWords(plan: Plan): string[] {
  if (plan.env.BORGSTORE_RSH !== undefined) return splitLikePython(plan.env.BORGSTORE_RSH);
  return [...(plan.ssh?.rsh.words ?? [])];
}

// ssh options doctor adds after the user's words: never ask anything (BatchMode also stops
// host-key questions and password prompts, ssh_config(5)); give up connecting after N s.
export function probeSshOptions(connectTimeoutSeconds: number): string[] {
  return ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${connectTimeoutSeconds}`];
}

// Long enough that another borg's moment on a lock is not taken for a held lock. Even readers take
// locks for a moment, with the same --lock-wait: every command takes the local cache's exclusive lock
// while it checks the repository's security (borg 1.2.4 cache.py SecurityManager.assert_secure:
// `with cache_config:` -> CacheConfig.open -> Lock(..., exclusive=True)), and a shared repository lock
// takes lock.exclusive as the mutex of lock.roster (locking.py Lock.acquire/release). On a busy
// machine such a moment can pass 1 s. A held lock is still reported within these seconds.
export const PROBE_LOCK_WAIT_SECONDS = 5;

// How long a lock holder seen in the lock files must stay to count as holding the lock: a reader's
// moment on the cache lock (above) is over long before; a backup holds it for its whole run.
export const LASTING_HOLDER_MS = 1500;

// The borg argv and environment of the repository probe: the plan's argv with doctor's ssh
// options in the rsh and, last (so they win over the user's at the same level: argparse keeps the
// last value), `--json --last 1 --lock-wait 5` before the repository.
export function repositoryProbe(
  plan: Plan,
  commandLine: BorgCommandLine,
  env: NodeJS.ProcessEnv,
  split: DoctorWords,
  major: 1 | 2,
  sshOptions: readonly string[] | null,
): { argv: string[]; env: Record<string, string> } {
  const argv = [...plan.baseArgv];
  const probeEnv: Record<string, string> = { ...plan.env };
  if (sshOptions !== null && plan.ssh?.transport === 'borg serve --rest') {
    // borgstore runs BORGSTORE_RSH verbatim: the words a run uses (with -p PORT where borgstore's
    // default has it) plus doctor's options.
    probeEnv.BORGSTORE_RSH = joinRsh([...storeRshWords(plan), ...sshOptions]);
  } else if (sshOptions !== null && plan.ssh !== null) {
    const words = [...planRshWords(plan, commandLine, env), ...sshOptions];
    const rsh = commandLine.rsh;
    if (rsh && rsh.form === 'separate') argv[rsh.index + 1] = joinRsh(words);
    else if (rsh) argv[rsh.index] = `--rsh=${joinRsh(words)}`;
    else probeEnv.BORG_RSH = joinRsh(words);
  }
  const repoWords = split.repository === null ? 0 : major === 1 ? 1 : 2;
  argv.splice(argv.length - repoWords, 0, '--json', '--last', '1', '--lock-wait', String(PROBE_LOCK_WAIT_SECONDS));
  return { argv, env: probeEnv };
}

// ---------------------------------------------------------------------------------------------
// Individual checks (pure)

export interface LocalBorgFacts {
  path: string | null;
  version: string | null;
  // Why no borg was found (findBorg's message).
  error: string | null;
  fromOption: boolean;
  // `borg` entries on PATH that are tborg itself and were skipped.
  skippedTborg: string[];
}

export function checkLocalBorg(facts: LocalBorgFacts): Check {
  if (facts.path === null) {
    return { name: 'borg', status: 'fail', detail: facts.error ?? 'no borg found', data: { path: null, version: null } };
  }
  const skipped = facts.skippedTborg.length > 0 ? `; skipped ${facts.skippedTborg.join(', ')} (tborg itself)` : '';
  const from = facts.fromOption ? ' (from --tborg-borg/TBORG_BORG)' : '';
  const data = { path: facts.path, version: facts.version, skippedTborg: facts.skippedTborg };
  if (facts.version === null) {
    return { name: 'borg', status: 'warn', detail: `${facts.path}${from}: \`borg --version\` printed no version${skipped}`, data };
  }
  return { name: 'borg', status: 'ok', detail: `${facts.path} ${facts.version}${from}, not tborg${skipped}`, data };
}

export function checkLocation(input: PlanInput, split: DoctorWords): Check {
  const cl = input.commandLine;
  if (split.error !== null) return { name: 'location', status: 'fail', detail: `bad argument: ${split.error}` };
  if (cl.invalid !== null) return { name: 'location', status: 'fail', detail: `bad argument: ${cl.invalid}` };
  const repo = cl.repository;
  if (repo === null || !cl.opensRepository) {
    return {
      name: 'location',
      status: 'fail',
      detail: split.repository === null ? 'no repository given, and BORG_REPO is not set' : `bad argument: borg would not open a repository with ${input.args.join(' ')}`,
    };
  }
  const l = repo.location;
  const parts: string[] = [l.proto === 'file' ? 'local' : l.proto];
  if (l.host) parts.push(`host ${l.host}`);
  if (l.port) parts.push(`port ${l.port}`);
  if (l.user) parts.push(`user ${l.user}`);
  parts.push(`path ${l.path}`);
  const from = repo.source === 'BORG_REPO' ? ' (from BORG_REPO)' : '';
  const dropped = split.droppedArchive ? `; ::${split.droppedArchive} ignored: doctor checks the repository` : '';
  return {
    name: 'location',
    status: 'ok',
    detail: `${l.location}${from}: ${parts.join(', ')}${dropped}`,
    data: { location: l.location, proto: l.proto, host: l.host, port: l.port, user: l.user, path: l.path, source: repo.source },
  };
}

// Where ServerAlive* come from, as found by findKeepaliveSources (null: nowhere: ssh's default).
export interface KeepaliveSources {
  interval: string | null;
  countMax: string | null;
  // The user's ssh config file ssh reads for these words (null: -F none), for the hint.
  configFile: string | null;
  explicitConfig: boolean;
}

export function checkKeepalive(plan: Plan, input: PlanInput, sources: KeepaliveSources | null): Check {
  const loc = input.commandLine.repository?.location;
  const host = loc?.host ?? '?';
  const base = { state: plan.keepalive, configured: plan.ssh?.configured ?? null, effective: plan.ssh?.effective ?? null };
  if (input.nonSshRsh && loc?.proto === 'ssh') {
    const words = joinRsh(input.nonSshRsh.words);
    return {
      name: 'keepalive',
      status: 'warn',
      detail: `${input.nonSshRsh.source} (${words}) is not ssh: tborg cannot check or add a keepalive; a dropped connection may hang borg`,
      data: { ...base, rsh: input.nonSshRsh.words },
    };
  }
  if (plan.ssh === null || input.ssh === null) {
    const what = loc?.proto === 'file' ? 'local repository' : `${loc?.proto ?? 'no'} repository, no ssh of borg's`;
    return { name: 'keepalive', status: 'skip', detail: `not applicable: ${what}`, data: base };
  }
  const c = plan.ssh.configured;
  const e = plan.ssh.effective;
  const giveUp = (k: { serverAliveInterval: number; serverAliveCountMax: number }): string =>
    `ssh gives up on a silent server after (${k.serverAliveCountMax}+1) x ${k.serverAliveInterval} = ${(k.serverAliveCountMax + 1) * k.serverAliveInterval} s`;
  const data = { ...base, intervalSource: sources?.interval ?? null, countMaxSource: sources?.countMax ?? null };
  if (plan.keepalive === 'configured') {
    const interval = `ServerAliveInterval ${c.serverAliveInterval} from ${sources?.interval ?? 'ssh -G (source not found)'}`;
    const count = `ServerAliveCountMax ${c.serverAliveCountMax} ${sources?.countMax ? `from ${sources.countMax}` : "(ssh's default)"}`;
    return { name: 'keepalive', status: 'ok', detail: `${interval}, ${count}: ${giveUp(c)}; tborg adds nothing`, data };
  }
  const debian = input.ssh.intervalIsDefault
    ? ` (its ServerAliveInterval ${c.serverAliveInterval} is Debian's default for BatchMode yes, not a keepalive you chose)`
    : '';
  const block = input.ssh.hostBlock ? `; its Host block: ${input.ssh.hostBlock.file}:${input.ssh.hostBlock.line}` : '';
  const hint = `tborg ssh-config ${host}${sources?.explicitConfig && sources.configFile ? ` --config ${sources.configFile}` : ''} --write`;
  const none = `your ssh config sets no keepalive for ${host}${debian}${block}`;
  if (plan.keepalive === 'injected') {
    const into = plan.env.BORGSTORE_RSH !== undefined ? 'BORGSTORE_RSH' : plan.env.BORG_RSH !== undefined ? 'BORG_RSH' : '--rsh';
    const inject = [`ServerAliveInterval ${e.serverAliveInterval}`];
    if (e.serverAliveCountMax !== c.serverAliveCountMax) inject.push(`ServerAliveCountMax ${e.serverAliveCountMax}`);
    return {
      name: 'keepalive',
      status: 'warn',
      detail: `${none}; tborg injects ${inject.join(', ')} into ${into} (${giveUp(e)}); to make it yours: ${hint}`,
      data: { ...data, injectedInto: into },
    };
  }
  const mode = plan.keepalive === 'warned' ? 'warn' : 'off';
  return {
    name: 'keepalive',
    status: 'warn',
    detail: `${none}; --tborg-keepalive-mode ${mode}: nothing injected, a dropped connection can hang borg for hours; fix: ${hint}`,
    data,
  };
}

export function checkLockWait(plan: Plan, options: { serverAliveGiven: boolean }): Check {
  const lw = plan.lockWait;
  const m = lw.model;
  const data = {
    seconds: lw.seconds,
    userGiven: lw.userGiven,
    attemptSeconds: lw.attemptSeconds,
    formula: m?.formula ?? null,
    clientBound: m?.clientBound ?? null,
    serverBound: m?.serverBound ?? null,
    margin: m?.margin ?? null,
    model: m && { kind: m.kind, why: m.why },
  };
  if (m === null) return { name: 'lock-wait', status: 'skip', detail: 'none: borg would not open a repository', data };
  // The plan's own warnings about the lock wait (not the keepalive ones, which checkKeepalive reports).
  const warnings = plan.warnings.map((w) => w.text).filter((t) => !t.startsWith('ssh to ') && !t.includes(' is not ssh'));
  if (m.kind === 'store') {
    const attempts = lw.attemptSeconds !== null ? `; borg attempts of --lock-wait ${lw.attemptSeconds}` : '';
    const detail = `${formatDuration(lw.seconds)}${lw.userGiven ? ` (your ${lw.userSource ?? '--lock-wait'})` : ''}: store-lock model, ${m.formula}: ${m.why}${attempts}`;
    if (warnings.length > 0) return { name: 'lock-wait', status: 'warn', detail: `${detail}; ${warnings.join('; ')}`, data };
    return { name: 'lock-wait', status: 'ok', detail, data };
  }
  const server = m.serverAlive
    ? `a stale borg serve is gone ~${m.serverBound} s after a drop (server ClientAlive ${m.serverAlive.interval} x ${m.serverAlive.countMax}${options.serverAliveGiven ? '' : ', assumed: tell tborg with --tborg-server-alive'})`
    : `a stale borg serve can hold the lock ~${formatDuration(m.serverBound)} (no ClientAlive on the server: TCP keepalive)`;
  const client = m.clientBound > 0 ? `your ssh gives up after ${m.clientBound} s, ` : '';
  const attempts = lw.attemptSeconds !== null ? `; borg attempts of --lock-wait ${lw.attemptSeconds}` : '';
  const detail = `${formatDuration(lw.seconds)}${lw.userGiven ? ' (your --lock-wait)' : ''}: ${m.formula}: ${client}${server}${attempts}`;
  if (warnings.length > 0) return { name: 'lock-wait', status: 'warn', detail: `${detail}; ${warnings.join('; ')}`, data };
  return { name: 'lock-wait', status: 'ok', detail, data };
}

// What one child process did.
export interface ProbeResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  // The child could not be started (ENOENT, ...).
  spawnError?: string;
}

// stderr as lines: CRs dropped (ssh ends its messages in \r\n), blank lines dropped, and a
// --log-json line turned into its message.
export function stderrLines(stderr: string): string[] {
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('{')) {
      try {
        const parsed = JSON.parse(line) as { message?: unknown; msgid?: unknown };
        if (typeof parsed.message === 'string') {
          lines.push(parsed.msgid === 'LockTimeout' && !/Failed to create/.test(parsed.message) ? `${parsed.message} (LockTimeout)` : parsed.message);
          continue;
        }
      } catch {
        // not JSON after all
      }
    }
    lines.push(line);
  }
  return lines;
}

const SSH_NOISE = /^(Warning: Permanently added|Pseudo-terminal will not be allocated|debug\d?:|OpenSSH_)/;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const VERSION_RE = /^borg\S*\s+(\d+\.\d+\S*)/m;

export interface ServerProbeContext {
  host: string;
  remotePath: string;
  localMajor: 1 | 2 | null;
  timeoutSeconds: number;
}

// `ssh ... HOST REMOTE_PATH --version`. ssh's own failures exit 255 (ssh(1)); anything else is the
// remote command's exit code. A forced command in authorized_keys runs instead of ours: when it is
// `borg serve`, borg still answers --version (borg 1.2 archiver.py get_args parses
// SSH_ORIGINAL_COMMAND with its own parser, whose --version action prints and exits).
export function interpretServerProbe(result: ProbeResult, ctx: ServerProbeContext): Check {
  const command = `${ctx.remotePath} --version`;
  const lines = stderrLines(result.stderr).filter((l) => !SSH_NOISE.test(l));
  const said = lines.join('; ');
  const data: Record<string, unknown> = { host: ctx.host, remotePath: ctx.remotePath, seconds: result.durationMs / 1000, exitCode: result.exitCode };
  if (result.spawnError) return { name: 'server', status: 'fail', detail: `cannot run ssh: ${result.spawnError}`, data };
  if (result.timedOut) {
    return { name: 'server', status: 'fail', detail: `no answer from ${ctx.host} within ${ctx.timeoutSeconds} s${said ? `: ${said}` : ''}`, data };
  }
  if (result.exitCode === 255) {
    let what: string;
    if (/Permission denied|Too many authentication failures/.test(said)) {
      what = `cannot log in to ${ctx.host} without a prompt (BatchMode): ${said}; the key must be unencrypted or in ssh-agent`;
    } else if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(said)) {
      what = `${ctx.host}'s host key is not known or has changed: ${said}; connect once with ssh to check and accept it`;
    } else {
      what = `cannot reach ${ctx.host}: ${said || 'ssh exited 255'}`;
    }
    return { name: 'server', status: 'fail', detail: what, data };
  }
  const version = VERSION_RE.exec(result.stdout)?.[1] ?? null;
  data.remoteVersion = version;
  const took = `reachable in ${seconds(result.durationMs)}`;
  if (version !== null) {
    const remoteMajor = Number(version.split('.')[0]);
    if (ctx.localMajor !== null && remoteMajor !== ctx.localMajor) {
      const hint = ctx.localMajor === 2 ? ' (borg 2 needs a borg 2 server: --remote-path)' : '';
      return { name: 'server', status: 'warn', detail: `${took}; the server runs borg ${version}, this borg is ${ctx.localMajor}.x${hint}`, data };
    }
    return { name: 'server', status: 'ok', detail: `${took}; the server runs borg ${version} (${ctx.remotePath})`, data };
  }
  if (result.exitCode === 127 || /command not found|No such file or directory/.test(said)) {
    return {
      name: 'server',
      status: 'fail',
      detail: `reachable, but the server has no ${ctx.remotePath}: ${said || `exit ${result.exitCode}`}; give --remote-path or install borg there`,
      data,
    };
  }
  const answer = result.stdout.trim().split('\n')[0] ?? '';
  const printed = answer ? `answered "${answer.slice(0, 60)}"` : 'printed nothing';
  data.restricted = true;
  return {
    name: 'server',
    status: 'ok',
    detail: `${took}; remote command restricted (forced command?): \`${command}\` ${printed}${result.exitCode ? `, exit ${result.exitCode}` : ''}; which borg runs there is unknown`,
    data,
  };
}

export interface RepositoryProbeContext {
  command: string; // e.g. "borg list", for messages
  env: NodeJS.ProcessEnv;
  home: string;
  timeoutSeconds: number;
  now: Date;
  // borg2 rest over ssh (b22+): the lock is a store lock in the repository (lock-wait.ts 'store').
  storeLock?: boolean;
}

export interface RepositoryOutcome {
  repository: Check;
  lock: Check;
  // From borg's JSON, for the cache lock check.
  repositoryId: string | null;
}

interface ListJson {
  archives?: Array<{ name?: string; time?: string; start?: string }>;
  encryption?: { mode?: string };
  repository?: { id?: string; last_modified?: string };
}

// "2 h ago", "3 d ago", "in the future".
export function describeAge(then: Date, now: Date): string {
  const s = (now.getTime() - then.getTime()) / 1000;
  if (!Number.isFinite(s)) return 'at an unknown time';
  if (s < -60) return 'in the future (clock skew?)';
  if (s < 90) return 'just now';
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// What `borg list --json --last 1 --lock-wait 5 REPO` (rlist/repo-list for borg 2) says about the
// repository and its lock. Messages are borg's own (docs/facts.md, measured on 1.2.4): the lock comes
// first (Repository.open takes it right after checking the directory exists), the key after it, so
// a passphrase problem means the lock was free.
export function interpretRepositoryProbe(result: ProbeResult, ctx: RepositoryProbeContext): RepositoryOutcome {
  const lines = stderrLines(result.stderr);
  const text = lines.join('\n');
  const last = lines.filter((l) => !/^Warning: Attempting to access|^Do you want to continue/.test(l)).slice(-2).join('; ');
  const skipLock = (why: string): Check => ({ name: 'lock', status: 'skip', detail: why, data: { locked: null, kind: null, path: null } });
  const lockFree: Check = {
    name: 'lock',
    status: 'ok',
    detail: `not locked: ${ctx.command} got its lock (readers such as borg mount are not seen this way)`,
    data: { locked: false, kind: null, path: null },
  };
  const fail = (detail: string, lock: Check, data: Record<string, unknown> = {}): RepositoryOutcome => ({
    repository: { name: 'repository', status: 'fail', detail, data: { exitCode: result.exitCode, ...data } },
    lock,
    repositoryId: null,
  });
  if (result.spawnError) return fail(`cannot run borg: ${result.spawnError}`, skipLock('not checked'));
  if (result.timedOut) {
    return fail(`${ctx.command} did not finish within ${ctx.timeoutSeconds} s${last ? `: ${last}` : ''}`, skipLock('not checked: borg did not finish'));
  }
  const lock = LOCK_TIMEOUT_RE.exec(text);
  if (lock || result.exitCode === 73 || /LockTimeout/.test(text)) {
    const path = lock?.[1] ?? null;
    const cache = isCacheLock(path ?? undefined, ctx.env, ctx.home);
    const kind = cache ? 'cache' : 'repository';
    // borg2 2.0.0b24+ names the holders (storelocking.py format_locks: "exclusive lock on host H,
    // pid P, age A"); the probe's shared lock is blocked only by an exclusive one.
    const holders = /Repository is locked by: (.*?)\.?$/m.exec(text)?.[1];
    const why = cache
      ? 'another borg on this machine is using its cache of this repository'
      : ctx.storeLock
        ? `${holders ? `held by ${holders}` : 'another client holds an exclusive lock (check, compact, ...)'}; borg2 keeps a vanished client's lock in the repository until it is 30m0s old (tborg waits for that, see lock-wait)`
        : 'another borg is using it, or a stale borg serve is left from a dropped connection (tborg waits for it, see lock-wait)';
    return {
      repository: { name: 'repository', status: 'skip', detail: 'not opened: it is locked (see lock)', data: { exitCode: result.exitCode } },
      lock: {
        name: 'lock',
        status: 'warn',
        detail: `locked now (${kind} lock${path ? ` ${path}` : ''}): ${why}`,
        data: { locked: true, kind, path, ...(holders ? { holders } : {}) },
      },
      repositoryId: null,
    };
  }
  if (/Repository .* does not exist\./.test(text) || result.exitCode === 13) {
    return fail(`does not exist: ${last}`, skipLock('not checked: no repository'));
  }
  if (/is not a valid repository/.test(text) || result.exitCode === 15) {
    return fail(`not a borg repository: ${last}`, skipLock('not checked: no repository'));
  }
  if (/Repository path not allowed|path not allowed/i.test(text)) {
    return fail(`the server's borg serve refuses this path (--restrict-to-path/--restrict-to-repository): ${last}`, skipLock('not checked'));
  }
  if (/Borg server is too old/.test(text)) {
    return fail(`the server's borg is too old for this borg: ${last}; point --remote-path at a newer borg`, skipLock('not checked'));
  }
  // borg 1.2: "passphrase supplied in ..."; 1.4.5 capitalises it ("Passphrase supplied in ...").
  if (/passphrase supplied in BORG_PASSPHRASE.* is incorrect/i.test(text) || result.exitCode === 52) {
    return fail(`wrong passphrase: ${last}`, lockFree);
  }
  if (/can not acquire a passphrase|Interactive password query failed|exceeded the maximum password retries/.test(text)) {
    return fail('needs a passphrase and none is given (BORG_PASSPHRASE, BORG_PASSCOMMAND or BORG_PASSPHRASE_FD); borg would prompt, a cron job cannot answer', lockFree);
  }
  if (/previously unknown unencrypted repository/.test(text) && /Aborting|aborted/.test(text)) {
    return fail(
      'borg asks before using an unencrypted repository it has not seen from this machine, and a cron job cannot answer: set BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes or run borg list once at a terminal',
      lockFree,
    );
  }
  if (/was previously located at/.test(text) && /Aborting|aborted/.test(text)) {
    return fail('borg asks because the repository moved, and a cron job cannot answer: set BORG_RELOCATED_REPO_ACCESS_IS_OK=yes or run borg list once at a terminal', lockFree);
  }
  if (/Is borg working on the server\?/.test(text) || [80, 81, 87].includes(result.exitCode ?? -1)) {
    return fail(`borg serve did not work on the server: ${last}`, skipLock('not checked: no connection'));
  }
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    return fail(`${ctx.command} failed (exit ${result.exitCode ?? 'none'})${last ? `: ${last}` : ''}`, skipLock('not checked'));
  }
  let json: ListJson | null = null;
  try {
    json = JSON.parse(result.stdout) as ListJson;
  } catch {
    json = null;
  }
  const newest = json?.archives?.at(-1);
  const when = newest?.time ?? newest?.start;
  const archive = newest
    ? `newest archive ${newest.name ?? '?'}${when ? ` from ${when.replace(/\.\d+$/, '')} (${describeAge(new Date(when), ctx.now)})` : ''}`
    : json
      ? 'no archives yet'
      : 'no JSON from borg';
  const mode = json?.encryption?.mode;
  const data = {
    exitCode: result.exitCode,
    id: json?.repository?.id ?? null,
    encryption: mode ?? null,
    newestArchive: newest ? { name: newest.name ?? null, time: when ?? null } : null,
    seconds: result.durationMs / 1000,
  };
  const detail = `opens (${mode ? `encryption ${mode}, ` : ''}${seconds(result.durationMs)}); ${archive}`;
  return {
    repository:
      result.exitCode === 1
        ? { name: 'repository', status: 'warn', detail: `${detail}; borg warned: ${last}`, data }
        : { name: 'repository', status: 'ok', detail, data },
    lock: lockFree,
    repositoryId: json?.repository?.id ?? null,
  };
}

// A lock directory of borg (locking.py): `lock.exclusive/` holds one file named
// "<host id>.<pid>-<thread id hex>" (ExclusiveLock.unique_name) while someone holds it; `lock.roster`
// is JSON {"shared": [[host, pid, thread], ...], "exclusive": [...]} (LockRoster).
export interface LockHolder {
  host: string;
  pid: number;
  kind: 'exclusive' | 'shared';
}

export function parseExclusiveName(name: string): LockHolder | null {
  const m = /^(.*)\.(\d+)-[0-9a-f]+$/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]), kind: 'exclusive' } : null;
}

export function parseRoster(text: string): LockHolder[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const holders: LockHolder[] = [];
  if (typeof data !== 'object' || data === null) return holders;
  for (const kind of ['exclusive', 'shared'] as const) {
    const list = (data as Record<string, unknown>)[kind];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number') {
        holders.push({ host: entry[0], pid: entry[1], kind });
      }
    }
  }
  return holders;
}

export function describeHolder(h: LockHolder, alive: boolean | null): string {
  const state = alive === null ? '' : alive ? ', running' : ', gone: stale, borg removes it itself';
  return `${h.kind} lock of pid ${h.pid} on ${h.host.split('@')[0]}${state}`;
}

// After a free repository lock: the local cache lock of this repository (another borg on this
// machine; `borg list` does not take it, `borg create` does), or, for a local repository, other
// readers in its roster. `holders` are what the files said, `ownHost` tells which pids to test.
export function checkHolders(kind: 'cache' | 'repository', path: string, holders: readonly LockHolder[], isAlive: (h: LockHolder) => boolean | null): Check | null {
  if (holders.length === 0) return null;
  const described = holders.map((h) => describeHolder(h, isAlive(h)));
  const what = kind === 'cache' ? 'another borg on this machine uses its cache of this repository' : 'a reader (borg mount, list, extract?) holds it; a backup would wait';
  return {
    name: 'lock',
    status: 'warn',
    detail: `locked now (${kind} lock ${path}: ${described.join('; ')}): ${what}`,
    data: { locked: true, kind, path, holders },
  };
}

// ---------------------------------------------------------------------------------------------
// Gathering facts (impure)

// Where ServerAliveInterval/CountMax for `alias` come from, in ssh's order: a -o in the user's
// words (command line beats every file), the user's file (or -F file), the system file (not with
// -F). ssh -G has already said what the values are; this only says where they are written.
export function findKeepaliveSources(words: readonly string[], source: string, alias: string, user: string | null, env: NodeJS.ProcessEnv): KeepaliveSources {
  const parsed = parseSshArgv(words.slice(1));
  const file = userConfigFile(words, env);
  const explicit = parsed.configFile !== undefined;
  const home = safeHome();
  const shortPath = (p: string): string => (home && p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p);
  const find = (keyword: 'ServerAliveInterval' | 'ServerAliveCountMax'): string | null => {
    const wanted = keyword.toLowerCase();
    for (const option of parsed.options) {
      const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option);
      if (m && canonicalKeyword(m[1]!.toLowerCase()) === wanted) return `${source} (-o ${option})`;
    }
    const places = [
      ...(file ? [{ file, system: false }] : []),
      ...(explicit ? [] : [{ file: SYSTEM_CONFIG_FILE, system: true }]),
    ];
    for (const place of places) {
      const found = findSettingSource(place.file, alias, keyword, { user, system: place.system });
      if (found) {
        const where = describePlace({ ...found, file: shortPath(found.file) });
        return found.certain ? where : `${where}, if that Match applies`;
      }
    }
    return null;
  };
  return { interval: find('ServerAliveInterval'), countMax: find('ServerAliveCountMax'), configFile: file, explicitConfig: explicit };
}

function safeHome(): string | null {
  try {
    return userInfo().homedir;
  } catch {
    return null;
  }
}

export function gatherLocalBorg(context: CommandContext): LocalBorgFacts {
  const { env } = context;
  const skippedTborg: string[] = [];
  for (const dir of (env.PATH ?? '').split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/borg`;
    if (isTborg(candidate, context.selfPaths)) skippedTborg.push(candidate);
  }
  try {
    const path = findBorg(context.options.borg, env, context.selfPaths);
    const version = readBorgVersion(path, env);
    return { path, version: version?.version ?? null, error: null, fromOption: context.options.borg !== undefined, skippedTborg };
  } catch (error) {
    if (error instanceof TborgError) return { path: null, version: null, error: error.message.replace(/^tborg: /, ''), fromOption: false, skippedTborg };
    throw error;
  }
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type ProcessRunner = (file: string, args: readonly string[], options: RunOptions) => Promise<ProbeResult>;

// Runs one child with execa (loaded here, so a plain `tborg create` never loads it): stdin
// /dev/null, both outputs buffered (small: a version line, one archive of JSON), in a session of its
// own so nothing can open the terminal. On timeout or abort its whole process group gets SIGTERM
// (borg releases its lock on SIGTERM, and borg's own ssh is in that group), SIGKILL 2 s later.
export const runProbe: ProcessRunner = async (file, args, options) => {
  const { execa } = await import('execa');
  const started = Date.now();
  const child = execa(file, [...args], {
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    detached: true,
    maxBuffer: 16 * 1024 * 1024,
    stripFinalNewline: false,
  });
  const pid = child.pid;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  let stopped = false;
  let hardKill: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    killGroup('SIGTERM');
    hardKill = setTimeout(() => killGroup('SIGKILL'), 2000);
  };
  const timer = setTimeout(stop, options.timeoutMs);
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  const result = await child;
  clearTimeout(timer);
  clearTimeout(hardKill);
  options.signal?.removeEventListener('abort', stop);
  // Whatever of the group is left (borg's ssh after borg was stopped) must not outlive doctor.
  if (stopped) killGroup('SIGKILL');
  const spawnError = pid === undefined ? result.shortMessage : undefined;
  return {
    exitCode: result.exitCode ?? null,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    timedOut: stopped,
    durationMs: Date.now() - started,
    ...(spawnError !== undefined ? { spawnError } : {}),
  };
};

// The ssh argv of the reachability probe: the plan's rsh words (with tborg's keepalive, as a run
// would have them) + doctor's -o options + borg's `-p PORT` and [user@]host + the remote command.
export function serverProbeArgv(rshWords: readonly string[], sshOptions: readonly string[], loc: { user: string | null; host: string; port: number | null }, remotePath: string): string[] {
  return [...sshTarget([...rshWords, ...sshOptions], loc), remotePath, '--version'];
}

// ---------------------------------------------------------------------------------------------
// The whole run (impure)

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

export interface DoctorReport {
  checks: Check[];
  verdict: Verdict;
  plan: Plan | null;
  // The borg argv doctor planned with (what `tborg plan ARGS` would show).
  planArgs: string[] | null;
  durationMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

const ORDER: readonly CheckName[] = ['borg', 'location', 'keepalive', 'lock-wait', 'server', 'repository', 'lock'];

export async function runDoctor(context: CommandContext, words: readonly string[], afterDashDash: readonly string[], options: DoctorOptions = {}): Promise<DoctorReport> {
  const started = Date.now();
  const run = options.run ?? runProbe;
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
  const major: 1 | 2 = borg.version !== null && Number(borg.version.split('.')[0]) >= 2 ? 2 : 1;
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
    add({ name: 'keepalive', status: 'fail', detail: error.message.replace(/^tborg: /, '') });
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
  const sources = input.ssh && loc.host ? findKeepaliveSources(input.ssh.rsh.words, input.ssh.rsh.source, loc.host, loc.user, env) : null;
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
  const home = env.HOME || safeHome() || '/';
  const repositoryRun = run(plan.borg.path, probe.argv, { env: { ...env, ...probe.env }, timeoutMs: repositoryTimeout * 1000, signal: repositorySignal });
  if (input.ssh && loc.host) {
    const argv = input.ssh.rest
      ? [...storeRshWords(plan), ...sshOptions, loc.user ? `${loc.user}@${loc.host}` : loc.host, remotePath, '--version']
      : serverProbeArgv(planRshWords(plan, commandLine, env), sshOptions, { user: loc.user, host: loc.host, port: loc.port }, remotePath);
    const result = await run(argv[0]!, argv.slice(1), { env, timeoutMs: serverTimeout * 1000, ...(options.signal ? { signal: options.signal } : {}) });
    const server = interpretServerProbe(result, { host: loc.host, remotePath, localMajor: major, timeoutSeconds: serverTimeout });
    server.data = { ...server.data, argv };
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
    command, env, home, timeoutSeconds: repositoryTimeout, now: now(), storeLock: plan.lockWait.model?.kind === 'store',
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
      lock =
        checkHolders('repository', join(loc.path, 'lock.roster'), await lastingLockHolders(loc.path), (h) => holderAlive(h, env)) ??
        { ...lock, detail: `not locked: ${command} got its lock, and no reader is in its lock.roster` };
    }
  }
  add(lock);
  return finish();
}

// The holders of the lock in `dir` that are still there `settleMs` later: a glimpse of another
// borg's momentary lock (see LASTING_HOLDER_MS) is not a lock anyone waits for. Reads the files at
// most twice; waits only when the first read found somebody.
export async function lastingLockHolders(
  dir: string,
  settleMs = LASTING_HOLDER_MS,
  read: (dir: string) => LockHolder[] = readLockHolders,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<LockHolder[]> {
  const first = read(dir);
  if (first.length === 0) return first;
  await sleep(settleMs);
  const second = read(dir);
  return second.filter((h) => first.some((f) => f.host === h.host && f.pid === h.pid && f.kind === h.kind));
}

// Who holds the lock in `dir` (a repository or a cache directory), from borg's lock files; [] when
// there are none or they cannot be read.
export function readLockHolders(dir: string): LockHolder[] {
  const holders: LockHolder[] = [];
  try {
    for (const name of readdirSync(join(dir, 'lock.exclusive'))) {
      const h = parseExclusiveName(name);
      if (h) holders.push(h);
    }
  } catch {
    // no exclusive lock
  }
  try {
    for (const h of parseRoster(readFileSync(join(dir, 'lock.roster'), 'utf8'))) {
      if (!holders.some((x) => x.host === h.host && x.pid === h.pid)) holders.push(h);
    }
  } catch {
    // no roster
  }
  return holders;
}

// Whether a lock holder's process runs, when it is on this machine: borg's host id is
// BORG_HOST_ID, else "<fqdn>@<MAC as a number>" (platform/base.py hostid). null: another host.
function holderAlive(holder: LockHolder, env: NodeJS.ProcessEnv): boolean | null {
  const ours = env.BORG_HOST_ID ? holder.host === env.BORG_HOST_ID : holder.host.split('@')[0]!.split('.')[0] === hostname().split('.')[0];
  if (!ours) return null;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
