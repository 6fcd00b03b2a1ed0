import { BORG1_COMMON_OPTIONS, BORG1_TOP_ONLY_OPTIONS } from '../../borg/borg1-commands.js';
import { BORG2_COMMON_OPTIONS, BORG2_TOP_ONLY_OPTIONS } from '../../borg/borg2-commands.js';
import { borg2Generation } from '../../borg/location.js';
import type { PlanInput } from '../../plan/plan-input.js';
import type { Check } from './check.js';

// What follows `tborg doctor`: borg's common options and the one repository, the borg command doctor
// plans with, and the location check that judges the result. Pure.

// The words after `tborg doctor`, sorted into what borg's parser gets.
export interface DoctorWords {
  // borg common options, in order, with their values.
  options: string[];
  // The repository as written (borg 1.x `::ARCHIVE` removed), or null: BORG_REPO.
  repository: string | null;
  // The `::ARCHIVE` that was dropped, for the message.
  droppedArchive: string | null;
  // Why the words cannot be a repository argument, or null.
  error: string | null;
}

// Which common options take a value, from the tables (borg1-commands.ts, borg2-commands.ts) kept in
// step with borg's own parsers ("--rsh RSH" takes one, "--debug" none).
function optionsWithValue(major: 1 | 2): Set<string> {
  const table = major === 1 ? [...BORG1_COMMON_OPTIONS, ...BORG1_TOP_ONLY_OPTIONS] : [...BORG2_COMMON_OPTIONS, ...BORG2_TOP_ONLY_OPTIONS];
  const set = new Set<string>();
  for (const text of table) {
    const words = text.split(' ');
    if (!words.some((w) => !w.startsWith('-'))) continue;
    for (const w of words) if (w.startsWith('-')) set.add(w);
  }
  return set;
}

// Splits what follows `doctor` into borg common options and the one repository: a positional
// (any borg) or `-r/--repo REPO` (borg 2's way, accepted for 1.x too). Words after `--` are
// positionals. Options doctor does not know are passed on; borg's parser judges them in the plan.
export function splitDoctorWords(words: readonly string[], major: 1 | 2, afterDashDash: readonly string[] = []): DoctorWords {
  const withValue = optionsWithValue(major);
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (word === '-r' || word === '--repo') {
      const value = words[i + 1];
      if (value === undefined) return { options, repository: null, droppedArchive: null, error: `${word} needs a repository` };
      positionals.push(value);
      i++;
      continue;
    }
    if (word.startsWith('--repo=')) {
      positionals.push(word.slice('--repo='.length));
      continue;
    }
    if (word.startsWith('-r') && !word.startsWith('--') && word.length > 2) {
      positionals.push(word.slice(2));
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      options.push(word);
      if (!word.includes('=') && withValue.has(word) && i + 1 < words.length) options.push(words[++i]!);
      continue;
    }
    positionals.push(word);
  }
  positionals.push(...afterDashDash);
  if (positionals.length > 1) {
    return { options, repository: null, droppedArchive: null, error: `one repository only, got ${positionals.join(' ')}` };
  }
  let repository = positionals[0] ?? null;
  let droppedArchive: string | null = null;
  // borg 1.x REPO::ARCHIVE: a repository path never contains "::" (borg's Location regexes), so the
  // first "::" starts the archive. `borg list REPO::ARCHIVE` would list the whole archive.
  if (major === 1 && repository !== null && repository.includes('::')) {
    const at = repository.indexOf('::');
    droppedArchive = repository.slice(at + 2) || null;
    repository = repository.slice(0, at) || '::';
  }
  return { options, repository, droppedArchive, error: null };
}

// The command doctor plans and probes with: the one that lists a repository's archives
// (borg 1.x `list REPO`; borg 2 `rlist -r REPO`, renamed `repo-list` in 2.0.0b10).
export function listCommand(major: 1 | 2, version: string | undefined): string {
  if (major === 1) return 'list';
  return borg2Generation(version) >= 10 ? 'repo-list' : 'rlist';
}

// borg's argv for the plan: [command, ...options, REPO] (borg 1.x) or [command, ...options, -r, REPO].
export function doctorPlanArgs(split: DoctorWords, major: 1 | 2, version: string | undefined): string[] {
  const repo = split.repository === null ? [] : major === 1 ? [split.repository] : ['-r', split.repository];
  return [listCommand(major, version), ...split.options, ...repo];
}

// The location check: how borg reads the repository argument (from the plan's own parse).
export function checkLocation(input: PlanInput, split: DoctorWords): Check {
  const cl = input.commandLine;
  if (split.error !== null) return { name: 'location', status: 'fail', detail: `bad argument: ${split.error}` };
  if (cl.invalid !== null) return { name: 'location', status: 'fail', detail: `bad argument: ${cl.invalid}` };
  const repo = cl.repository;
  if (repo === null || !cl.opensRepository) {
    return {
      name: 'location',
      status: 'fail',
      detail:
        split.repository === null
          ? 'no repository given, and BORG_REPO is not set'
          : `bad argument: borg would not open a repository with ${input.args.join(' ')}`,
    };
  }
  const l = repo.location;
  const parts: string[] = [l.proto === 'file' ? 'local' : l.proto];
  if (l.host) parts.push(`host ${l.host}`);
  if (l.port) parts.push(`port ${l.port}`);
  if (l.user) parts.push(`user ${l.user}`);
  parts.push(`path ${l.path}`);
  const from = repo.source === 'BORG_REPO' ? ' (from BORG_REPO)' : '';
  const dropped = split.droppedArchive ? `; ::${split.droppedArchive} ignored: doctor checks the repository` : '';
  return {
    name: 'location',
    status: 'ok',
    detail: `${l.location}${from}: ${parts.join(', ')}${dropped}`,
    data: { location: l.location, proto: l.proto, host: l.host, port: l.port, user: l.user, path: l.path, source: repo.source },
  };
}
