import type { LogLevel } from '../core/log-level.js';
import type { MonitorOptions } from '../monitor/monitor-options.js';
import type { PlanOptions, PlanRequest } from '../plan/plan-options.js';

// What a run of borg starts from: what a plan starts from, the monitoring options, and where the run
// writes. src/cli's CommandContext is the one caller.
export interface RunRequest extends PlanRequest {
  options: PlanOptions & MonitorOptions;
  terminal: RunOutput;
  // Whether tborg's stdout (borg's, inherited) is a terminal: a spinner must not mix into it.
  stdoutIsTTY: boolean;
}

// What a run writes to the user, declared where the run needs it: borg's stderr passed through, tborg's
// own lines, the wait status. src/cli/terminal.ts's Terminal is the one implementation (the one module
// that writes to the terminal); src/cli hands it in, so nothing below src/cli imports the CLI.
export interface RunOutput {
  // borg's stderr bytes, as they came; false when the stream wants a pause (resume in whenDrained).
  passthrough(chunk: Uint8Array): boolean;
  whenDrained(resume: () => void): void;
  // tborg's own lines.
  message(text: string, level?: LogLevel): void;
  warn(text: string): void;
  // From now on tborg's lines are JSON lines like borg's --log-json ones.
  speakJson(): void;
  // The wait status (a spinner where a person watches), until stopSpinner.
  waiting(status: () => string | null): Promise<void>;
  stopSpinner(): void;
  // A person watches (a spinner can be drawn).
  readonly interactive: boolean;
  // Calls `listener` once the user's stderr is gone (its reader went away); returns the unsubscribe.
  onBroken(listener: () => void): () => void;
}
