import { B1_ENV, parseBorg1 } from './borg1-location.js';
import { parseBorg2 } from './borg2-location.js';
import { borg2Generation, type Location, type LocationOptions } from './location.js';
import type { ParsedLocation } from './location-regex.js';
import { expandPlaceholders, NO_PLACEHOLDER } from './placeholder-expansion.js';

// Which repository a location string names, exactly as borg parses it. Every rule follows borg's
// own Location class (src/borg/helpers/parseformat.py, Location.parse and Location._parse) of the
// version named beside it: BORG_REPO's part here, each major's grammar in borg1-location.ts and
// borg2-location.ts, placeholders in placeholder-expansion.ts.

function build(location: string, parsed: ParsedLocation, options: LocationOptions): Location | undefined {
  const resolve = options.placeholder;
  const expand = (s: string | null): string | null | typeof NO_PLACEHOLDER => (s === null ? null : expandPlaceholders(s, resolve));
  const user = expand(parsed.user);
  const host = expand(parsed.host);
  const path = expand(parsed.path);
  if (user === NO_PLACEHOLDER || host === NO_PLACEHOLDER || path === NO_PLACEHOLDER) return undefined;
  return { location, proto: parsed.proto, user, host, port: parsed.port, path: path ?? '', archive: parsed.archive };
}

// Parses a repository location the way the given borg major version does. `text` is the
// positional argument (borg 1.x) or the -r/--repo value (borg 2); '' stands for "not given" and
// falls back to BORG_REPO where borg does. Returns undefined wherever borg would refuse it.
export function parseLocation(
  text: string,
  env: NodeJS.ProcessEnv,
  major: 1 | 2,
  options: LocationOptions = {},
): Location | undefined {
  // A placeholder syntax error anywhere (also in the archive name) makes borg refuse the text.
  if (expandPlaceholders(text, undefined) === NO_PLACEHOLDER) return undefined;
  return major === 1 ? parseLocation1(text, env, options) : parseLocation2(text, env, options);
}

// borg 1.x Location.parse: the text itself, else "::", "::archive" or "" with BORG_REPO.
function parseLocation1(text: string, env: NodeJS.ProcessEnv, options: LocationOptions): Location | undefined {
  const direct = parseBorg1(text);
  if (direct) {
    const repoPart = direct.archive === null ? text : text.slice(0, text.length - direct.archive.length - 2);
    return build(repoPart, direct, options);
  }
  const m = B1_ENV.exec(text);
  if (!m) return undefined;
  const repo = env.BORG_REPO;
  if (repo === undefined) return undefined;
  if (expandPlaceholders(repo, undefined) === NO_PLACEHOLDER) return undefined;
  const fromEnv = parseBorg1(repo);
  if (!fromEnv) return undefined;
  // The archive comes from the text only: with "::" or "" an archive inside BORG_REPO is dropped.
  const repoPart = fromEnv.archive === null ? repo : repo.slice(0, repo.length - fromEnv.archive.length - 2);
  return build(repoPart, { ...fromEnv, archive: m.groups?.archive ?? null }, options);
}

// borg 2 Location.parse: an empty text means BORG_REPO (2.0.0b10+: an empty BORG_REPO means none).
function parseLocation2(text: string, env: NodeJS.ProcessEnv, options: LocationOptions): Location | undefined {
  const generation = borg2Generation(options.version);
  let source = text;
  if (source === '') {
    const repo = env.BORG_REPO;
    if (repo === undefined || repo === '') return undefined;
    if (expandPlaceholders(repo, undefined) === NO_PLACEHOLDER) return undefined;
    source = repo;
  }
  const parsed = parseBorg2(source, generation, options.cwd);
  return parsed ? build(source, parsed, options) : undefined;
}

// True when the repository is not on this machine's file system: tborg's lock and connection
