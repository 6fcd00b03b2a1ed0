import type { Parser } from './argparse-grammar.js';
import { effective, positionalValues, type Occurrence, type ParseState } from './argparse-replay.js';
import { BORG2_COMMANDS_WITHOUT_REPOSITORY } from './borg2-commands.js';
import type { Location, LocationOptions } from './location.js';
import { parseLocation } from './parse-location.js';

// Which repository a parsed borg command line opens, and where the line names it: the positional
// (borg 1.x), -r/--repo (borg 2) or BORG_REPO, as borg's location_validator reads them.

// A repository the line names, and the word of argv that names it.
export interface RepositoryArgument {
  location: Location;
  // Index in argv of the word that holds the location (the positional, the -r value, or the
  // `--repo=...` word); for borg 1.x `::archive` the word holding the archive. null: BORG_REPO alone.
  argIndex: number | null;
  source: 'argument' | '--repo' | 'BORG_REPO' | '--other-repo' | 'BORG_OTHER_REPO';
}

// The parts of the parsed command line (command-line.ts) that finding the repository fills in;
// `invalid` keeps the first reason borg would refuse the line.
export interface RepositoryFindings {
  repository: RepositoryArgument | null;
  otherRepository: RepositoryArgument | null;
  invalid: string | null;
}

// borg 1.x: the first positional is the location (location_validator), '' when omitted.
export function findRepository1(result: RepositoryFindings, state: ParseState, leaf: Parser, env: NodeJS.ProcessEnv, options: LocationOptions): void {
  const kind = leaf.spec?.location;
  if (kind === undefined) return;
  const values = positionalValues(state, leaf, 0);
  if (values === undefined) return; // never reached: the line is already invalid
  const word = values[0];
  const text = word?.text ?? '';
  const location = parseLocation(text, env, 1, options);
  if (!location) {
    result.invalid ??= `argument ${leaf.positionals[0]!.name}: Invalid location format: "${text}"`;
    return;
  }
  // Location.parse tries the text itself first; only "", "::" and "::archive" (which can never
  // parse on their own: the scp path must not start with ":") take the repository from BORG_REPO.
  const fromEnv = text === '' || text.startsWith('::');
  result.repository = { location, argIndex: word?.index ?? null, source: fromEnv ? 'BORG_REPO' : 'argument' };
  if (kind === 'archive' && location.archive === null) result.invalid ??= `"${text}": No archive specified`;
  if (kind === 'repository' && location.archive !== null) result.invalid ??= `"${text}": No archive can be specified`;
  if (leaf.spec?.localOnly && location.proto !== 'file') result.invalid ??= `"${text}": Repository must be local`;
}

// borg 2: -r/--repo (a common option, so also before the command) or BORG_REPO.
export function findRepository2(result: RepositoryFindings, state: ParseState, leaf: Parser, env: NodeJS.ProcessEnv, options: LocationOptions): void {
  const key = state.path.join(' ');
  if (BORG2_COMMANDS_WITHOUT_REPOSITORY.has(key)) return;
  result.repository = repositoryFromOption(result, effective(state.occurrences, '-r'), env.BORG_REPO, env, options);
  if (result.repository === null) return;
  if (leaf.options.has('--other-repo')) {
    // location_validator(other=True): an empty or missing value means BORG_OTHER_REPO.
    const other = repositoryFromOption(result, effective(state.occurrences, '--other-repo'), env.BORG_OTHER_REPO, env, options);
    result.otherRepository = other && {
      ...other,
      source: other.source === 'BORG_REPO' ? 'BORG_OTHER_REPO' : '--other-repo',
    };
  }
}

// A location given by an option (Location(text) with an empty text falling back to the
// environment variable), or null when there is none.
function repositoryFromOption(
  result: RepositoryFindings,
  occurrence: Occurrence | null,
  fallback: string | undefined,
  env: NodeJS.ProcessEnv,
  options: LocationOptions,
): RepositoryArgument | null {
  const text = occurrence?.value ?? '';
  const location = parseLocation(text, { ...env, BORG_REPO: fallback }, 2, options);
  if (!location) {
    if (text !== '' || (fallback ?? '') !== '') {
      const name = occurrence?.action.strings.join('/') ?? '-r/--repo';
      result.invalid ??= `argument ${name}: Invalid location format: "${text || fallback}"`;
    }
    return null;
  }
  if (text === '') return { location, argIndex: null, source: 'BORG_REPO' };
  return { location, argIndex: occurrence!.valueIndex ?? occurrence!.index, source: '--repo' };
}
