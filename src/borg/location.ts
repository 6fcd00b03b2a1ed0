// What a repository location is to tborg: the parts borg reads from the text (proto, user, host,
// port, path) and the few facts derived from them. The text is parsed in parse-location.ts exactly as
// borg's own Location class does (src/borg/helpers/parseformat.py); the grammar of each major is in
// borg1-location.ts and borg2-location.ts.

// Every proto some borg version gives a location. Local paths are 'file'.
//   ssh            borg 1.x, borg 2 (legacy ssh:// in 2.0.0b22+): `borg serve` over $BORG_RSH
//   socket         borg 2.0.0b6..b21: `borg serve` on a local unix socket
//   sftp           borg 2.0.0b10+: borgstore's sftp backend (paramiko, not OpenSSH)
//   rest           borg 2.0.0b22+: borgstore REST over stdio, through ssh when a host is given
//   rclone, s3, b2, http, https  borg 2 borgstore backends
export type LocationProto = 'ssh' | 'file' | 'rest' | 'socket' | 'sftp' | 'rclone' | 's3' | 'b2' | 'http' | 'https';

export interface Location {
  // The repository part as written (borg 1.x: without `::archive`), or BORG_REPO's value.
  location: string;
  proto: LocationProto;
  user: string | null;
  // Without the brackets of an IPv6 address (borg's Location.host property strips them).
  host: string | null;
  port: number | null;
  // As borg uses it: normalized like os.path.normpath, `/./x` kept as borg's "relative to the
  // working directory" marker, scp-style `host:x` relative to the remote home. For locations that
  // borg 2.0.0b22+ hands to borgstore unparsed (sftp:, s3:, ...), the whole URL.
  path: string;
  // borg 1.x `::archive`; always null for borg 2 (archives are separate arguments there).
  archive: string | null;
}

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

// Returns the value of a placeholder (name, format spec after ':' or ''), or undefined when borg
// would reject it (unknown name).
export type PlaceholderResolver = (name: string, spec: string) => string | undefined;

// The borg 2 beta whose location grammar applies: "2.0.0b14" -> 14, alphas -> 1, a release or a
// beta newer than any known -> the newest known grammar. Undefined -> 5 (this project's borg2).
export function borg2Generation(version: string | undefined): number {
  if (version === undefined) return 5;
  const m = /^2\.0\.0(?:(a|b|rc)(\d+))?/.exec(version.trim());
  if (!m) return /^2\./.test(version.trim()) ? 23 : 5;
  if (m[1] === 'a') return 1;
  if (m[1] === 'b') return Math.max(1, Number(m[2]));
  return 23;
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
