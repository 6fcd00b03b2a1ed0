// Runs `tborg sshd-config ARGS` in-process with a captured stdout (the pure table and the sshd -t check share it).
import { PassThrough } from 'node:stream';
import type { CommandContext } from '../../src/cli/command-context.js';
import { runOwnCommandLine } from '../../src/cli/own-commands.js';
import { defaultOptions, type TborgOptions } from '../../src/cli/tborg-options.js';
import { Terminal } from '../../src/cli/terminal.js';
import { TborgError } from '../../src/core/errors.js';
import { contextFacts } from './context-facts.js';

export interface Captured {
  code: number | undefined;
  stdout: string;
  error: TborgError | undefined;
}

export async function runSshdConfigCommand(args: string[], options: Partial<TborgOptions> = {}): Promise<Captured> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const context: CommandContext = {
    args,
    options: { ...defaultOptions(), ...options },
    env: {},
    terminal: new Terminal({ stdout, stderr }, { quiet: true }),
    ...contextFacts(),
  };
  try {
    const code = await runOwnCommandLine(['sshd-config', ...args], context);
    return { code, stdout: out, error: undefined };
  } catch (error) {
    if (!(error instanceof TborgError)) throw error;
    return { code: undefined, stdout: out, error };
  }
}
