// One error type for everything tborg refuses to do. It carries the exit code tborg should end with
// (2, like borg's own "error" code, unless stated) and, where there is one, the underlying cause.
export class TborgError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TborgError';
    this.exitCode = options.exitCode ?? 2;
  }
}

// Usage errors: a bad --tborg-* option, a bad TBORG_* variable, a bad argument to a tborg command.
export class UsageError extends TborgError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}
