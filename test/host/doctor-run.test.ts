import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { CommandContext } from '../../src/cli/command-context.js';
import { splitArguments } from '../../src/cli/tborg-options.js';
import { Terminal } from '../../src/cli/terminal.js';
import { formatCheck, runDoctor, type ProcessRunner } from '../../src/guide/doctor.js';
import type { BufferedChildOptions, BufferedChildResult } from '../../src/process/buffered-child.js';
import { LIST_JSON, probe } from '../helpers/doctor-fixtures.js';
import { contextFacts } from '../helpers/context-facts.js';

// ---------------------------------------------------------------------------------------------
// The whole run with a fake runner: a fake borg for --version, the real `ssh -G` (never connects).

const sshAvailable = spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;

describe('runDoctor with a fake process runner', { skip: sshAvailable ? false : 'no ssh client' }, () => {
  let dir = '';
  let fakeBorg = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tborg-doctor-run-'));
    fakeBorg = join(dir, 'borg');
    await writeFile(fakeBorg, '#!/bin/sh\necho "borg 1.2.4"\n');
    await chmod(fakeBorg, 0o755);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  function context(env: NodeJS.ProcessEnv): { context: CommandContext; out: () => string } {
    let text = '';
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        text += String(chunk);
        done();
      },
    });
    const fullEnv = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), TBORG_BORG: fakeBorg, ...env };
    return {
      context: {
        args: [],
        options: splitArguments([], fullEnv).options,
        env: fullEnv,
        terminal: new Terminal({ stdout: sink, stderr: sink }),
        ...contextFacts(),
      },
      out: () => text,
    };
  }

  // Answers by program: ssh -> the server probe, borg -> the repository probe. Records each call.
  function runner(answers: { ssh?: Partial<BufferedChildResult>; borg?: Partial<BufferedChildResult> }): {
    run: ProcessRunner;
    calls: Array<{ file: string; args: readonly string[]; options: BufferedChildOptions }>;
  } {
    const calls: Array<{ file: string; args: readonly string[]; options: BufferedChildOptions }> = [];
    const run: ProcessRunner = async (file, args, options) => {
      calls.push({ file, args, options });
      if (file === 'ssh') return probe(answers.ssh ?? { stdout: 'borg 1.2.4\n' });
      // The repository probe ends early when it is aborted, as the real runner does.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (options.signal?.aborted) return probe({ exitCode: null, timedOut: true });
      return probe(answers.borg ?? { stdout: LIST_JSON });
    };
    return { run, calls };
  }

  const RSH = 'ssh -F /dev/null -o ServerAliveInterval=10 -o ServerAliveCountMax=30';

  test("healthy: every check ok, exit 0; both probes run with doctor's ssh options", async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run, calls } = runner({});
    const lines: string[] = [];
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run, onCheck: (check) => lines.push(formatCheck(check)) });
    assert.deepEqual(
      report.checks.map((x) => [x.name, x.status]),
      [
        ['borg', 'ok'],
        ['location', 'ok'],
        ['keepalive', 'ok'],
        ['lock-wait', 'ok'],
        ['server', 'ok'],
        ['repository', 'ok'],
        ['lock', 'ok'],
      ],
    );
    assert.equal(report.verdict.exitCode, 0);
    assert.equal(lines.length, 7);
    assert.match(
      lines[2]!,
      /^ok {4}keepalive {2}ServerAliveInterval 10 from BORG_RSH \(-o ServerAliveInterval=10\), ServerAliveCountMax 30 from BORG_RSH \(-o ServerAliveCountMax=30\)/,
    );
    const ssh = calls.find((x) => x.file === 'ssh')!;
    assert.deepEqual(
      [...ssh.args],
      [
        '-F',
        '/dev/null',
        '-o',
        'ServerAliveInterval=10',
        '-o',
        'ServerAliveCountMax=30',
        '-o',
        'BatchMode=yes',
        '-o',
        'ConnectTimeout=10',
        'lab.invalid',
        'borg',
        '--version',
      ],
    );
    const borg = calls.find((x) => x.file === fakeBorg)!;
    assert.deepEqual([...borg.args], ['list', '--json', '--last', '1', '--lock-wait', '5', 'ssh://lab.invalid/srv/r']);
    assert.equal(borg.options.env.BORG_RSH, `${RSH} -o BatchMode=yes -o ConnectTimeout=10`);
    assert.deepEqual(report.planArgs, ['list', 'ssh://lab.invalid/srv/r']);
  });

  test('unreachable: exit 2, the repository probe is stopped and its checks skipped', async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run, calls } = runner({ ssh: { exitCode: 255, stderr: 'ssh: connect to host lab.invalid port 22: Connection refused\r\n' } });
    const report = await runDoctor(ctx, ['--remote-path', 'borg-1.2', 'ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 2);
    assert.deepEqual(
      report.checks.slice(4).map((x) => [x.name, x.status]),
      [
        ['server', 'fail'],
        ['repository', 'skip'],
        ['lock', 'skip'],
      ],
    );
    assert.equal(calls.find((x) => x.file === fakeBorg)!.options.signal?.aborted, true);
    assert.deepEqual(calls.find((x) => x.file === 'ssh')!.args.slice(-2), ['borg-1.2', '--version']);
  });

  test("no keepalive of the user's: exit 1, tborg's injected into the probes as into a run", async () => {
    const { context: ctx } = context({ BORG_RSH: 'ssh -F /dev/null' });
    const { run, calls } = runner({});
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 1);
    assert.equal(report.checks.find((x) => x.name === 'keepalive')!.status, 'warn');
    assert.equal(
      calls.find((x) => x.file === fakeBorg)!.options.env.BORG_RSH,
      'ssh -F /dev/null -o ServerAliveInterval=10 -o ServerAliveCountMax=30 -o BatchMode=yes -o ConnectTimeout=10',
    );
  });

  test('locked: exit 1', async () => {
    const { context: ctx } = context({ BORG_RSH: RSH });
    const { run } = runner({ borg: { exitCode: 2, stderr: 'Failed to create/acquire the lock /srv/r/lock.exclusive (timeout).\n' } });
    const report = await runDoctor(ctx, ['ssh://lab.invalid/srv/r'], [], { run });
    assert.equal(report.verdict.exitCode, 1);
    assert.match(report.checks.at(-1)!.detail, /^locked now \(repository lock \/srv\/r\/lock\.exclusive\)/);
  });

  test('bad arguments: exit 2 without running anything', async () => {
    for (const words of [['a', 'b'], [], ['--no-such-option', 'ssh://h/r']]) {
      const { context: ctx } = context({ BORG_RSH: RSH });
      const { run, calls } = runner({});
      const report = await runDoctor(ctx, words, [], { run });
      assert.equal(report.verdict.exitCode, 2, words.join(' '));
      assert.equal(report.checks.find((x) => x.name === 'location')!.status, 'fail');
      assert.equal(calls.length, 0);
      assert.equal(report.checks.length, 7);
    }
  });

  test('a local repository: no ssh at all', async () => {
    const { context: ctx } = context({});
    const { run, calls } = runner({});
    const report = await runDoctor(ctx, [join(dir, 'repo')], [], { run });
    assert.deepEqual(
      calls.map((x) => x.file),
      [fakeBorg],
    );
    assert.deepEqual(
      report.checks.map((x) => x.status),
      ['ok', 'ok', 'skip', 'ok', 'skip', 'ok', 'ok'],
    );
    assert.equal(report.verdict.exitCode, 0);
  });
});
