// A doctor check and the verdict over all of them: what every check makes, how it prints, and the
// exit code. Pure.

// 'skip': the check could not run (an earlier one failed, or it does not apply); it does not change
// the verdict.
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
// The checks, in the order doctor runs and prints them (`tborg doctor --json` names).
export type CheckName = 'borg' | 'location' | 'keepalive' | 'lock-wait' | 'server' | 'repository' | 'lock';

// What every check makes: one line for people, facts for --json.
export interface Check {
  name: CheckName;
  status: CheckStatus;
  // One line, for people.
  detail: string;
  // Machine-readable facts of this check; --json puts them beside name/status/detail.
  data?: Record<string, unknown>;
}

// The verdict's word in --json.
type VerdictWord = 'healthy' | 'warnings' | 'unusable';

// The verdict over all checks: the exit code and the lines people see.
export interface Verdict {
  exitCode: 0 | 1 | 2;
  verdict: VerdictWord;
  // The last line of the human output.
  summary: string;
  // One line per check, then the summary.
  lines: string[];
}

// `ok    keepalive  ...`: the status in 6 columns, the name in 11 (the longest, "repository", 10).
export function formatCheck(check: Check): string {
  return `${check.status.padEnd(6)}${check.name.padEnd(11)}${check.detail}`;
}

// Exit 2 when anything failed (the repository cannot be reached or used), 1 on warnings, else 0.
export function verdict(checks: readonly Check[]): Verdict {
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name);
  const warned = checks.filter((c) => c.status === 'warn').map((c) => c.name);
  let exitCode: 0 | 1 | 2;
  let word: VerdictWord;
  let summary: string;
  if (failed.length > 0) {
    exitCode = 2;
    word = 'unusable';
    summary = `verdict: the repository cannot be reached or used (${failed.join(', ')} failed${warned.length > 0 ? `; warnings: ${warned.join(', ')}` : ''}), exit 2`;
  } else if (warned.length > 0) {
    exitCode = 1;
    word = 'warnings';
    summary = `verdict: usable, with warnings (${warned.join(', ')}), exit 1`;
  } else {
    exitCode = 0;
    word = 'healthy';
    summary = 'verdict: healthy, exit 0';
  }
  return { exitCode, verdict: word, summary, lines: [...checks.map(formatCheck), summary] };
}

// "0.4 s": a duration in a check's detail.
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
