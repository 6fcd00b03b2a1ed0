import { findBorg } from './borg-binary.js';
import type { CommandContext } from './main.js';
import { BorgRunner } from './run-borg.js';

// `tborg <borg arguments>`: plan, then run borg (retrying what is safe to retry).
export async function runBorg(context: CommandContext): Promise<number> {
  const borgPath = findBorg(context.options.borg, context.env, context.selfPaths);
  const runner = new BorgRunner(borgPath, context.terminal, context.env);
  try {
    const result = await runner.attempt(context.args, context.env);
    return result.exitCode;
  } finally {
    runner.dispose();
  }
}
