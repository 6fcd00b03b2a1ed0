import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { quote } from 'shlex';
import { startMonitor } from '../helpers/http-monitor.js';
import { borgLines, createArgs, initArgs, listArchivesArgs } from '../lab/borgs.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { assertAtOnce, guardedWaitMs } from '../lab/at-once.js';
import { PING_BUDGET_MS } from '../../src/monitor/ping.js';

// README "Monitoring" over the lab's real sshd and real borg 1.2, with a real HTTP server on loopback as the
// monitor: a server unreachable at start is waited out under cron (not on a terminal, never for a
// wrong key); pings arrive (and a dead or hung monitor costs at most the ping budget); status
// records survive runs that end together; `tborg status` and the metrics file tell the truth.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable();
const availableNoNetns = labAvailable({ netns: false });
const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ tborg: cannot reach lab \(/m;

function tborg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000) {
  return lab.run([process.execPath, TBORG, ...args], { env: lab.env(env), timeoutMs });
}
// The same command with a terminal on stdin (and stdout/stderr): script(1) runs it on a new pty.
function tborgOnTty(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}) {
  const line = [process.execPath, TBORG, ...args].map((w) => quote(w)).join(' ');
  return lab.run(['script', '-qec', line, '/dev/null'], { env: lab.env(env), timeoutMs: 120_000 });
}
function borg(lab: Lab, args: string[], env: NodeJS.ProcessEnv = {}) {
  return lab.run(['borg', ...args], { env: lab.env(env), timeoutMs: 120_000 });
}
async function archives(lab: Lab, repo: string): Promise<string[]> {
  const r = await borg(lab, ['list', '--short', repo]);
  assert.equal(r.code, 0, r.stderr.toString());
  return r.stdout.toString().split('\n').filter(Boolean).sort();
}
function makeData(lab: Lab): string {
  const data = join(lab.dir, 'data');
  mkdirSync(data, { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(500));
  return data;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// tborg under cron (stdin, stdout not a terminal) with its stderr readable while it runs, so a test
// can act on tborg's own lines instead of on a fixed sleep that a loaded machine overtakes.
function tborgWatched(lab: Lab, args: string[]) {
  const child = lab.spawn([process.execPath, TBORG, ...args], { env: lab.env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
  // Resolves once tborg has said `count` timestamped "cannot reach" lines (attempts it will retry).
  const retried = async (count: number, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const seen = () => stderr.split('\n').filter((l) => TIMESTAMPED.test(l)).length;
    while (seen() < count && child.exitCode === null && Date.now() < deadline) await sleep(50);
    assert.ok(seen() >= count, `tborg said ${seen()} retry lines, not ${count}:\n${stderr}`);
  };
  return { child, exited, retried };
}
// How the status record names a lab repository: ssh -G's user, host name and port, then the path.
function recordKey(lab: Lab, name: string): string {
  return `ssh://${userInfo().username}@127.0.0.1:${lab.port}${lab.repoPath(name)}`;
}

describe('a server unreachable at start', { skip: available.ok ? false : available.why }, () => {
  let lab: Lab;
  let data: string;
  before(async () => {
    lab = await startLab({ name: 'connect-wait' });
    data = makeData(lab);
  });
  after(async () => lab?.close());

  test("under cron: sshd stopped at the start and started after tborg's second retry, the archive lands in the same run", async () => {
    const repo = lab.repoUrl('later');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    await lab.stopSshd();
    // sshd comes back only once tborg has said its second retry line, however slowly a loaded
    // machine lets it get there (a fixed 20 s let tborg start borg only after sshd was back).
    const run = tborgWatched(lab, ['create', `${repo}::a1`, data]);
    try {
      await run.retried(2);
    } finally {
      await lab.startSshd();
    }
    const r = await run.exited;
    const err = r.stderr;
    assert.equal(r.code, 0, err);
    assert.deepEqual(await archives(lab, repo), ['a1']);
    // One timestamped line per retried attempt, naming ssh's reason.
    const lines = err.split('\n').filter((l) => TIMESTAMPED.test(l));
    assert.ok(lines.length >= 2, err);
    assert.ok(
      lines.some((l) => /Connection refused/.test(l)),
      err,
    );
    // borg's own lines of the retried attempts stopped being true: tborg's line replaced them.
    assert.doesNotMatch(err, /Is borg working on the server/);
    const status = await tborg(lab, ['status', '--json']);
    const record = (
      JSON.parse(status.stdout.toString()) as { repositories: Array<{ repository: string; unreachableRetries: number; exitCode: number }> }
    ).repositories.find((x) => x.repository === recordKey(lab, 'later'));
    assert.equal(record?.exitCode, 0);
    assert.ok((record?.unreachableRetries ?? 0) >= 1);
  });

  // The machine's own borg2 (2.0.0b5 on Debian 12, b19 on Debian 13), in its own words (borgs.ts).
  const hostBorg2 = borgLines().find((l) => l.name === 'host-borg2');
  test("borg2 too: sshd stopped at the start and started after tborg's first retry, the archive lands in the same run", {
    skip: hostBorg2 ? false : 'no borg2 installed',
  }, async (t) => {
    const line = hostBorg2!;
    const lab2 = await startLab({ name: 'connect-wait-borg2', line });
    t.after(() => lab2.close());
    const repo = lab2.repoUrl('later2');
    const init = await lab2.run([line.client, ...initArgs(line, repo)], { env: lab2.env(), timeoutMs: 120_000 });
    assert.equal(init.code, 0, init.stderr.toString());
    await lab2.stopSshd();
    const run = tborgWatched(lab2, createArgs(line, repo, 'b1', data));
    try {
      await run.retried(1);
    } finally {
      await lab2.startSshd();
    }
    const r = await run.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, TIMESTAMPED);
    const list = await lab2.run([line.client, ...listArchivesArgs(line, repo)], { env: lab2.env(), timeoutMs: 120_000 });
    assert.deepEqual(list.stdout.toString().split('\n').filter(Boolean), ['b1']);
  });

  test("on a terminal: fails at once with borg's error and exit code", async () => {
    const repo = lab.repoUrl('tty');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    await lab.stopSshd();
    try {
      let started = Date.now();
      const plain = await borg(lab, ['create', `${repo}::a1`, data]);
      const plainMs = Date.now() - started;
      started = Date.now();
      const r = await tborgOnTty(lab, ['create', `${repo}::a1`, data]);
      const ms = Date.now() - started;
      const out = r.stdout.toString();
      assert.equal(r.code, plain.code, out);
      assert.notEqual(r.code, 0);
      assert.match(out, /Is borg working on the server\?/);
      assert.doesNotMatch(out, /cannot reach/);
      // Not the wait for the server that tborg spends under cron.
      assertAtOnce(ms, { plainMs, guardedMs: await guardedWaitMs(lab, ['create', `${repo}::a1`, data]) });
    } finally {
      await lab.startSshd();
    }
  });

  test('SIGTERM while waiting for the server ends tborg at once with 143, and the record says so', async () => {
    const repo = lab.repoUrl('term');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    await lab.stopSshd();
    try {
      const guardedMs = await guardedWaitMs(lab, ['create', `${repo}::a1`, data]);
      const child = lab.spawn([process.execPath, TBORG, 'create', `${repo}::a1`, data], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 30_000;
      while (!TIMESTAMPED.test(err) && Date.now() < deadline) await sleep(50);
      assert.match(err, TIMESTAMPED);
      const sent = Date.now();
      child.kill('SIGTERM');
      assert.equal(await exited, 143);
      // Well under the wait for the server that the signal cuts short.
      assertAtOnce(Date.now() - sent, { guardedMs });
      const status = await tborg(lab, ['status', '--json']);
      const record = (
        JSON.parse(status.stdout.toString()) as { repositories: Array<{ repository: string; exitCode: number }> }
      ).repositories.find((x) => x.repository === recordKey(lab, 'term'));
      assert.equal(record?.exitCode, 143);
    } finally {
      await lab.startSshd();
    }
  });

  test('a wrong key fails at once, under cron and on a terminal', async () => {
    const repo = lab.repoUrl('key');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    await lab.setAuthorizedKeys('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvP3hdBUqKbzJMm+QJO8Qyd1wyRRwgBmLlkOuuMF7gr someone-else\n');
    try {
      const guardedMs = await guardedWaitMs(lab, ['create', `${repo}::a1`, data]);
      for (const how of ['cron', 'tty'] as const) {
        const started = Date.now();
        const r =
          how === 'cron' ? await tborg(lab, ['create', `${repo}::a1`, data]) : await tborgOnTty(lab, ['create', `${repo}::a1`, data]);
        const out = r.stderr.toString() + r.stdout.toString();
        assert.equal(r.code, 2, `${how}: ${out}`);
        // ssh's own line, or, when borg 1.2.4 loses it (about 1 run in 10, docs/facts.md), borg's
        // "Is borg working on the server?" alone: either way borg's error, at once, not retried.
        assert.match(out, /Permission denied \(publickey\)|Connection closed by remote host\. Is borg working on the server\?/, how);
        // Once ssh's words are there the attempt is final (borg's lone "Is borg working" line, when ssh's
        // was lost, may be looked at once more: connect-wait.ts, ambiguous).
        const denied = out.indexOf('Permission denied');
        assert.doesNotMatch(out.slice(denied === -1 ? out.length : denied), /retrying/, how);
        assertAtOnce(Date.now() - started, { guardedMs }, how);
      }
    } finally {
      await lab.setAuthorizedKeys(`${lab.clientPublicKey}\n`);
    }
  });
});

describe('monitors: pings, status records, tborg status, metrics', { skip: availableNoNetns.ok ? false : availableNoNetns.why }, () => {
  let lab: Lab;
  let data: string;
  let monitor: Awaited<ReturnType<typeof startMonitor>>;
  const mode = { hang: false };
  before(async () => {
    // No namespace: the monitor listens on this process's loopback, which tborg must reach.
    lab = await startLab({ name: 'monitor', netns: false });
    data = makeData(lab);
    monitor = await startMonitor(mode);
  });
  after(async () => {
    monitor?.server.closeAllConnections();
    monitor?.server.close();
    await lab?.close();
  });

  test("a good run pings start and success; a failed one start and its exit code with borg's last error line", async () => {
    const repo = lab.repoUrl('ping');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    const url = `http://127.0.0.1:${monitor.port}/ping/check-1`;
    monitor.seen.length = 0;
    const good = await tborg(lab, ['create', `${repo}::a1`, data], { TBORG_PING_URL: url });
    assert.equal(good.code, 0, good.stderr.toString());
    assert.deepEqual(
      monitor.seen.map((s) => `${s.method} ${s.url.replace(/\?rid=[-0-9a-f]+$/, '')}`),
      ['POST /ping/check-1/start', 'POST /ping/check-1'],
    );
    const rids = monitor.seen.map((s) => new URL(s.url, 'http://x').searchParams.get('rid'));
    assert.equal(rids[0], rids[1]);
    assert.match(monitor.seen[1]!.body, /exit code 0/);

    monitor.seen.length = 0;
    const bad = await tborg(lab, ['--tborg-ping', url, 'create', `${lab.repoUrl('missing')}::a1`, data]);
    assert.equal(bad.code, 2);
    assert.deepEqual(
      monitor.seen.map((s) => s.url.replace(/\?rid=.*$/, '')),
      ['/ping/check-1/start', '/ping/check-1/2'],
    );
    assert.match(monitor.seen[1]!.body, /exit code 2\n[\s\S]*Repository ssh:\/\/lab\S*missing does not exist\.\n$/);

    monitor.seen.length = 0;
    assert.equal((await tborg(lab, ['list', repo], { TBORG_PING_URL: url })).code, 0);
    assert.equal(monitor.seen.length, 0, 'list does not write: no ping without --tborg-ping-all');
    assert.equal((await tborg(lab, ['--tborg-ping-all', 'list', repo], { TBORG_PING_URL: url })).code, 0);
    assert.equal(monitor.seen.length, 2);

    // Uptime Kuma's push URL, recognised by its path: one GET at the end, nothing at the start.
    monitor.seen.length = 0;
    const kuma = `http://127.0.0.1:${monitor.port}/api/push/tok123?status=up&msg=OK&ping=`;
    assert.equal((await tborg(lab, ['--tborg-ping', kuma, 'create', `${lab.repoUrl('missing')}::a1`, data])).code, 2);
    assert.equal(monitor.seen.length, 1);
    const push = new URL(monitor.seen[0]!.url, 'http://x');
    assert.equal(monitor.seen[0]!.method, 'GET');
    assert.equal(push.pathname, '/api/push/tok123');
    assert.equal(push.searchParams.get('status'), 'down');
    assert.match(push.searchParams.get('msg') ?? '', /exit 2: Repository .*missing does not exist\.$/);
  });

  test('a monitor that is down or hangs loses nothing and costs at most the ping budget', async () => {
    const repo = lab.repoUrl('pingdown');
    assert.equal((await borg(lab, ['init', '-e', 'none', repo])).code, 0);
    const endOfBorg = async (): Promise<number> => {
      const status = JSON.parse((await tborg(lab, ['status', '--json'])).stdout.toString()) as {
        repositories: Array<{ repository: string; end: string }>;
      };
      return Date.parse(status.repositories.find((r) => r.repository === recordKey(lab, 'pingdown'))!.end);
    };
    let t = Date.now();
    const base = await tborg(lab, ['create', `${repo}::base`, data]);
    const baseExitedAt = Date.now();
    const baseMs = baseExitedAt - t;
    assert.equal(base.code, 0);
    // Without a ping: how long this machine takes from borg's end to tborg's (record, exit).
    const baseTailMs = baseExitedAt - (await endOfBorg());
    // "At most the ping budget", with a quarter of it to spare (at-once.ts).
    const budgetBound = PING_BUDGET_MS + PING_BUDGET_MS / 4;

    // Down: nothing listens on the port.
    const closed = await startMonitor({ hang: false });
    const deadPort = closed.port;
    await new Promise((r) => closed.server.close(r));
    t = Date.now();
    const down = await tborg(lab, ['create', `${repo}::down`, data], { TBORG_PING_URL: `http://127.0.0.1:${deadPort}/p` });
    assert.equal(down.code, 0, down.stderr.toString());
    const downWarnings = down.stderr
      .toString()
      .split('\n')
      .filter((l) => /tborg: warning: ping to http:\/\/127\.0\.0\.1:\d+ failed/.test(l));
    assert.equal(downWarnings.length, 1, down.stderr.toString());
    assert.ok(Date.now() - t < baseMs + budgetBound, `down monitor: ${Date.now() - t} ms against ${baseMs} ms without`);

    // Hangs: accepts and never answers.
    mode.hang = true;
    try {
      t = Date.now();
      const hung = await tborg(lab, ['create', `${repo}::hung`, data], { TBORG_PING_URL: `http://127.0.0.1:${monitor.port}/p` });
      const exitedAt = Date.now();
      const hungMs = exitedAt - t;
      assert.equal(hung.code, 0, hung.stderr.toString());
      assert.equal(
        hung.stderr
          .toString()
          .split('\n')
          .filter((l) => /tborg: warning: ping .* failed/.test(l)).length,
        1,
        hung.stderr.toString(),
      );
      // The ping budget is 10 s per ping. The status record's end is when borg
      // ended: what follows it is the end ping's wait (plus writing the record).
      const end = await endOfBorg();
      assert.ok(exitedAt - end < baseTailMs + budgetBound, `tborg ended ${exitedAt - end} ms after borg (${baseTailMs} ms without a ping)`);
      // And the whole run, against one without a ping (generous: a loaded 2-core machine).
      assert.ok(hungMs < baseMs + 2 * PING_BUDGET_MS, `hung monitor: ${hungMs} ms against ${baseMs} ms without`);
    } finally {
      mode.hang = false;
      monitor.server.closeAllConnections();
    }
    assert.deepEqual(await archives(lab, repo), ['base', 'down', 'hung']);
  });

  test('five runs ending together leave five correct records; tborg status and the metrics file agree', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5'];
    for (const n of names) assert.equal((await borg(lab, ['init', '-e', 'none', lab.repoUrl(n)])).code, 0);
    const state = join(lab.dir, 'five-state');
    const metrics = join(lab.dir, 'metrics', 'tborg.prom');
    const env = { XDG_STATE_HOME: state, TBORG_METRICS_FILE: metrics };
    const runs = await Promise.all(names.map((n) => tborg(lab, ['create', `${lab.repoUrl(n)}::a`, data], env)));
    for (const r of runs) assert.equal(r.code, 0, r.stderr.toString());
    const status = await tborg(lab, ['status', '--json', '--max-age', '1h'], env);
    assert.equal(status.code, 0, status.stdout.toString() + status.stderr.toString());
    const json = JSON.parse(status.stdout.toString()) as { repositories: Array<Record<string, unknown>> };
    assert.deepEqual(json.repositories.map((r) => r.repository).sort(), names.map((n) => recordKey(lab, n)).sort());
    for (const r of json.repositories) {
      assert.equal(r.exitCode, 0);
      assert.equal(r.command, 'create');
      assert.equal(r.attempts, 1);
      assert.equal(r.borgVersion, (await borg(lab, ['--version'])).stdout.toString().trim().split(' ')[1]);
      assert.equal(r.lastSuccess, r.end);
      assert.equal(r.state, 'ok');
    }
    // The metrics file's last writer read every record: all five are in it.
    const parseMetrics = () => {
      const require = createRequire(import.meta.url);
      const parse = require('parse-prometheus-text-format') as (
        text: string,
      ) => Array<{ name: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
      return new Map(parse(readFileSync(metrics, 'utf8')).map((f) => [f.name, f.metrics]));
    };
    assert.deepEqual(
      parseMetrics()
        .get('tborg_last_exit_code')!
        .map((m) => m.labels.repository)
        .sort(),
      names.map((n) => recordKey(lab, n)).sort(),
    );
    const plain = await tborg(lab, ['status', '--max-age', '1h'], env);
    assert.equal(plain.code, 0);
    assert.equal(plain.stdout.toString().trim().split('\n').length, 5);

    // A failed run (the archive exists): status says so and exits 1; the last success stays.
    const failed = await tborg(lab, ['create', `${lab.repoUrl('s3')}::a`, data], env);
    assert.equal(failed.code, 2);
    const after = await tborg(lab, ['status', '--max-age', '1h'], env);
    assert.equal(after.code, 1, after.stdout.toString());
    assert.match(
      after.stdout.toString(),
      new RegExp(`^failed +${recordKey(lab, 's3').replace(/[/.]/g, '\\$&')} +last backup succeeded \\d{4}-.* exit 2`, 'm'),
    );

    const families = parseMetrics();
    const exit = families.get('tborg_last_exit_code')!;
    assert.equal(exit.length, 5);
    assert.equal(exit.find((m) => m.labels.repository === recordKey(lab, 's3'))?.value, '2');
    const success = families.get('tborg_last_success_timestamp_seconds')!;
    assert.ok(success.every((m) => Math.abs(Number(m.value) - Date.now() / 1000) < 600));
    assert.equal(families.get('tborg_attempts')!.length, 5);

    const none = await tborg(lab, ['status'], { XDG_STATE_HOME: join(lab.dir, 'empty-state') });
    assert.equal(none.code, 2);
  });
});
