import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';
import { requestLines, startMonitor, type HttpMonitor } from '../helpers/http-monitor.js';
import { recordFileName } from '../../src/monitor/status-record.js';

// README "Monitoring": a backup is the unit. Over the lab's real sshd and the machine's borg, with a
// real HTTP monitor on loopback: a failed backup stays failed whatever follows it (maintenance, a
// read, a dry run), in `tborg status`, in the metrics file and at the monitor; a mistyped read or a
// NO at borg's prompt fails nothing; one repository is one record however it is spelled; a bad
// ping URL never stops the backup.

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ netns: false });

interface StatusJson {
  exitCode: number;
  repositories: Array<{ repository: string; kind: string; state: string; exitCode: number; lastSuccess: string | null; end: string }>;
}

describe('a backup is the unit of status, metrics and pings', { skip: available.ok ? false : available.why }, () => {
  let lab: Lab;
  let data: string;
  let monitor: HttpMonitor;
  before(async () => {
    // No namespace: the monitor listens on this process's loopback, which tborg must reach.
    lab = await startLab({ name: 'monitor-truth', netns: false });
    data = join(lab.dir, 'data');
    mkdirSync(data, { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(data, `f${i}`), `file ${i}\n`.repeat(200));
    monitor = await startMonitor();
  });
  after(async () => {
    monitor?.close();
    await lab?.close();
  });

  // Every run of one test shares a state directory, a metrics file and a check.
  function job(name: string) {
    const env = {
      XDG_STATE_HOME: join(lab.dir, `state-${name}`),
      TBORG_METRICS_FILE: join(lab.dir, `metrics-${name}`, 'tborg.prom'),
      // By name: the address is looked up as for any monitor (ping-address.ts).
      TBORG_PING_URL: `http://localhost:${monitor.port}/ping/${name}`,
    };
    const tborg = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      lab.run([process.execPath, TBORG, ...args], { env: lab.env({ ...env, ...extra }), timeoutMs: 180_000 });
    const status = async (...args: string[]) => {
      const r = await tborg(['status', '--json', '--max-age', '1h', ...args]);
      return { code: r.code, json: JSON.parse(r.stdout.toString()) as StatusJson };
    };
    // tborg_<name>{repository, kind="backup"} from the metrics file.
    const backupMetric = (metric: string): number | undefined => {
      const require = createRequire(import.meta.url);
      const parse = require('parse-prometheus-text-format') as (
        text: string,
      ) => Array<{ name: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
      const family = parse(readFileSync(env.TBORG_METRICS_FILE, 'utf8')).find((f) => f.name === metric);
      const sample = family?.metrics.filter((m) => m.labels.kind === 'backup');
      assert.equal(sample?.length, 1, `${metric}: one backup series`);
      return Number(sample![0]!.value);
    };
    return { env, tborg, status, backupMetric, path: `/ping/${name}` };
  }

  test('a failed backup followed by prune, compact, list or a dry run: status exit 1, the last success stays, no success ping', async () => {
    const repo = lab.repoUrl('unit');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const j = job('unit');
    assert.equal((await j.tborg(['create', `${repo}::a1`, data])).code, 0);
    assert.equal((await j.status()).code, 0);
    const landed = j.backupMetric('tborg_last_success_timestamp_seconds');
    const failed = await j.tborg(['create', `${repo}::a1`, data]);
    assert.equal(failed.code, 2, 'the archive exists: borg fails');
    monitor.seen.length = 0;
    for (const args of [
      ['prune', '--keep-last', '5', repo],
      ['compact', repo],
      ['list', repo],
      ['create', '--dry-run', `${repo}::dry`, data],
    ]) {
      const r = await j.tborg(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr.toString()}`);
      const after = await j.status();
      assert.equal(after.code, 1, `after ${args[0]}: ${JSON.stringify(after.json)}`);
      const backup = after.json.repositories.filter((x) => x.kind === 'backup');
      assert.deepEqual(
        backup.map((x) => [x.state, x.exitCode]),
        [['failed', 2]],
        args[0],
      );
      assert.equal(j.backupMetric('tborg_last_success_timestamp_seconds'), landed, `after ${args[0]}: the last success stays`);
      assert.equal(j.backupMetric('tborg_last_exit_code'), 2, `after ${args[0]}`);
    }
    // Maintenance is recorded under its own name, and only logged at the monitor.
    const { json } = await j.status();
    assert.deepEqual(
      json.repositories.map((x) => `${x.kind}:${x.state}`),
      ['backup:failed', 'compact:ok', 'prune:ok'],
    );
    assert.deepEqual(requestLines(monitor.seen), [`POST ${j.path}/log`, `POST ${j.path}/log`], 'no start, no success: only log entries');
    // The next good backup is what makes it fine again.
    monitor.seen.length = 0;
    assert.equal((await j.tborg(['create', `${repo}::a2`, data])).code, 0);
    assert.equal((await j.status()).code, 0);
    assert.deepEqual(requestLines(monitor.seen), [`POST ${j.path}/start`, `POST ${j.path}`]);
    assert.ok(j.backupMetric('tborg_last_success_timestamp_seconds')! > landed!);
  });

  test('maintenance fails loudly: a failed prune is a failed check and a failed status', async () => {
    const j = job('loud');
    monitor.seen.length = 0;
    const r = await j.tborg(['prune', '--keep-last', '1', lab.repoUrl('never-made')]);
    assert.equal(r.code, 2);
    const after = await j.status();
    assert.equal(after.code, 1);
    assert.deepEqual(
      after.json.repositories.map((x) => `${x.kind}:${x.state}`),
      ['prune:failed'],
    );
    assert.deepEqual(requestLines(monitor.seen), [`POST ${j.path}/2`]);
  });

  test("a mistyped read and a NO at delete's prompt leave status at 0 and ping nothing", async () => {
    const repo = lab.repoUrl('reads');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const j = job('reads');
    assert.equal((await j.tborg(['create', `${repo}::a1`, data])).code, 0);
    monitor.seen.length = 0;
    const plainTypo = await lab.run(['borg', 'list', `${repo}::typo`]);
    const typo = await j.tborg(['list', `${repo}::typo`]);
    assert.equal(typo.code, plainTypo.code);
    assert.notEqual(typo.code, 0);
    assert.equal((await j.status()).code, 0, 'a mistyped read');
    // borg reads the answer from BORG_DELETE_I_KNOW_WHAT_I_AM_DOING when set (yes_no.py env_var_override).
    const no = await j.tborg(['delete', repo], { BORG_DELETE_I_KNOW_WHAT_I_AM_DOING: 'NO' });
    assert.equal(no.code, 2);
    assert.match(no.stderr.toString(), /Aborting\.\n/);
    const after = await j.status();
    assert.equal(after.code, 0, `a NO at the prompt: ${JSON.stringify(after.json)}`);
    assert.deepEqual(
      after.json.repositories.map((x) => x.kind),
      ['backup'],
    );
    assert.deepEqual(monitor.seen, []);
    assert.equal((await lab.run(['borg', 'list', '--short', repo])).stdout.toString(), 'a1\n');
  });

  test('a mistyped path leaves a failed record until tborg status --forget', async () => {
    const repo = lab.repoUrl('kept');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const j = job('typo');
    assert.equal((await j.tborg(['create', `${repo}::a1`, data])).code, 0);
    assert.equal((await j.tborg(['create', `${lab.repoUrl('kpet')}::a1`, data])).code, 2);
    const before = await j.status();
    assert.equal(before.code, 1);
    const typo = before.json.repositories.find((x) => x.lastSuccess === null);
    assert.ok(typo, JSON.stringify(before.json));
    const forget = await j.tborg(['status', '--forget', typo.repository]);
    assert.equal(forget.code, 0, forget.stderr.toString());
    const after = await j.status();
    assert.equal(after.code, 0);
    assert.equal(after.json.repositories.length, 1);
  });

  test("one repository written four ways is one record, named by ssh -G's user, host and port", async () => {
    const path = lab.repoPath('spelled');
    const user = userInfo().username;
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', `ssh://lab${path}`])).code, 0);
    const j = job('spelled');
    // An older tborg's record of the same repository, named by the location as written and with
    // prune's success as its last success: not counted, and gone once the new record is written.
    const old = join(j.env.XDG_STATE_HOME, 'tborg', recordFileName(`ssh://lab${path}`));
    mkdirSync(join(j.env.XDG_STATE_HOME, 'tborg'), { recursive: true });
    writeFileSync(
      old,
      JSON.stringify({
        version: 1,
        repository: `ssh://lab${path}`,
        command: 'prune',
        exitCode: 0,
        end: new Date().toISOString(),
        lastSuccess: new Date().toISOString(),
      }),
    );
    assert.equal((await j.status()).code, 2, 'no records of the current version');
    const spellings = [`ssh://lab${path}`, `ssh://lab:${lab.port}${path}`, `ssh://${user}@lab${path}`, `lab:${path}`];
    for (const [i, spelled] of spellings.entries()) {
      const r = await j.tborg(['create', `${spelled}::a${i}`, data]);
      assert.equal(r.code, 0, `${spelled}: ${r.stderr.toString()}`);
    }
    const { json } = await j.status();
    assert.deepEqual(
      json.repositories.map((x) => x.repository),
      [`ssh://${user}@127.0.0.1:${lab.port}${path}`],
    );
    assert.ok(!existsSync(old), 'the older record is removed');
  });

  test('a malformed TBORG_PING_URL is one warning, and the backup runs', async () => {
    const repo = lab.repoUrl('badurl');
    assert.equal((await lab.run(['borg', 'init', '-e', 'none', repo])).code, 0);
    const j = job('badurl');
    const r = await j.tborg(['create', `${repo}::a1`, data], { TBORG_PING_URL: 'htps//hc-ping.com/uuid' });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.match(
      r.stderr.toString(),
      /^(?:\S+ )?tborg: warning: no ping sent: .*not a URL: 'htps\/\/hc-ping\.com\/uuid'; the backup's result is unchanged$/m,
    );
    assert.equal((await lab.run(['borg', 'list', '--short', repo])).stdout.toString(), 'a1\n');
    assert.equal((await j.status()).code, 0);
  });
});
