import type { PingStyle } from './ping.js';

// The tborg options monitoring reads (README "Monitoring"), declared where they are used;
// src/cli/tborg-options.ts fills them and src/cli hands them in.
export interface MonitorOptions {
  pingUrl: string | undefined;
  pingStyle: PingStyle | undefined;
  pingAll: boolean;
  // undefined: the default state directory; null: `none`, no status record.
  statusFile: string | null | undefined;
  metricsFile: string | undefined;
}

// Where a failure to ping or record becomes one warning line (the terminal, given by the run).
export interface WarnSink {
  warn(text: string): void;
}
