// gatherPlanInput with the real ssh: what only it can show, that the caller's environment and PATH
// reach the `ssh -G` it asks (the table with given answers is test/unit/plan-facts.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gatherPlanInput } from '../../src/plan/plan-facts.js';
import { borgSays, usePlanFactsFixture } from '../helpers/plan-facts-fixture.js';

const fixture = usePlanFactsFixture();
const { context } = fixture;

describe("the caller's environment reaches ssh -G (real ssh)", () => {
  test("a Match exec that reads a variable only the caller's env has", async () => {
    const config = join(fixture.dir(), 'env.conf');
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
    const bin = mkdtempSync(join(fixture.dir(), 'bin-'));
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
