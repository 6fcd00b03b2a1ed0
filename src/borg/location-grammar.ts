// The location grammars of borg 1.x and of the borg 2 betas: borg's own Location class
// (src/borg/helpers/parseformat.py, Location._parse and its regexes) of the version named beside
// each rule, transcribed into JavaScript regular expressions compiled once at module load.
// location.ts applies them (BORG_REPO, placeholders) and names the result a Location.

// Every proto some borg version gives a location. Local paths are 'file'.
//   ssh            borg 1.x, borg 2 (legacy ssh:// in 2.0.0b22+): `borg serve` over $BORG_RSH
//   socket         borg 2.0.0b6..b21: `borg serve` on a local unix socket
//   sftp           borg 2.0.0b10+: borgstore's sftp backend (paramiko, not OpenSSH)
//   rest           borg 2.0.0b22+: borgstore REST over stdio, through ssh when a host is given
//   rclone, s3, b2, http, https  borg 2 borgstore backends
type LocationProto = 'ssh' | 'file' | 'rest' | 'socket' | 'sftp' | 'rclone' | 's3' | 'b2' | 'http' | 'https';

// What a grammar reads from a location text (location.ts adds the text itself).
export interface ParsedLocation {
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

// ---------------------------------------------------------------------------------------------
// Pieces shared by every version (parseformat.py Location.optional_user_re, host_re, ...).

// user must not contain "@", ":" or "/" (optional_user_re).
const USER = String.raw`(?:(?<user>[^@:/]+)@)?`;
// A host name or IPv4 address without ":" or "/", not bracketed; or an IPv6 address in brackets
// (host_re, borg >= 1.1.9).
const HOST = String.raw`(?<host>(?!\[)[^:/]+(?<!\])|\[[0-9a-fA-F:.]+\])`;
// Python's \d also matches non-ASCII digits; borg would accept ssh://h:٢٢/x, tborg does not.
const PORT = String.raw`(?::(?<port>[0-9]+))?`;
// Any characters, but no "::" (scp_path_re, file_path_re, abs_path_re of borg 1.x and 2.0.0b1..b12).
const NO_DOUBLE_COLON = String.raw`(?:[^:]|:(?!:))+`;
// Python's `$` without MULTILINE also matches just before a final newline.
const END = String.raw`(?=\n?$)`;
// borg 1.x optional_archive_re: "::" then an archive name without "/".
const ARCHIVE = String.raw`(?:::(?<archive>[^/]+))?` + END;

function portOf(text: string | undefined): number | null {
  // `m.group('port') and int(m.group('port')) or None`: absent and 0 both mean "no port".
  if (text === undefined) return null;
  const n = Number.parseInt(text, 10);
  return n === 0 ? null : n;
}

// Location.host strips the IPv6 brackets (lstrip('[').rstrip(']')).
function hostOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.replace(/^\[+/, '').replace(/\]+$/, '');
}

// ---------------------------------------------------------------------------------------------
// borg 1.1.9 .. 1.4 (identical on POSIX; 1.1.0..1.1.8 only lacked the host_re lookarounds).

const B1_SSH = new RegExp(String.raw`^(?<proto>ssh)://` + USER + HOST + PORT + String.raw`(?<path>/` + NO_DOUBLE_COLON + ')' + ARCHIVE);
const B1_FILE = new RegExp(String.raw`^(?<proto>file)://(?<path>[^/]*/` + NO_DOUBLE_COLON + ')' + ARCHIVE);
// scp_re, also used for local paths: [user@]host: is optional; the path must not start with ":",
// "//" or "ssh://".
const B1_SCP = new RegExp('^(?:' + USER + HOST + ':)?' + String.raw`(?!:|//|ssh://)(?<path>` + NO_DOUBLE_COLON + ')' + ARCHIVE);
// env_re: "::" alone, or an optional "::archive", takes the repository from BORG_REPO.
export const B1_ENV = new RegExp(String.raw`^(?:::` + END + String.raw`|(?:::(?<archive>[^/]+))?` + END + ')');

// The location a borg 1.x text names by itself (ssh://, file://, scp-style or a local path).
export function parseBorg1(text: string): ParsedLocation | undefined {
  let m = B1_SSH.exec(text) ?? B1_FILE.exec(text);
  if (m) {
    const g = m.groups!;
    return {
      proto: g.proto as LocationProto,
      user: g.user ?? null,
      host: hostOf(g.host),
      port: portOf(g.port),
      path: normpathSpecial(g.path!),
      archive: g.archive ?? null,
    };
  }
  m = B1_SCP.exec(text);
  if (m) {
    const g = m.groups!;
    return {
      // `self._host and 'ssh' or 'file'`
      proto: g.host ? 'ssh' : 'file',
      user: g.user ?? null,
      host: hostOf(g.host),
      port: null,
      path: normpathSpecial(g.path!),
      archive: g.archive ?? null,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// borg 2 betas. Their regexes are matched with re.match and no end anchor: whatever follows the
// longest match is silently ignored (2.0.0b5: `-r /repo::x` is the repository /repo).

// ssh/sftp/socket with an absolute path, "/./x" marking a relative one (2.0.0b1..b12).
const B2_SSH_ABS = new RegExp(String.raw`^(?<proto>ssh)://` + USER + HOST + PORT + String.raw`(?<path>/` + NO_DOUBLE_COLON + ')');
const B2_SFTP_ABS = new RegExp(String.raw`^(?<proto>sftp)://` + USER + HOST + PORT + String.raw`(?<path>/` + NO_DOUBLE_COLON + ')');
const B2_FILE_SERVER = new RegExp(String.raw`^(?<proto>file)://(?<path>[^/]*/` + NO_DOUBLE_COLON + ')');
const B2_SOCKET_ABS = new RegExp(String.raw`^(?<proto>socket)://(?<path>/` + NO_DOUBLE_COLON + ')');
const B2_RCLONE_SLASHES = /^(?<proto>rclone):\/\/(?<path>.*)/;
const B2_LOCAL_B1 = new RegExp(String.raw`^(?!:|//|ssh://)(?<path>` + NO_DOUBLE_COLON + ')');
const B2_LOCAL_B6 = new RegExp(String.raw`^(?!:|//|ssh://|socket://)(?<path>` + NO_DOUBLE_COLON + ')');
// 2.0.0b13+: "/" after host[:port] is a separator; the path after it is relative unless it starts
// with another "/" (ssh://host//abs, ssh://host/rel).
const B2_SSH_SFTP_SEP = new RegExp(String.raw`^(?<proto>ssh|sftp)://` + USER + HOST + PORT + '/(?<path>.+)');
const B2_SSH_SEP = new RegExp(String.raw`^(?<proto>ssh)://` + USER + HOST + PORT + '/(?<path>.+)');
const B2_REST = new RegExp(String.raw`^(?<proto>rest)://(?:` + USER + HOST + PORT + ')?/(?<path>.+)');
const B2_RCLONE = /^(?<proto>rclone):(?<path>.*)/;
const B2_FILE_SOCKET_ABS = /^(?<proto>file|socket):\/\/(?<path>\/.+)/;
const B2_FILE_ABS = /^(?<proto>file):\/\/(?<path>\/.+)/;
const B2_HTTP = new RegExp(String.raw`^(?<proto>https?)://(?:(?<user>[^:@]+):(?<pass>[^@]+)@)?` + HOST + PORT + '(?<path>/)');
const B2_S3 = new RegExp(
  String.raw`^(?<proto>s3|b2):(?:(?:(?<profile>[^@:]+)|(?<key>[^:@]+):(?<secret>[^@]+))@)?` +
    String.raw`(?:[^:/]+://(?<host>[^:/]+)(?::(?<port>[0-9]+))?)?/(?<bucket>[^/]+)/(?<path>.+)`,
);
const B2_SCHEME = /^(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*):/;
const BORGSTORE_SCHEMES: ReadonlySet<string> = new Set(['sftp', 'http', 'https', 's3', 'b2', 'rclone']);
const B2_LOCAL_B13 = /^(?!\/\/|(?:ssh|socket|sftp|file):\/\/|rclone:)(?<path>.+)/;
const B2_LOCAL_B20 = /^(?!\/\/|(?:ssh|socket|sftp|file):\/\/|(?:rclone|s3|b2):)(?<path>.+)/;
const B2_LOCAL_B22 = /^(?!\/\/|(?:ssh|file):\/\/|(?:sftp|http|https|s3|b2|rclone):)(?<path>.+)/;
// 2.0.0b23 no longer excludes "//" here but rejects it below (UNC paths).
const B2_LOCAL_B23 = /^(?!(?:ssh|file):\/\/|(?:sftp|http|https|s3|b2|rclone):)(?<path>.+)/;
// 2.0.0b24 (#10215, "don't mistake a malformed URL for a local path"): a local path must not start
// with any scheme borg knows followed by ":" (local_path_re: BORG_SCHEMES + BORGSTORE_SCHEMES), so
// `ssh:foo` or `ssh://host/` is refused instead of being the directory ./ssh:foo. b24's own source
// was not read: its changelog names the change, b25's parseformat.py has it; whether b24 counted
// rest among its schemes is assumed (it still parsed rest://).
const B2_LOCAL_B24 = /^(?!(?:rest|ssh|file|sftp|http|https|s3|b2|rclone):)(?<path>.+)/;
// 2.0.0b25 (#9765, "use ssh:// URLs (not rest://)"): rest:// is gone, so `rest://h/r` is a local path
// again (BORG_SCHEMES = ("ssh", "file")).
const B2_LOCAL_B25 = /^(?!(?:ssh|file|sftp|http|https|s3|b2|rclone):)(?<path>.+)/;

interface Rule {
  re: RegExp;
  path: PathStyle;
}

// The borg 2 location grammar, by beta. Each step is a distinct Location class in borg's history.
//   2.0.0b1..b5   ssh:// (absolute path), file://, local paths
//   2.0.0b6..b9   + socket://
//   2.0.0b10      + sftp://
//   2.0.0b11..b12 + rclone://
//   2.0.0b13..b19 ssh:// and sftp:// take "/" as a separator; rclone:; local paths made absolute
//   2.0.0b20      + s3:, b2:
//   2.0.0b21      + http://, https://
//   2.0.0b22      rest://; sftp/http/s3/b2/rclone handed to borgstore; socket:// gone
//   2.0.0b23      "//" local paths rejected as UNC
//   2.0.0b24      a known scheme and ":" is never a local path (ssh:foo refused)
//   2.0.0b25      rest:// gone (ssh:// is REST over ssh); a release is taken to read as b25 does
const B2_RULES: ReadonlyArray<readonly [number, readonly Rule[]]> = [
  [
    1,
    [
      { re: B2_SSH_ABS, path: 'special' },
      { re: B2_FILE_SERVER, path: 'special' },
      { re: B2_LOCAL_B1, path: 'special' },
    ],
  ],
  [
    6,
    [
      { re: B2_SSH_ABS, path: 'special' },
      { re: B2_FILE_SERVER, path: 'special' },
      { re: B2_SOCKET_ABS, path: 'special' },
      { re: B2_LOCAL_B6, path: 'special' },
    ],
  ],
  [
    10,
    [
      { re: B2_SSH_ABS, path: 'special' },
      { re: B2_SFTP_ABS, path: 'special' },
      { re: B2_FILE_SERVER, path: 'special' },
      { re: B2_SOCKET_ABS, path: 'special' },
      { re: B2_LOCAL_B6, path: 'special' },
    ],
  ],
  [
    11,
    [
      { re: B2_SSH_ABS, path: 'special' },
      { re: B2_SFTP_ABS, path: 'special' },
      { re: B2_RCLONE_SLASHES, path: 'raw' },
      { re: B2_FILE_SERVER, path: 'special' },
      { re: B2_SOCKET_ABS, path: 'special' },
      { re: B2_LOCAL_B6, path: 'special' },
    ],
  ],
  [
    13,
    [
      { re: B2_SSH_SFTP_SEP, path: 'normpath' },
      { re: B2_RCLONE, path: 'raw' },
      { re: B2_FILE_SOCKET_ABS, path: 'normpath' },
      { re: B2_LOCAL_B13, path: 'abspath' },
    ],
  ],
  [
    20,
    [
      { re: B2_SSH_SFTP_SEP, path: 'normpath' },
      { re: B2_RCLONE, path: 'raw' },
      { re: B2_FILE_SOCKET_ABS, path: 'normpath' },
      { re: B2_S3, path: 'raw' },
      { re: B2_LOCAL_B20, path: 'abspath' },
    ],
  ],
  [
    21,
    [
      { re: B2_SSH_SFTP_SEP, path: 'normpath' },
      { re: B2_HTTP, path: 'raw' },
      { re: B2_RCLONE, path: 'raw' },
      { re: B2_FILE_SOCKET_ABS, path: 'normpath' },
      { re: B2_S3, path: 'raw' },
      { re: B2_LOCAL_B20, path: 'abspath' },
    ],
  ],
  [
    22,
    [
      { re: B2_SSH_SEP, path: 'normpath' },
      { re: B2_REST, path: 'normpath' },
      { re: B2_FILE_ABS, path: 'normpath' },
      { re: B2_SCHEME, path: 'raw' },
      { re: B2_LOCAL_B22, path: 'abspath' },
    ],
  ],
  [
    23,
    [
      { re: B2_SSH_SEP, path: 'normpath' },
      { re: B2_REST, path: 'normpath' },
      { re: B2_FILE_ABS, path: 'normpath' },
      { re: B2_SCHEME, path: 'raw' },
      { re: B2_LOCAL_B23, path: 'abspath' },
    ],
  ],
  [
    24,
    [
      { re: B2_SSH_SEP, path: 'normpath' },
      { re: B2_REST, path: 'normpath' },
      { re: B2_FILE_ABS, path: 'normpath' },
      { re: B2_SCHEME, path: 'raw' },
      { re: B2_LOCAL_B24, path: 'abspath' },
    ],
  ],
  // b25 parseformat.py Location._parse: ssh_re, file_re, scheme_re (BORGSTORE_SCHEMES), local_re.
  [
    25,
    [
      { re: B2_SSH_SEP, path: 'normpath' },
      { re: B2_FILE_ABS, path: 'normpath' },
      { re: B2_SCHEME, path: 'raw' },
      { re: B2_LOCAL_B25, path: 'abspath' },
    ],
  ],
];
// The newest grammar tborg knows: what a borg 2 release, or a beta after it, is read with.
export const NEWEST_BORG2_GENERATION = 25;

function rulesFor(generation: number): readonly Rule[] {
  let rules = B2_RULES[0]![1];
  for (const [since, r] of B2_RULES) if (generation >= since) rules = r;
  return rules;
}

// The location a borg 2 text names, by the grammar of the given beta (borg2Generation, location.ts).
export function parseBorg2(text: string, generation: number, cwd: string | undefined): ParsedLocation | undefined {
  for (const rule of rulesFor(generation)) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const g = m.groups!;
    if (g.scheme !== undefined) {
      // 2.0.0b22+: only the scheme is detected; borgstore parses the rest.
      if (!BORGSTORE_SCHEMES.has(g.scheme)) continue;
      return { proto: g.scheme as LocationProto, user: null, host: null, port: null, path: text, archive: null };
    }
    let path = g.path!;
    if (g.bucket !== undefined) path = `${g.bucket}/${path}`;
    const proto = (g.proto ?? 'file') as LocationProto;
    const parsed: ParsedLocation = {
      proto,
      user: g.user ?? g.profile ?? g.key ?? null,
      host: hostOf(g.host),
      port: portOf(g.port),
      path: shapePath(path, rule.path, cwd),
      archive: null,
    };
    // 2.0.0b23+ (Location.parse, #10164): a local "//server/share" is refused as a UNC path.
    if (generation >= 23 && parsed.proto === 'file' && parsed.path.startsWith('//')) return undefined;
    return parsed;
  }
  return undefined;
}

// Paths as Python's posixpath makes them: borg normalizes a location's path with os.path.normpath
// or os.path.abspath (parseformat.py Location._parse), and tborg must name the same directory.

// os.path.normpath: collapse "//", drop ".", resolve ".." lexically; exactly two leading slashes
// are kept (POSIX leaves their meaning to the implementation), three or more become one.
export function pythonNormpath(path: string): string {
  if (path === '') return '.';
  let initialSlashes = path.startsWith('/') ? 1 : 0;
  if (initialSlashes && path.startsWith('//') && !path.startsWith('///')) initialSlashes = 2;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initialSlashes && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const joined = '/'.repeat(initialSlashes) + out.join('/');
  return joined === '' ? '.' : joined;
}

// Location._parse normpath_special (borg 1.x, 2.0.0b1..b12): "/./x" means "x relative to the
// current directory" and must survive normalization.
function normpathSpecial(path: string): string {
  const relative = path.startsWith('/./');
  const normalized = pythonNormpath(path);
  return relative ? `/.${normalized}` : normalized;
}

function pythonAbspath(path: string, cwd: string | undefined): string {
  if (path.startsWith('/')) return pythonNormpath(path);
  if (cwd === undefined) return pythonNormpath(path);
  return pythonNormpath(`${cwd.replace(/\/+$/, '')}/${path}`);
}

// How a grammar rule shapes the path it matched (borg's Location._parse, by version).
type PathStyle = 'special' | 'normpath' | 'abspath' | 'raw';

// The path of a matched location, shaped as the rule says.
function shapePath(path: string, style: PathStyle, cwd: string | undefined): string {
  switch (style) {
    case 'special':
      return normpathSpecial(path);
    case 'normpath':
      return pythonNormpath(path);
    case 'abspath':
      return pythonAbspath(path, cwd);
    case 'raw':
      return path;
  }
}
