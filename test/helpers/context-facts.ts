import { Readable } from 'node:stream';
import type { CommandContext } from '../../src/cli/command-context.js';

// The process facts of a CommandContext that a test builds by hand (main takes them from the process
// or from an in-process caller, src/cli/process-io.ts): the test's own directory, an empty stdin, no
// terminal anywhere, not started as any path. `overrides` for what a row is about.
export function contextFacts(
  overrides: Partial<Pick<CommandContext, 'selfPaths' | 'cwd' | 'stdin' | 'stdinIsTTY' | 'stdoutIsTTY'>> = {},
): Pick<CommandContext, 'selfPaths' | 'cwd' | 'stdin' | 'stdinIsTTY' | 'stdoutIsTTY'> {
  return { selfPaths: [], cwd: process.cwd(), stdin: Readable.from([]), stdinIsTTY: false, stdoutIsTTY: false, ...overrides };
}
