import type { AlivePair } from '../ssh/alive-pair.js';
import type { KeepaliveMode } from './keepalive.js';

// The tborg options a plan reads, declared where planning needs them; src/cli/tborg-options.ts fills
// them from --tborg-* and TBORG_* (README "Options") and src/cli hands them in.
export interface PlanOptions {
  borg: string | undefined;
  keepaliveMode: KeepaliveMode;
  keepalive: AlivePair | undefined;
  // undefined: assume the guide's values; null: the server has no ClientAlive at all ("none").
  serverAlive: AlivePair | null | undefined;
  maxWait: number | undefined;
  connectionRetries: number;
  // Seconds; undefined = 15 min, or 0 with a terminal on stdin.
  connectWait: number | undefined;
  // README "The server half": send a run token the server's guard acts on (default off).
  serverGuard: boolean;
}

// What a plan starts from: borg's arguments, the options, the caller's environment, and the paths this
// tborg was started as (a `borg -> tborg` symlink is never taken for borg).
export interface PlanRequest {
  args: string[];
  options: PlanOptions;
  env: NodeJS.ProcessEnv;
  selfPaths: string[];
  // The caller's working directory (borg resolves a relative repository path against it) and whether
  // its stdin is a terminal (the connect wait's default): main's process facts, not process.*.
  cwd: string;
  stdinIsTTY: boolean;
}
