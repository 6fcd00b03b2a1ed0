import type { Readable, Writable } from 'node:stream';

// What main() knows of the process it runs in: its streams, its working directory and the path it was
// started as. bin/tborg.js gives none of it and main takes the real process's (readProcessIo); a test
// that runs main() in-process gives its own streams and directory. main hands the facts down in the
// CommandContext (cwd, stdinIsTTY, stdoutIsTTY, stdin), so nothing below it reads process.cwd(),
// process.stdin or process.argv for them.
export interface ProcessIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
  // The paths this process was started as (argv[1]), so a `borg -> tborg` symlink is never run.
  selfPaths: string[];
}

export function readProcessIo(given: Partial<ProcessIo> = {}): ProcessIo {
  return {
    stdin: given.stdin ?? process.stdin,
    stdout: given.stdout ?? process.stdout,
    stderr: given.stderr ?? process.stderr,
    cwd: given.cwd ?? process.cwd(),
    selfPaths: given.selfPaths ?? (process.argv[1] ? [process.argv[1]] : []),
  };
}

// A stream is a terminal when node opened it as a tty (tty.ReadStream / tty.WriteStream).
export function isTerminal(stream: Readable | Writable): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}
