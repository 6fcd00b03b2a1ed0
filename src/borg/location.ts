import { B1_ENV, NEWEST_BORG2_GENERATION, parseBorg1, parseBorg2, type ParsedLocation } from './location-grammar.js';
import { expandPlaceholders, NO_PLACEHOLDER, type PlaceholderResolver } from './placeholder-expansion.js';

// Which repository a location string names, exactly as borg parses it. Every rule follows borg's
// own Location class (src/borg/helpers/parseformat.py, Location.parse and Location._parse) of the
// version named beside it: BORG_REPO and placeholders here, each version's regexes in
// location-grammar.ts, with path normalization as Python does it, {placeholders} in
// placeholder-expansion.ts (their values in placeholders.ts).

// A repository location as borg reads it (the parts are described in location-grammar.ts).
export interface Location extends ParsedLocation {
  // The repository part as written (borg 1.x: without `::archive`), or BORG_REPO's value.
  location: string;
}

// What reading a location needs besides its text: the borg version, placeholder values, the cwd.
export interface LocationOptions {
  // The installed borg's version, e.g. "2.0.0b14": borg 2's location syntax changed between betas
  // (see borg2Generation). Without it borg 2 is taken to be 2.0.0b5, the borg2 on this project's
  // machines (Debian 12). Ignored for borg 1.x, whose syntax is the same from 1.1.9 to 1.4.
  version?: string;
  // Values for borg's {placeholders} (replace_placeholders: {hostname}, {user}, {fqdn}, ...),
  // which borg expands before parsing. Without a resolver they are left as written.
  placeholder?: PlaceholderResolver;
  // borg >= 2.0.0b13 makes a local path absolute against its working directory
  // (os.path.abspath). Without cwd a relative local path stays relative.
  cwd?: string;
}

// The borg 2 beta whose location grammar applies: "2.0.0b14" -> 14, alphas -> 1, a release or a
// beta newer than any known -> the newest known grammar. Undefined -> 5 (this project's borg2).
export function borg2Generation(version: string | undefined): number {
  if (version === undefined) return 5;
  const m = /^2\.0\.0(?:(a|b|rc)(\d+))?/.exec(version.trim());
  if (!m) return /^2\./.test(version.trim()) ? NEWEST_BORG2_GENERATION : 5;
  if (m[1] === 'a') return 1;
  if (m[1] === 'b') return Math.max(1, Number(m[2]));
  return NEWEST_BORG2_GENERATION;
}

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
export function parseLocation(text: string, env: NodeJS.ProcessEnv, major: 1 | 2, options: LocationOptions = {}): Location | undefined {
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

// The environment variable naming the remote shell borg starts for this location, or null when no
// OpenSSH client is involved: ssh:// and scp-style run `borg serve` through BORG_RSH (or --rsh);
// borg 2.0.0b22+ rest://host runs borgstore's ssh from BORGSTORE_RSH, which borg fills from
// BORG_RSH when unset (repository.py propagate_rsh). sftp uses paramiko, not OpenSSH.
export function remoteShellVariable(l: Location): 'BORG_RSH' | 'BORGSTORE_RSH' | null {
  if (l.proto === 'ssh') return 'BORG_RSH';
  if (l.proto === 'rest' && l.host !== null) return 'BORGSTORE_RSH';
  return null;
}
