// The mark tborg leaves in the environment of every borg it starts, so that a tborg started by that
// borg (a wrapper script named borg that runs tborg) knows who started it: src/run/recursion-guard.ts
// reads it. PARENT_VARIABLE = "PID DEPTH BORGPATH": this tborg's pid, how deep the chain is, and the
// borg it starts. Every module that starts borg (the run, `borg --version`) marks the same way.

const PARENT_VARIABLE = 'TBORG_PARENT';

// The parsed PARENT_VARIABLE.
export interface ParentMarker {
  pid: number;
  depth: number;
  borgPath: string;
}

// Pure: a PARENT_VARIABLE value, or undefined when it is not tborg's.
export function parseMarker(value: string | undefined): ParentMarker | undefined {
  const match = /^(\d+) (\d+) (.+)$/s.exec(value ?? '');
  if (!match) return undefined;
  return { pid: Number(match[1]), depth: Number(match[2]), borgPath: match[3]! };
}

// The marker in `env`, or undefined.
export function readMarker(env: NodeJS.ProcessEnv): ParentMarker | undefined {
  return parseMarker(env[PARENT_VARIABLE]);
}

// borg's environment: `env` plus the marker naming this tborg (`pid`) and the borg it starts.
export function markChildEnv(env: NodeJS.ProcessEnv, borgPath: string, pid = process.pid): NodeJS.ProcessEnv {
  const depth = (readMarker(env)?.depth ?? 0) + 1;
  return { ...env, [PARENT_VARIABLE]: `${pid} ${depth} ${borgPath}` };
}
