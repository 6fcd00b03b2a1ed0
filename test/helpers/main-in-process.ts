import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { RunResult } from '../lab/processes.js';

// tborg's main() run in the test's own process with streams of its own (src/cli/process-io.ts): for
// CLI rows about what tborg decides and says (plans, own commands, usage), which need no node start
// of their own. A row about the process itself (signals, descriptors, exit codes by signal, the sh
// line of bin/tborg.js, what borg inherits) spawns bin/tborg.js instead.

// bin/tborg.js, the path a spawned tborg is started as (so borg-named symlinks to it are skipped alike).
const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');

export async function runMainInProcess(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; input?: string | Buffer } = {},
): Promise<RunResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const sink = (into: Buffer[]): PassThrough => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => into.push(chunk));
    return stream;
  };
  const code = await main([...argv], env, {
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    stdout: sink(stdout),
    stderr: sink(stderr),
    cwd: options.cwd ?? process.cwd(),
    selfPaths: [TBORG],
  });
  return { code, signal: null, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
}
