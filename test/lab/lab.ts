import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { quote } from 'shlex';
import { inLine, lockHeld, matrixProblems, sshUrl, type BorgLine } from './borgs.js';
import { descendants, isRunning, pidExists, runBuffered, sleep, waitFor, type RunOptions, type RunResult } from './processes.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// The test lab: a throwaway sshd on loopback, with throwaway keys and an `ssh -F` client config,
// in a network namespace of its own where faults (dropped connections) can be injected. Client and
// server both run inside the namespace, so nothing outside it sees the lab's traffic and iptables
// rules added here vanish with the namespace. Never touches ~/.ssh, /etc/ssh or the system sshd.

interface AlivePair {
  interval: number;
  countMax: number;
}

export interface LabOptions {
  // sshd's ClientAliveInterval/ClientAliveCountMax; null or undefined: not set (sshd's default, off).
  clientAlive?: AlivePair | null;
  // Run in a network namespace of its own. Default: true when root (it needs root).
  netns?: boolean;
  // A word for the temporary directory's name, to tell labs apart when debugging.
  name?: string;
  // The borg line (test/lab/borgs.ts) the lab runs: its root's sshd serves, and run/spawn/command
  // run argv in its root with BORG_REMOTE_PATH/TBORG_BORG set for it. Default: the machine's own
  // borg, as before the matrix.
  line?: BorgLine;
}

export type { RunResult } from './processes.js';

interface LabSpawnOptions extends SpawnOptions {
  env?: NodeJS.ProcessEnv;
}

interface ClientConnection {
  localPort: number;
  pid?: number;
  command?: string;
}

export interface Lab {
  // mkdtemp directory holding everything: keys, configs, logs, repositories, the client's BORG_BASE_DIR.
  readonly dir: string;
  // The network namespace both client and server run in; undefined without one.
  readonly netns: string | undefined;
  // The borg line it runs (undefined: the machine's own borg, from PATH).
  readonly line: BorgLine | undefined;
  // The ssh alias to use in repository URLs.
  readonly host: string;
  readonly port: number;
  // The client config for `ssh -F`. It sets no ServerAlive* option, so tborg's keepalive logic has work to do.
  readonly sshConfig: string;
  // BORG_RSH: "ssh -F <sshConfig>".
  readonly rsh: string;
  readonly sshdConfig: string;
  // sshd's own log (LogLevel DEBUG1): keepalive requests and session starts show up here.
  readonly sshdLog: string;
  readonly sshdPid: number;
  // The throwaway client key (private key path) and its public key line.
  readonly clientKey: string;
  readonly clientPublicKey: string;
  readonly clientAlive: AlivePair | null;
  // Absolute server path <dir>/repos/<name>; the repos directory exists. Names may contain spaces.
  repoPath(name: string): string;
  // "ssh://lab/<absolute path>" (borg2: "ssh://lab//<absolute path>", see sshUrl in borgs.ts).
  repoUrl(name: string): string;
  // Whether a client holds a lock on repository `name` (lock.roster, or borgstore's locks/).
  lockHeld(name: string): boolean;
  // ["ssh", "-F", sshConfig, "lab", ...remoteCommand]
  sshArgv(...remoteCommand: string[]): string[];
  // process.env without BORG_*/TBORG_* plus what a lab client needs, then `extra`.
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  // argv wrapped to run inside the namespace and the line's root (argv itself without either).
  command(argv: readonly string[]): string[];
  // Runs argv inside the namespace with both streams buffered (test use only). env defaults to env().
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  // Starts argv inside the namespace for long-running things. env defaults to env(). close() kills it.
  spawn(argv: readonly string[], options?: LabSpawnOptions): ChildProcess;
  // Replaces authorized_keys (sshd reads it per connection).
  setAuthorizedKeys(text: string): Promise<void>;
  // Pids of processes below the lab's sshd (sessions, `borg serve`), optionally only those whose
  // command line contains `pattern` (or matches it).
  serverPids(pattern?: string | RegExp): Promise<number[]>;
  // Pids of the other processes in the namespace: the client side (borg, ssh, tborg). Needs the namespace.
  clientPids(pattern?: string | RegExp): Promise<number[]>;
  // Established client -> sshd TCP connections (ss -tnp inside the namespace).
  clientConnections(): Promise<ClientConnection[]>;
  // Black-holes one live connection: DROP its packets in both directions. Needs the namespace.
  dropConnection(clientPort: number): Promise<void>;
  // Black-holes sshd's port entirely: live connections stall and new ones hang. Needs the namespace.
  dropAll(): Promise<void>;
  // Answers every new connection to sshd's port with ICMP host-unreachable: ssh says "No route to host".
  // Needs the namespace.
  rejectAll(): Promise<void>;
  // Removes every fault rule.
  heal(): Promise<void>;
  // Limits the namespace's loopback (all lab traffic, both directions) to `kibPerSecond` with a
  // token bucket (tc tbf); null removes the limit. For borgs without --upload-ratelimit (borg2
  // 2.0.0b25). Needs the namespace.
  limitRate(kibPerSecond: number | null): Promise<void>;
  // Stops the listening sshd (live sessions stay): new connections are refused. Idempotent.
  stopSshd(): Promise<void>;
  // Starts sshd again on the same port after stopSshd().
  startSshd(): Promise<void>;
  // Kills sshd and everything in the lab, deletes the namespace and the directory. Idempotent.
  close(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const LAB_PREFIX = 'tborg-lab-';
const FAULT_CHAIN = 'TBORG_LAB_FAULTS';
const NETNS_PORT = 2222;

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function findExecutable(name: string): string | undefined {
  if (name.startsWith('/')) return canExecute(name) ? name : undefined;
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    const candidate = join(dir || '.', name);
    if (canExecute(candidate)) return candidate;
  }
  return undefined;
}

function canExecute(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Whether the full lab (namespace and fault injection) can run here: root and every tool present,
// and with `matrix`, every borg line of the version matrix (test/lab/borgs.ts). Tests that need the
// lab skip with `why` otherwise; under TBORG_REQUIRE_LAB=1 (.ci/run) that would-be skip throws
// instead, so a run without the lab cannot pass.
export function labAvailable(options: { netns?: boolean; matrix?: boolean } = {}): { ok: boolean; why?: string } {
  const result = labCheck(options);
  if (!result.ok && process.env.TBORG_REQUIRE_LAB === '1') {
    throw new Error(`lab: TBORG_REQUIRE_LAB=1 and the lab cannot run: ${result.why}`);
  }
  return result;
}

function labCheck(options: { netns?: boolean; matrix?: boolean }): { ok: boolean; why?: string } {
  const netns = options.netns ?? true;
  if (netns && !isRoot()) return { ok: false, why: 'the lab needs root for its network namespace' };
  const tools = [SSHD, 'ssh', 'ssh-keygen', 'borg', 'ss', ...(netns ? ['ip', 'iptables'] : []), ...(options.matrix ? ['unshare'] : [])];
  const missing = tools.filter((t) => findExecutable(t) === undefined);
  if (missing.length > 0) return { ok: false, why: `missing ${missing.join(', ')} (run npm test as root once: it installs them)` };
  if (options.matrix) {
    const problems = matrixProblems();
    if (problems.length > 0) return { ok: false, why: `the borg version matrix is incomplete: ${problems.join('; ')}` };
  }
  return { ok: true };
}

function sshdQuote(value: string): string {
  // sshd_config takes double-quoted arguments; the lab's paths never contain a double quote.
  return `"${value}"`;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function check(argv: readonly string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  const result = await runBuffered(argv, { timeoutMs: 15_000, ...options });
  if (result.code !== 0) {
    throw new Error(`lab: ${what} failed (${result.code ?? result.signal}): ${argv.join(' ')}\n${result.stderr.toString()}`);
  }
  return result;
}

function labPid(name: string): number | undefined {
  const match = /^tborg-lab-(\d+)-/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function netnsPidsSync(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

function killAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

// Namespaces and directories left by a lab whose process died without closing it (a killed test
// run). Only those whose creating pid is gone are touched, so parallel test files are safe.
export function cleanStaleLabs(): void {
  if (isRoot()) {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const line of (list.stdout ?? '').split('\n')) {
      const ns = line.split(' ')[0] ?? '';
      const pid = labPid(ns);
      if (pid === undefined || pidExists(pid)) continue;
      killAll(netnsPidsSync(ns), 'SIGKILL');
      spawnSync('ip', ['netns', 'delete', ns]);
    }
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = labPid(entry);
    if (pid === undefined || pidExists(pid)) continue;
    try {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    } catch {
      // Someone else's; leave it.
    }
  }
}

let counter = 0;
const openLabs = new Set<LabImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test process ends without close() (an uncaught error): nothing of the lab
  // may outlive the process. Synchronous, as 'exit' handlers must be.
  process.on('exit', () => {
    for (const lab of openLabs) lab.closeSync();
  });
}

class LabImpl implements Lab {
  readonly dir: string;
  readonly netns: string | undefined;
  readonly line: BorgLine | undefined;
  readonly host = 'lab';
  port = 0;
  readonly sshConfig: string;
  readonly rsh: string;
  readonly sshdConfig: string;
  readonly sshdLog: string;
  sshdPid = 0;
  readonly clientKey: string;
  clientPublicKey = '';
  readonly clientAlive: AlivePair | null;
  private readonly children = new Set<ChildProcess>();
  private faultChain = false;
  private closing: Promise<void> | undefined;

  constructor(dir: string, netns: string | undefined, clientAlive: AlivePair | null, line: BorgLine | undefined) {
    this.dir = dir;
    this.netns = netns;
    this.line = line;
    this.clientAlive = clientAlive;
    this.sshConfig = join(dir, 'ssh_config');
    this.rsh = `ssh -F ${quote(this.sshConfig)}`;
    this.sshdConfig = join(dir, 'sshd_config');
    this.sshdLog = join(dir, 'sshd.log');
    this.clientKey = join(dir, 'client_ed25519');
  }

  repoPath(name: string): string {
    if (name.includes('/') || name === '' || name === '.' || name === '..') throw new Error(`lab: bad repository name '${name}'`);
    return join(this.dir, 'repos', name);
  }

  repoUrl(name: string): string {
    return sshUrl(this.line, this.host, this.repoPath(name));
  }

  lockHeld(name: string): boolean {
    return lockHeld(this.line, this.repoPath(name));
  }

  sshArgv(...remoteCommand: string[]): string[] {
    return ['ssh', '-F', this.sshConfig, this.host, ...remoteCommand];
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    // The caller's own borg/tborg settings and node's test-runner plumbing do not belong in the lab.
    return {
      ...inheritedEnv(),
      BORG_RSH: this.rsh,
      BORG_BASE_DIR: join(this.dir, 'client'),
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
      BORG_PASSPHRASE: '',
      BORG_DISPLAY_PASSPHRASE: 'no',
      BORG_CHECK_I_KNOW_WHAT_I_AM_DOING: 'YES',
      BORG_DELETE_I_KNOW_WHAT_I_AM_DOING: 'YES',
      XDG_CACHE_HOME: join(this.dir, 'client-cache'),
      // borg2's `borg serve` on the server, and tborg's borg on the client, when the line is not `borg`.
      ...(this.line && this.line.client !== 'borg' ? { BORG_REMOTE_PATH: this.line.remotePath, TBORG_BORG: this.line.client } : {}),
      // tborg's status records (status-record.ts) stay in the lab, not in the tester's home.
      XDG_STATE_HOME: join(this.dir, 'client-state'),
      ...extra,
    };
  }

  command(argv: readonly string[]): string[] {
    return this.hostCommand(inLine(this.line, argv));
  }

  // The machine's own tools (ss, iptables) inside the namespace, never in the line's root.
  private hostCommand(argv: readonly string[]): string[] {
    return this.netns === undefined ? [...argv] : ['ip', 'netns', 'exec', this.netns, ...argv];
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return runBuffered(this.command(argv), { ...options, env: options.env ?? this.env() });
  }

  spawn(argv: readonly string[], options: LabSpawnOptions = {}): ChildProcess {
    const [file, ...args] = this.command(argv);
    const child = spawn(file!, args, { ...options, env: options.env ?? this.env() });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async setAuthorizedKeys(text: string): Promise<void> {
    const file = join(this.dir, 'authorized_keys');
    // Atomic: sshd may read it at any moment.
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  }

  private matches(cmdline: string, pattern: string | RegExp | undefined): boolean {
    if (pattern === undefined) return true;
    return typeof pattern === 'string' ? cmdline.includes(pattern) : pattern.test(cmdline);
  }

  async serverPids(pattern?: string | RegExp): Promise<number[]> {
    if (!this.sshdPid) return [];
    return descendants(this.sshdPid)
      .filter((p) => this.matches(p.cmdline, pattern))
      .map((p) => p.pid);
  }

  async clientPids(pattern?: string | RegExp): Promise<number[]> {
    const ns = this.requireNetns('clientPids');
    const server = new Set([this.sshdPid, ...descendants(this.sshdPid).map((p) => p.pid)]);
    const r = await runBuffered(['ip', 'netns', 'pids', ns]);
    const pids = r.stdout
      .toString()
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    const result: number[] = [];
    for (const pid of pids) {
      if (server.has(pid) || !isRunning(pid)) continue;
      let cmdline = '';
      try {
        cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      } catch {
        continue;
      }
      if (this.matches(cmdline, pattern)) result.push(pid);
    }
    return result;
  }

  async clientConnections(): Promise<ClientConnection[]> {
    const r = await runBuffered(this.hostCommand(['ss', '-Htnp', 'state', 'established', `( dport = :${this.port} )`]));
    if (r.code !== 0) throw new Error(`lab: ss failed: ${r.stderr.toString()}`);
    const connections: ClientConnection[] = [];
    for (const line of r.stdout.toString().split('\n')) {
      // "0  0  127.0.0.1:45678  127.0.0.1:2222  users:(("ssh",pid=123,fd=3))"
      const fields = line.trim().split(/\s+/);
      const local = fields[2];
      const peer = fields[3];
      if (!local || !peer?.endsWith(`:${this.port}`)) continue;
      const connection: ClientConnection = { localPort: Number(local.slice(local.lastIndexOf(':') + 1)) };
      const proc = /users:\(\("([^"]*)",pid=(\d+)/.exec(line);
      if (proc) {
        connection.command = proc[1]!;
        connection.pid = Number(proc[2]);
      }
      connections.push(connection);
    }
    return connections;
  }

  private requireNetns(what: string): string {
    if (this.netns === undefined) {
      throw new Error(`lab: ${what} needs the lab's network namespace (start the lab as root with netns: true)`);
    }
    return this.netns;
  }

  private async iptables(args: readonly string[]): Promise<void> {
    const ns = this.requireNetns('fault injection');
    // -w: the xtables lock is shared with other namespaces (other test files run in parallel).
    await check(['ip', 'netns', 'exec', ns, 'iptables', '-w', ...args], 'iptables');
  }

  private async ensureFaultChain(): Promise<void> {
    if (this.faultChain) return;
    await this.iptables(['-N', FAULT_CHAIN]);
    await this.iptables(['-I', 'INPUT', '-j', FAULT_CHAIN]);
    this.faultChain = true;
  }

  async dropConnection(clientPort: number): Promise<void> {
    this.requireNetns('dropConnection');
    if (!Number.isInteger(clientPort) || clientPort <= 0) throw new Error(`lab: bad client port ${clientPort}`);
    await this.ensureFaultChain();
    // On loopback every packet passes INPUT once: client->server has sport=clientPort,
    // server->client has dport=clientPort.
    const port = String(this.port);
    const client = String(clientPort);
    await this.iptables(['-A', FAULT_CHAIN, '-p', 'tcp', '--sport', client, '--dport', port, '-j', 'DROP']);
    await this.iptables(['-A', FAULT_CHAIN, '-p', 'tcp', '--sport', port, '--dport', client, '-j', 'DROP']);
  }

  async dropAll(): Promise<void> {
    this.requireNetns('dropAll');
    await this.ensureFaultChain();
    const port = String(this.port);
    await this.iptables(['-A', FAULT_CHAIN, '-p', 'tcp', '--dport', port, '-j', 'DROP']);
    await this.iptables(['-A', FAULT_CHAIN, '-p', 'tcp', '--sport', port, '-j', 'DROP']);
  }

  async limitRate(kibPerSecond: number | null): Promise<void> {
    const ns = this.requireNetns('limitRate');
    if (kibPerSecond === null) {
      await runBuffered(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
      return;
    }
    if (!(kibPerSecond > 0)) throw new Error(`lab: bad rate ${kibPerSecond}`);
    const rate = `${Math.round(kibPerSecond * 8)}kbit`;
    await check(
      ['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', 'lo', 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '2s'],
      'tc qdisc',
    );
  }

  async rejectAll(): Promise<void> {
    this.requireNetns('rejectAll');
    await this.ensureFaultChain();
    await this.iptables([
      '-A',
      FAULT_CHAIN,
      '-p',
      'tcp',
      '--dport',
      String(this.port),
      '-j',
      'REJECT',
      '--reject-with',
      'icmp-host-unreachable',
    ]);
  }

  async stopSshd(): Promise<void> {
    const pid = this.sshdPid;
    if (!pid) return;
    this.sshdPid = 0;
    killAll([pid], 'SIGTERM');
    await waitFor('the lab sshd to stop', () => !isRunning(pid), 5_000);
  }

  async heal(): Promise<void> {
    if (this.netns === undefined || !this.faultChain) return;
    await this.iptables(['-F', FAULT_CHAIN]);
  }

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    openLabs.delete(this);
    for (const child of this.children) child.kill('SIGKILL');
    if (this.netns !== undefined) {
      const ns = this.netns;
      // Everything in the namespace is the lab's: sshd, sessions, borg serve, and clients started in it.
      for (let i = 0; i < 40; i++) {
        const pids = netnsPidsSync(ns).filter(isRunning);
        if (pids.length === 0) break;
        killAll(pids, 'SIGKILL');
        await sleep(25);
      }
      await runBuffered(['ip', 'netns', 'delete', ns]);
    } else if (this.sshdPid) {
      const pids = [this.sshdPid, ...descendants(this.sshdPid).map((p) => p.pid)];
      killAll(pids, 'SIGKILL');
      await waitFor('the lab sshd to exit', () => !pids.some(isRunning), 5_000).catch(() => undefined);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  closeSync(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    openLabs.delete(this);
    for (const child of this.children) child.kill('SIGKILL');
    if (this.netns !== undefined) {
      killAll(netnsPidsSync(this.netns), 'SIGKILL');
      spawnSync('ip', ['netns', 'delete', this.netns]);
    } else if (this.sshdPid) {
      killAll([this.sshdPid, ...descendants(this.sshdPid).map((p) => p.pid)], 'SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- start-up -------------------------------------------------------------------------------

  async start(): Promise<void> {
    const { dir } = this;
    await Promise.all([
      mkdir(join(dir, 'repos')),
      mkdir(join(dir, 'client')),
      mkdir(join(dir, 'client-cache')),
      mkdir(join(dir, 'server')),
      check(
        ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'tborg-lab-host', '-f', join(dir, 'ssh_host_ed25519_key')],
        'ssh-keygen (host key)',
      ),
      check(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'tborg-lab-client', '-f', this.clientKey], 'ssh-keygen (client key)'),
      this.netns === undefined ? Promise.resolve() : this.createNetns(this.netns),
    ]);
    // The privilege separation directory sshd insists on when started as root.
    if (isRoot()) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.clientPublicKey = (await readFile(`${this.clientKey}.pub`, 'utf8')).trim();
    await this.setAuthorizedKeys(`${this.clientPublicKey}\n`);
    // Without a namespace the port is shared with the machine: pick a free one, retry on a race.
    for (let attempt = 1; ; attempt++) {
      this.port = this.netns === undefined ? await freeLoopbackPort() : NETNS_PORT;
      try {
        await this.startSshd();
        break;
      } catch (error) {
        if (this.netns !== undefined || attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
      }
    }
    const hostKey = (await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    // Pre-seeded so ssh never prints "Permanently added ..." (borg would pass that on as Remote: output).
    await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${this.port} ${hostKey}\n`);
    await writeFile(this.sshConfig, this.clientConfigText());
  }

  private async createNetns(ns: string): Promise<void> {
    await check(['ip', 'netns', 'add', ns], 'ip netns add');
    await check(['ip', '-n', ns, 'link', 'set', 'lo', 'up'], 'ip link set lo up');
  }

  private clientConfigText(): string {
    return [
      '# tborg test lab client config (used with ssh -F). Deliberately no ServerAlive* options.',
      `Host ${this.host}`,
      '  HostName 127.0.0.1',
      `  Port ${this.port}`,
      `  User ${userInfo().username}`,
      `  IdentityFile ${sshdQuote(this.clientKey)}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${sshdQuote(join(this.dir, 'known_hosts'))}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking accept-new',
      '  UpdateHostKeys no',
      '  BatchMode yes',
      '',
    ].join('\n');
  }

  private sshdConfigText(): string {
    const lines = [
      '# tborg test lab sshd: throwaway, loopback only',
      'ListenAddress 127.0.0.1',
      `Port ${this.port}`,
      `HostKey ${sshdQuote(join(this.dir, 'ssh_host_ed25519_key'))}`,
      `PidFile ${sshdQuote(join(this.dir, 'sshd.pid'))}`,
      `AuthorizedKeysFile ${sshdQuote(join(this.dir, 'authorized_keys'))}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'LogLevel DEBUG1',
      // borg serve's own files (security dir, config) stay in the lab, not in the server user's home.
      // SHLVL=1: bash (the login shell that runs `borg serve`) sources ~/.bashrc when started by
      // sshd, but only at shell level 1 (bash shell.c run_startup_files, SSH_SOURCE_BASHRC on
      // Debian). A user's .bashrc (pyenv, conda, ...) can cost seconds per connection and print
      // to stderr; the lab's server shell must be the same on every machine.
      `SetEnv BORG_BASE_DIR=${join(this.dir, 'server')} SHLVL=1`,
    ];
    if (this.clientAlive) {
      lines.push(`ClientAliveInterval ${this.clientAlive.interval}`, `ClientAliveCountMax ${this.clientAlive.countMax}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async startSshd(): Promise<void> {
    await writeFile(this.sshdConfig, this.sshdConfigText());
    await writeFile(this.sshdLog, '');
    await check(inLine(this.line, [SSHD, '-t', '-f', this.sshdConfig]), 'sshd -t (config test)');
    // -D: stay in the foreground as our child; -E: log to a file of the lab's own. sshd re-execs
    // itself per connection, which needs the absolute path.
    const [file, ...args] = this.command([SSHD, '-D', '-f', this.sshdConfig, '-E', this.sshdLog]);
    const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const stderr: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    this.sshdPid = child.pid ?? 0;
    try {
      await waitFor(
        `sshd to listen on 127.0.0.1:${this.port}`,
        async () => {
          if (exited) {
            const log = await readFile(this.sshdLog, 'utf8').catch(() => '');
            throw new Error(`lab: sshd exited at start-up: ${Buffer.concat(stderr).toString()}${log}`);
          }
          const log = await readFile(this.sshdLog, 'utf8').catch(() => '');
          return log.includes(`Server listening on 127.0.0.1 port ${this.port}`);
        },
        10_000,
        10,
      );
    } catch (error) {
      child.kill('SIGKILL');
      this.sshdPid = 0;
      throw error;
    }
    // sshd is waited on by close(); it must not keep the test process alive on its own.
    child.unref();
    child.stderr!.destroy();
  }
}

// Starts a lab. Always pair with close() in an after hook (t.after / after), so it also goes on failure.
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const netns = options.netns ?? isRoot();
  const available = labAvailable({ netns, matrix: options.line?.root !== undefined });
  if (!available.ok) throw new Error(`lab: cannot start: ${available.why}`);
  cleanStaleLabs();
  installExitHook();
  const label = options.name ? `${options.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-` : '';
  const dir = await mkdtemp(join(tmpdir(), `${LAB_PREFIX}${process.pid}-${label}`));
  const ns = netns ? `${LAB_PREFIX}${process.pid}-${counter++}` : undefined;
  const lab = new LabImpl(dir, ns, options.clientAlive ?? null, options.line);
  openLabs.add(lab);
  try {
    await lab.start();
  } catch (error) {
    await lab.close();
    throw error;
  }
  return lab;
}
