import type { TborgOptions } from './tborg-options.js';
import type { Terminal } from './terminal.js';

// What main hands to a run or one of tborg's own commands. Its own module, so the commands import it
// without importing main, which imports them: no import cycle (test/unit/import-cycles.test.ts).
export interface CommandContext {
  args: string[];
  options: TborgOptions;
  env: NodeJS.ProcessEnv;
  terminal: Terminal;
  // The paths this process was started as (argv[1]), so a `borg -> tborg` symlink is never run.
  selfPaths: string[];
}
