import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { PING_BUDGET_MS } from '../../src/monitor/ping.js';

// README "Monitoring": what tborg does for whoever watches the backups is bounded and only ever costs
// a warning. A monitor whose name never resolves (a DNS black hole inside the lab's namespace) costs
// at most the ping budget after borg ended; state, cache and metrics files that cannot be written
// (under /proc, where node's recursive mkdir never returns) cost a warning each, naming the right
// file; an empty HOME never puts state under the working directory.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const withNetns = labAvailable({ netns: true });
const noNetns = labAvailable({ netns: false });

function makeData(lab: Lab): string {
  const data = join(lab.dir, 'data');
  mkdirSync(data, { recursive: true });
  for (let i = 0; i < 3; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(200));
  return data;
}

describe('a monitor whose name never resolves', { skip: withNetns.ok ? false : withNetns.why }, () => {
  let lab: Lab;
  let data: string;
  let netnsEtc: string;
  before(async () => {
    lab = await startLab({ name: 'dns-hole', netns: true });
    data = makeData(lab);
    // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: inside the
    // namespace the only name server is 127.0.0.53, where a UDP socket reads and never answers.
    // glibc's default 5 s x 2 tries would end near the budget; resolv.conf's own options make the
    // hang plainly longer, as a slow resolver's settings do.
    netnsEtc = join('/etc/netns', lab.netns!);
    mkdirSync(netnsEtc, { recursive: true });
    writeFileSync(join(netnsEtc, 'resolv.conf'), 'nameserver 127.0.0.53\noptions timeout:10 attempts:2\n');
    const hole = lab.spawn(
      [process.execPath, '-e', "require('dgram').createSocket('udp4').bind(53, '127.0.0.53', () => console.log('bound'))"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      hole.stdout!.once('data', () => resolve());
      hole.once('exit', (code) => reject(new Error(`the DNS black hole exited with ${code}`)));
    });
  });
  after(async () => {
    await lab?.close();
    if (netnsEtc) rmSync(netnsEtc, { recursive: true, force: true });
  });

  test('costs at most the ping budget after borg ended, with one warning that says so', async (t0) => {
    // The premise: this namespace's getaddrinfo hangs well past the budget (glibc's retries).
    let t = Date.now();
    const lookup = await lab.run(['getent', 'ahosts', 'hc.example.org'], { timeoutMs: 120_000 });
    const lookupMs = Date.now() - t;
    assert.notEqual(lookup.code, 0);
    assert.ok(lookupMs > PING_BUDGET_MS + 5_000, `getaddrinfo gave up after ${lookupMs} ms: no black hole`);

    const repo = lab.repoUrl('dns');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const endOfBorg = async (): Promise<number> => {
      const status = await lab.run([process.execPath, TBORG, 'status', '--json'], { env: lab.env() });
      return Date.parse((JSON.parse(status.stdout.toString()) as { repositories: Array<{ end: string }> }).repositories[0]!.end);
    };
    // Without a ping, in this test: how long this machine takes from borg's end to tborg's.
    const base = await lab.run([process.execPath, TBORG, 'create', `${repo}::base`, data], { env: lab.env(), timeoutMs: 180_000 });
    const baseTailMs = Date.now() - (await endOfBorg());
    assert.equal(base.code, 0, base.stderr.toString());
    t = Date.now();
    const r = await lab.run([process.execPath, TBORG, 'create', `${repo}::a1`, data], {
      env: lab.env({ TBORG_PING_URL: 'http://hc.example.org/ping/dns' }),
      timeoutMs: 180_000,
    });
    const exitedAt = Date.now();
    const err = r.stderr.toString();
    assert.equal(r.code, 0, err);
    // The status record's end is when borg ended: all that follows is the end ping (and the record).
    const end = await endOfBorg();
    t0.diagnostic(
      `getaddrinfo alone ${lookupMs} ms; tborg ended ${exitedAt - end} ms after borg (budget ${PING_BUDGET_MS} ms, ${baseTailMs} ms without a ping)`,
    );
    // At most the budget (with a quarter of it to spare, at-once.ts) beyond a run without a ping.
    assert.ok(
      exitedAt - end < baseTailMs + PING_BUDGET_MS * 1.25,
      `tborg ended ${exitedAt - end} ms after borg; budget ${PING_BUDGET_MS} ms, ${baseTailMs} ms without a ping, getaddrinfo alone ${lookupMs} ms`,
    );
    const warnings = err.split('\n').filter((l) => / tborg: warning: ping to http:\/\/hc\.example\.org failed/.test(l));
    assert.equal(warnings.length, 1, err);
    assert.match(warnings[0]!, /could not resolve hc\.example\.org within \d+(\.\d)?s/);
    assert.ok(exitedAt - t < lookupMs + 60_000);
  });
});

describe('files tborg writes for itself, where they cannot be written', { skip: noNetns.ok ? false : noNetns.why }, () => {
  let lab: Lab;
  let data: string;
  before(async () => {
    lab = await startLab({ name: 'state-files', netns: false });
    data = makeData(lab);
  });
  after(async () => lab?.close());

  const tborg = (args: string[], env: NodeJS.ProcessEnv, cwd?: string) =>
    lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs: 90_000, ...(cwd ? { cwd } : {}) });

  test('state, version cache and metrics under /proc: the backup ends like one without, with one warning per file', async (t0) => {
    const repo = join(lab.dir, 'local-repo');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    let t = Date.now();
    assert.equal((await tborg(['create', `${repo}::base`, data], {})).code, 0);
    const baseMs = Date.now() - t;
    t = Date.now();
    const r = await tborg(['create', `${repo}::proc`, data], {
      XDG_STATE_HOME: '/proc/tborg-nowhere/state',
      XDG_CACHE_HOME: '/proc/tborg-nowhere/cache',
      TBORG_METRICS_FILE: '/proc/tborg-nowhere/metrics/tborg.prom',
    });
    const ms = Date.now() - t;
    const err = r.stderr.toString();
    assert.equal(r.signal, null, `killed after ${ms} ms: a write that never ends`);
    assert.equal(r.code, 0, err);
    t0.diagnostic(`under /proc ${ms} ms, without ${baseMs} ms`);
    assert.ok(ms < baseMs + 5_000, `${ms} ms against ${baseMs} ms`);
    assert.match(err, /tborg: warning: could not write the status record: ENOENT/);
    assert.equal((await lab.run(['borg', 'list', '--short', repo])).stdout.toString(), 'base\nproc\n');
  });

  test('a metrics file that cannot be written is blamed on the metrics file, and the status record is written', async () => {
    const repo = join(lab.dir, 'local-metrics');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const state = join(lab.dir, 'metrics-state');
    const r = await tborg(['create', `${repo}::a1`, data], { XDG_STATE_HOME: state, TBORG_METRICS_FILE: '/proc/tborg-nowhere/tborg.prom' });
    const err = r.stderr.toString();
    assert.equal(r.code, 0, err);
    assert.match(err, /tborg: warning: could not write the metrics file \/proc\/tborg-nowhere\/tborg\.prom: /);
    assert.doesNotMatch(err, /status record/);
    assert.equal((await tborg(['status', '--max-age', '1h'], { XDG_STATE_HOME: state })).code, 0);
  });

  test("an empty HOME: state goes to the password database's home, never under the working directory", async () => {
    const repo = join(lab.dir, 'local-home');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const cwd = join(lab.dir, 'cwd');
    mkdirSync(cwd);
    const env = { HOME: '', XDG_STATE_HOME: undefined };
    const stateDir = join(userInfo().homedir, '.local', 'state', 'tborg');
    try {
      const r = await tborg(['create', `${repo}::a1`, data], env, cwd);
      assert.equal(r.code, 0, r.stderr.toString());
      assert.deepEqual(readdirSync(cwd), [], 'nothing relative to the working directory');
      const status = await tborg(['status', '--json'], env, cwd);
      const mine = (JSON.parse(status.stdout.toString()) as { repositories: Array<{ repository: string }> }).repositories.filter(
        (x) => x.repository === repo,
      );
      assert.equal(mine.length, 1, status.stdout.toString());
    } finally {
      // The record went to the tester's own state directory: take it back out.
      await tborg(['status', '--forget', repo], env, cwd);
    }
    assert.ok(!existsSync(join(cwd, '.local')));
    assert.ok(!readdirSync(stateDir).some((n) => n.includes('local-home')), 'forgotten');
  });
});
