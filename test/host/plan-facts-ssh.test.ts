// gatherPlanInput with the real ssh: what only it can show, that the caller's environment and PATH
// reach the `ssh -G` it asks (the table with given answers is test/unit/plan-facts.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
import type { BorgVersion } from '../../src/borg/borg-version.js';
import type { CommandContext } from '../../src/cli/command-context.js';
import { Terminal } from '../../src/cli/terminal.js';
import { defaultOptions } from '../../src/cli/tborg-options.js';
import { gatherPlanInput, type PlanFactSources } from '../../src/plan/plan-facts.js';

let dir = '';
let fakeBorg = '';
let borgRan = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-plan-facts-'));
  borgRan = join(dir, 'borg-ran');
  fakeBorg = join(dir, 'borg');
  // Never run when the version is given: it leaves a marker if it is.
  writeFileSync(fakeBorg, `#!/bin/sh\necho "$@" >> '${borgRan}'\necho "borg 1.2.4"\n`);
  chmodSync(fakeBorg, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function context(args: string[], env: NodeJS.ProcessEnv): CommandContext {
  const sink = new PassThrough();
  return {
    args,
    options: { ...defaultOptions(), borg: fakeBorg },
    env,
    terminal: new Terminal({ stdout: sink, stderr: sink }, { quiet: true }),
    selfPaths: [],
  };
}

const borgSays =
  (version: string): PlanFactSources['readBorgVersion'] =>
  (): BorgVersion => ({ version, major: Number(version.split('.')[0]) });

describe("the caller's environment reaches ssh -G (real ssh)", () => {
  test("a Match exec that reads a variable only the caller's env has", async () => {
    const config = join(dir, 'env.conf');
    writeFileSync(config, 'Match exec "test x$TBORG_PLAN_FACTS_MARK = xcaller"\n  ServerAliveInterval 42\n  ServerAliveCountMax 5\n');
    assert.equal(process.env.TBORG_PLAN_FACTS_MARK, undefined);
    const env = { ...process.env, TBORG_PLAN_FACTS_MARK: 'caller', BORG_RSH: `ssh -F ${config}` };
    const input = await gatherPlanInput(context(['create', 'backup:repo::a', '/x'], env), {
      facts: { readBorgVersion: borgSays('1.2.4') },
    });
    assert.deepEqual(input.ssh?.configured, { interval: 42, countMax: 5 }, "ssh -G ran with the caller's env");
    // And without the variable, the same config gives ssh's defaults: the Match is what decided.
    const without = await gatherPlanInput(context(['create', 'backup:repo::a', '/x'], { ...env, TBORG_PLAN_FACTS_MARK: 'other' }), {
      facts: { readBorgVersion: borgSays('1.2.4') },
    });
    assert.deepEqual(without.ssh?.configured, { interval: 0, countMax: 3 });
  });

  test("the `ssh` on the caller's PATH is the one asked", async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const log = join(bin, 'asked');
    writeFileSync(
      join(bin, 'ssh'),
      `#!/bin/sh\necho "$@" >> '${log}'\nprintf 'serveraliveinterval 17\\nserveralivecountmax 6\\nport 22\\n'\n`,
    );
    chmodSync(join(bin, 'ssh'), 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    delete env.BORG_RSH;
    const input = await gatherPlanInput(context(['create', 'backup:repo::a', '/x'], env), {
      facts: { readBorgVersion: borgSays('1.2.4') },
    });
    assert.deepEqual(input.ssh?.configured, { interval: 17, countMax: 6 });
    assert.equal(readFileSync(log, 'utf8'), '-G backup\n', 'one ssh -G, -G first');
  });
});
