import type { Readable } from 'node:stream';
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
  // The process facts main was given (process-io.ts): the working directory, stdin (authorized-keys
  // reads a key from it) and whether stdin and stdout are terminals.
  cwd: string;
  stdin: Readable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}
