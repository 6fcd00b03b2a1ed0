import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { borgSays, usePlanFactsFixture } from '../helpers/plan-facts-fixture.js';
import { buildPlan, type Plan } from '../../src/plan/plan.js';
import { gatherPlanInput, type PlanFactSources } from '../../src/plan/plan-facts.js';
import { splitLikePython } from '../../src/ssh/rsh.js';
import { parseSshG, type ResolveOptions, type SshSettings } from '../../src/ssh/ssh-settings.js';

// gatherPlanInput, the impure half of planning, with its two facts given: what `ssh -G` says for a
// target and what `borg --version` says. The answers below are written by hand (a Debian/OpenSSH ssh
// with no config of its own for these hosts: ServerAliveInterval 0, CountMax 3, port 22 unless the
// words say otherwise), and every target ssh is asked about is written out too: a question not in
// the table fails the test. The real ssh stays the referee in test/cli/plan-cli.test.ts (the
// ssh-config corpus) and test/cli/borg2-plan-cli.test.ts; test/host/plan-facts-ssh.test.ts runs the real
// ssh for what only it can show: the caller's environment reaches it.

const fixture = usePlanFactsFixture();
const { context } = fixture;

interface SshAnswer {
  target: string[];
  interval: number;
  countMax?: number;
  port?: number;
  batchMode?: boolean;
}

// An `ssh -G` that answers exactly the targets of the table (as SshSettings, through parseSshG) and
// records every question with the environment it was asked in.
function givenSsh(answers: SshAnswer[]): {
  resolve: PlanFactSources['resolveSshSettings'];
  asked: Array<{ target: string[]; env: NodeJS.ProcessEnv | undefined }>;
} {
  const asked: Array<{ target: string[]; env: NodeJS.ProcessEnv | undefined }> = [];
  const resolve = (target: readonly string[], options: ResolveOptions = {}): SshSettings => {
    asked.push({ target: [...target], env: options.env });
    const a = answers.find((x) => JSON.stringify(x.target) === JSON.stringify(target));
    assert.ok(a, `ssh -G asked about a target the test does not know: ${JSON.stringify(target)}`);
    const out = [
      `serveraliveinterval ${a.interval}`,
      `serveralivecountmax ${a.countMax ?? 3}`,
      `port ${a.port ?? 22}`,
      `batchmode ${a.batchMode ? 'yes' : 'no'}`,
    ];
    return parseSshG(out.join('\n'));
  };
  return { resolve, asked };
}

async function planWith(
  args: string[],
  env: NodeJS.ProcessEnv,
  version: string,
  answers: SshAnswer[],
): Promise<{ plan: Plan; asked: ReturnType<typeof givenSsh>['asked'] }> {
  const ssh = givenSsh(answers);
  const input = await gatherPlanInput(context(args, env), {
    facts: { resolveSshSettings: ssh.resolve, readBorgVersion: borgSays(version) },
  });
  assert.equal(existsSync(fixture.borgRan()), false, 'borg must not run when its version is given');
  return { plan: buildPlan(input), asked: ssh.asked };
}

describe("every question to ssh carries the caller's env", () => {
  test('the first ssh -G, the BatchMode re-ask and the SetupTimeOut probe', async () => {
    const env = {
      BORG_RSH: 'ssh -F /dev/null -o BatchMode=yes -o ServerAliveInterval=300 -o SetupTimeOut=9',
      PATH: process.env.PATH ?? '',
    };
    const words = splitLikePython(env.BORG_RSH);
    const { plan, asked } = await planWith(['create', 'backup:repo::a', '/x'], env, '1.2.4', [
      { target: [...words, 'backup'], interval: 300, batchMode: true },
      { target: ['ssh', '-o', 'BatchMode=no', ...words.slice(1), 'backup'], interval: 300 },
      { target: ['ssh', '-F', '/dev/null', '-o', 'SetupTimeOut=7', 'tborg-alias-probe.invalid'], interval: 0 },
    ]);
    assert.equal(asked.length, 3, JSON.stringify(asked.map((a) => a.target)));
    for (const a of asked) assert.equal(a.env, env, `${a.target.join(' ')}: asked with the caller's env`);
    // The user's own -o ServerAliveInterval=300: theirs, nothing injected.
    assert.equal(plan.keepalive, 'configured');
    assert.deepEqual(plan.ssh?.configured, { interval: 300, countMax: 3 });
  });

  test("Debian's BatchMode default, told by the re-ask: injected, the re-ask in the caller's env", async () => {
    // A config line ssh may or may not apply (a Match exec tborg does not run): so ssh is asked again.
    const config = join(fixture.dir(), 'batch.conf');
    writeFileSync(config, 'Match exec "test -e /nonexistent/tborg"\n  ServerAliveInterval 0\n');
    const env = { BORG_RSH: `ssh -F ${config} -o BatchMode=yes` };
    const words = splitLikePython(env.BORG_RSH);
    const { plan, asked } = await planWith(['create', 'backup:repo::a', '/x'], env, '1.2.4', [
      // Debian's ssh: BatchMode yes and no interval of anyone's -> 300; without BatchMode -> 0.
      { target: [...words, 'backup'], interval: 300, batchMode: true },
      { target: ['ssh', '-o', 'BatchMode=no', ...words.slice(1), 'backup'], interval: 0 },
    ]);
    assert.equal(asked.length, 2);
    for (const a of asked) assert.equal(a.env, env);
    assert.equal(plan.keepalive, 'injected');
    assert.deepEqual(plan.ssh?.configured, { interval: 300, countMax: 3 });
    assert.deepEqual(plan.ssh?.effective, { interval: 10, countMax: 30 });
    // Without the line, nothing could have set the 300: no second question.
    const plainConfig = join(fixture.dir(), 'plain.conf');
    writeFileSync(plainConfig, 'Host other\n  User x\n');
    const plainEnv = { BORG_RSH: `ssh -F ${plainConfig} -o BatchMode=yes` };
    const plain = await planWith(['create', 'backup:repo::a', '/x'], plainEnv, '1.2.4', [
      { target: [...splitLikePython(plainEnv.BORG_RSH), 'backup'], interval: 300, batchMode: true },
    ]);
    assert.equal(plain.asked.length, 1);
    assert.equal(plain.plan.keepalive, 'injected');
  });
});

// borg2 (README "borg 2"), formerly through the CLI in test/cli/borg2-plan-cli.test.ts, which keeps three
// rows with the real ssh. Every expected argv is written out from borgstore's ssh_cmd and borg's
// rest_serve_command by hand (docs/facts.md "borg 2").
describe('borg2 plans with given facts', () => {
  const REPO = 'ssh://root@127.0.0.1:2222/srv/repo';
  const KEEP_30_3 = ['-o', 'ServerAliveInterval=30', '-o', 'ServerAliveCountMax=3'];
  // borgstore's own ssh command for REPO (rest-ssh.ts defaultStoreRshWords, then the destination).
  const STORE_DEFAULT = ['ssh', ...KEEP_30_3, '-p', '2222', 'root@127.0.0.1'];

  test('b25 compact: exclusive, store-lock wait >= 30 min', async () => {
    const { plan: p } = await planWith(['-r', REPO, 'compact'], {}, '2.0.0b25', [{ target: [...STORE_DEFAULT], interval: 30, port: 2222 }]);
    assert.equal(p.lockWait.model?.kind, 'store');
    assert.ok(p.lockWait.seconds >= 30 * 60, `${p.lockWait.seconds}`);
    assert.match(p.lockWait.model!.why, /exclusive lock/);
  });

  test("b25 with the user's BORG_RSH that has a keepalive: nothing set at all", async () => {
    const env = { BORG_RSH: 'ssh -F /dev/null -o ServerAliveInterval=5' };
    const { plan: p } = await planWith(['-r', REPO, 'check'], env, '2.0.0b25', [
      { target: ['ssh', '-F', '/dev/null', '-o', 'ServerAliveInterval=5', 'root@127.0.0.1'], interval: 5 },
    ]);
    assert.equal(p.keepalive, 'configured');
    assert.deepEqual(p.env, {});
    assert.equal(p.ssh?.rsh.source, 'BORG_RSH');
  });

  test("b25 with the user's BORGSTORE_RSH: it wins over BORG_RSH and is kept", async () => {
    const env = { BORG_RSH: 'ssh -F /dev/null', BORGSTORE_RSH: 'ssh -F /dev/null -o ServerAliveInterval=7 -p 2222' };
    const { plan: p } = await planWith(['-r', REPO, 'repo-list'], env, '2.0.0b25', [
      { target: ['ssh', '-F', '/dev/null', '-o', 'ServerAliveInterval=7', '-p', '2222', 'root@127.0.0.1'], interval: 7, port: 2222 },
    ]);
    assert.deepEqual(p.env, {});
    assert.equal(p.ssh?.rsh.source, 'BORGSTORE_RSH');
    assert.deepEqual(p.ssh?.effective, { interval: 7, countMax: 3 });
  });

  test("b25 with the user's BORG_LOCK_WAIT: tborg adds no --lock-wait (one wait per attempt)", async () => {
    const { plan: p } = await planWith(['-r', REPO, 'create', 'a1', '/data'], { BORG_LOCK_WAIT: '600' }, '2.0.0b25', [
      { target: [...STORE_DEFAULT], interval: 30, port: 2222 },
    ]);
    assert.ok(!p.borg.argv.includes('--lock-wait'));
    assert.equal(p.lockWait.userSource, 'BORG_LOCK_WAIT');
    assert.equal(p.lockWait.seconds, 600);
  });

  test('b19 ssh://: borg serve over BORG_RSH, the URL port after the injected words; its lock is a store lock too (30 min)', async () => {
    const { plan: p } = await planWith(['-r', REPO, 'create', 'a1', '/data'], { BORG_RSH: 'ssh -F /dev/null' }, '2.0.0b19', [
      { target: ['ssh', '-F', '/dev/null', '-p', '2222', 'root@127.0.0.1'], interval: 0, port: 2222 },
    ]);
    assert.equal(p.ssh?.transport, 'borg serve');
    assert.equal(p.lockWait.model?.kind, 'store');
    assert.ok(p.lockWait.seconds >= 30 * 60);
    assert.match(p.lockWait.model!.why, /runs borg serve, which keeps its lock in the repository/);
    assert.deepEqual(splitLikePython(p.env.BORG_RSH ?? ''), [
      'ssh',
      '-F',
      '/dev/null',
      '-o',
      'ServerAliveInterval=10',
      '-o',
      'ServerAliveCountMax=30',
    ]);
    assert.deepEqual(p.ssh?.argv.slice(-3), ['-p', '2222', 'root@127.0.0.1']);
  });

  test('b22 rest://host:port: rest over ssh with the default -p', async () => {
    const { plan: p } = await planWith(['-r', 'rest://root@127.0.0.1:2222/srv/repo', 'repo-list'], {}, '2.0.0b22', [
      { target: [...STORE_DEFAULT], interval: 30, port: 2222 },
    ]);
    assert.equal(p.ssh?.transport, 'borg serve --rest');
    assert.deepEqual(p.ssh?.argv.slice(0, 8), ['ssh', ...KEEP_30_3, '-p', '2222', 'root@127.0.0.1']);
    assert.equal(p.lockWait.model?.kind, 'store');
  });
});

// Formerly through the CLI in test/cli/plan-cli.test.ts: there the proof that ssh -G did not run was
// a BORG_RSH naming a missing config file; here ssh is not asked at all (an empty table).
describe('commands without a repository', () => {
  for (const args of [['serve', '--restrict-to-path', '/srv'], ['--version'], ['help', 'create'], ['create', '--help', 'backup:repo::a']]) {
    test(`${args.join(' ')}: no repository, keepalive not-applicable, argv as given, ssh not asked`, async () => {
      const { plan: p, asked } = await planWith(args, { BORG_RSH: 'ssh -F /nonexistent/tborg-plan-facts' }, '1.2.4', []);
      assert.deepEqual(asked, []);
      assert.equal(p.repository, null);
      assert.equal(p.ssh, null);
      assert.equal(p.keepalive, 'not-applicable');
      assert.deepEqual(p.env, {});
      assert.deepEqual(p.borg.argv, args);
    });
  }
});
