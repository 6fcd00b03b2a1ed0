import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { PassThrough } from 'node:stream';
import type { BorgVersion } from '../../src/borg/borg-version.js';
import type { CommandContext } from '../../src/cli/command-context.js';
import { Terminal } from '../../src/cli/terminal.js';
import { defaultOptions } from '../../src/cli/tborg-options.js';
import type { PlanFactSources } from '../../src/plan/plan-facts.js';
import { contextFacts } from './context-facts.js';

// What gatherPlanInput's tables (test/unit/plan-facts.test.ts, test/host/plan-facts-ssh.test.ts) share:
// a scratch directory, a borg that must never run when its version is given (it leaves the marker
// `borgRan` if it does), a quiet CommandContext naming that borg, and `borg --version`'s answer given.
// Writing the fake borg starts no program, so the pure table may use it too.
export interface PlanFactsFixture {
  // The scratch directory (removed after the file's tests).
  dir(): string;
  // The marker file the fake borg appends to when it runs.
  borgRan(): string;
  context(args: string[], env: NodeJS.ProcessEnv): CommandContext;
}

// Registers the file's before/after hooks; call it at the top level of a test file.
export function usePlanFactsFixture(): PlanFactsFixture {
  let dir = '';
  let fakeBorg = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tborg-plan-facts-'));
    fakeBorg = join(dir, 'borg');
    writeFileSync(fakeBorg, `#!/bin/sh\necho "$@" >> '${join(dir, 'borg-ran')}'\necho "borg 1.2.4"\n`);
    chmodSync(fakeBorg, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    borgRan: () => join(dir, 'borg-ran'),
    context: (args, env) => {
      const sink = new PassThrough();
      return {
        args,
        options: { ...defaultOptions(), borg: fakeBorg },
        env,
        terminal: new Terminal({ stdout: sink, stderr: sink }, { quiet: true }),
        ...contextFacts(),
      };
    },
  };
}

// `borg --version`'s answer, given instead of asked.
export const borgSays =
  (version: string): PlanFactSources['readBorgVersion'] =>
  (): BorgVersion => ({ version, major: Number(version.split('.')[0]) });
