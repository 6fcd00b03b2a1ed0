// Which repository a location string names, exactly as borg parses it. Every rule below follows
// borg's own Location class (src/borg/helpers/parseformat.py, Location._parse and its regexes) of the
// version named beside it; the JavaScript regular expressions are transcriptions of borg's, compiled
// once at module load.

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

// The placeholders borg 1.2/1.4/2.x know (helpers/parseformat.py replace_placeholders).
export const BORG_PLACEHOLDERS: readonly string[] = [
  'pid', 'fqdn', 'reverse-fqdn', 'hostname', 'now', 'utcnow', 'user', 'uuid4',
  'borgversion', 'borgmajor', 'borgminor', 'borgpatch',
];

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

// ---------------------------------------------------------------------------------------------
// borg 1.1.9 .. 1.4 (identical on POSIX; 1.1.0..1.1.8 only lacked the host_re lookarounds).

const B1_SSH = new RegExp(String.raw`^(?<proto>ssh)://` + USER + HOST + PORT + String.raw`(?<path>/` + NO_DOUBLE_COLON + ')' + ARCHIVE);
const B1_FILE = new RegExp(String.raw`^(?<proto>file)://(?<path>[^/]*/` + NO_DOUBLE_COLON + ')' + ARCHIVE);
// scp_re, also used for local paths: [user@]host: is optional; the path must not start with ":",
// "//" or "ssh://".
const B1_SCP = new RegExp('^(?:' + USER + HOST + ':)?' + String.raw`(?!:|//|ssh://)(?<path>` + NO_DOUBLE_COLON + ')' + ARCHIVE);
// env_re: "::" alone, or an optional "::archive", takes the repository from BORG_REPO.
const B1_ENV = new RegExp(String.raw`^(?:::` + END + String.raw`|(?:::(?<archive>[^/]+))?` + END + ')');

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
// Unreleased master (after 2.0.0b22) no longer excludes "//" here but rejects it below (UNC paths).
const B2_LOCAL_NEXT = /^(?!(?:ssh|file):\/\/|(?:sftp|http|https|s3|b2|rclone):)(?<path>.+)/;

type PathStyle = 'special' | 'normpath' | 'abspath' | 'raw';
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
//   after b22     (unreleased master) "//" local paths rejected as UNC
const B2_RULES: ReadonlyArray<readonly [number, readonly Rule[]]> = [
  [1, [{ re: B2_SSH_ABS, path: 'special' }, { re: B2_FILE_SERVER, path: 'special' }, { re: B2_LOCAL_B1, path: 'special' }]],
  [6, [{ re: B2_SSH_ABS, path: 'special' }, { re: B2_FILE_SERVER, path: 'special' }, { re: B2_SOCKET_ABS, path: 'special' }, { re: B2_LOCAL_B6, path: 'special' }]],
  [10, [
    { re: B2_SSH_ABS, path: 'special' }, { re: B2_SFTP_ABS, path: 'special' }, { re: B2_FILE_SERVER, path: 'special' },
    { re: B2_SOCKET_ABS, path: 'special' }, { re: B2_LOCAL_B6, path: 'special' },
  ]],
  [11, [
    { re: B2_SSH_ABS, path: 'special' }, { re: B2_SFTP_ABS, path: 'special' }, { re: B2_RCLONE_SLASHES, path: 'raw' },
    { re: B2_FILE_SERVER, path: 'special' }, { re: B2_SOCKET_ABS, path: 'special' }, { re: B2_LOCAL_B6, path: 'special' },
  ]],
  [13, [
    { re: B2_SSH_SFTP_SEP, path: 'normpath' }, { re: B2_RCLONE, path: 'raw' }, { re: B2_FILE_SOCKET_ABS, path: 'normpath' },
    { re: B2_LOCAL_B13, path: 'abspath' },
  ]],
  [20, [
    { re: B2_SSH_SFTP_SEP, path: 'normpath' }, { re: B2_RCLONE, path: 'raw' }, { re: B2_FILE_SOCKET_ABS, path: 'normpath' },
    { re: B2_S3, path: 'raw' }, { re: B2_LOCAL_B20, path: 'abspath' },
  ]],
  [21, [
    { re: B2_SSH_SFTP_SEP, path: 'normpath' }, { re: B2_HTTP, path: 'raw' }, { re: B2_RCLONE, path: 'raw' },
    { re: B2_FILE_SOCKET_ABS, path: 'normpath' }, { re: B2_S3, path: 'raw' }, { re: B2_LOCAL_B20, path: 'abspath' },
  ]],
  [22, [
    { re: B2_SSH_SEP, path: 'normpath' }, { re: B2_REST, path: 'normpath' }, { re: B2_FILE_ABS, path: 'normpath' },
    { re: B2_SCHEME, path: 'raw' }, { re: B2_LOCAL_B22, path: 'abspath' },
  ]],
  [23, [
    { re: B2_SSH_SEP, path: 'normpath' }, { re: B2_REST, path: 'normpath' }, { re: B2_FILE_ABS, path: 'normpath' },
    { re: B2_SCHEME, path: 'raw' }, { re: B2_LOCAL_NEXT, path: 'abspath' },
  ]],
];

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

function rulesFor(generation: number): readonly Rule[] {
  let rules = B2_RULES[0]![1];
  for (const [since, r] of B2_RULES) if (generation >= since) rules = r;
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Paths, as Python's posixpath does them.

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

// ---------------------------------------------------------------------------------------------
// Placeholders: borg runs the text through str.format_map before parsing
// (parseformat.py format_line). "{{" and "}}" are literal braces; a lone brace, "{}", or a
// "!conversion" makes borg refuse the location.

const NO_PLACEHOLDER = Symbol('invalid');

function expandPlaceholders(text: string, resolve: PlaceholderResolver | undefined): string | typeof NO_PLACEHOLDER {
  if (!text.includes('{') && !text.includes('}')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '}') {
      if (text[i + 1] !== '}') return NO_PLACEHOLDER;
      out += '}';
      i++;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    if (text[i + 1] === '{') {
      out += '{';
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 1);
    if (close === -1) return NO_PLACEHOLDER;
    const field = text.slice(i + 1, close);
    // Nested fields in a format spec ("{now:{x}}") are legal Python but nothing borg documents.
    if (field.includes('{')) return NO_PLACEHOLDER;
    const colon = field.indexOf(':');
    const head = colon === -1 ? field : field.slice(0, colon);
    const spec = colon === -1 ? '' : field.slice(colon + 1);
    if (head === '' || head.includes('!')) return NO_PLACEHOLDER;
    if (resolve === undefined) {
      out += text.slice(i, close + 1);
    } else {
      const value = resolve(head, spec);
      if (value === undefined) return NO_PLACEHOLDER;
      out += value;
    }
    i = close;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

// A Location before the text it was parsed from is attached.
type Parsed = Omit<Location, 'location'>;

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

function parseBorg1(text: string): Parsed | undefined {
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

function parseBorg2(text: string, generation: number, cwd: string | undefined): Parsed | undefined {
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
    const parsed: Parsed = {
      proto,
      user: g.user ?? g.profile ?? g.key ?? null,
      host: hostOf(g.host),
      port: portOf(g.port),
      path: shapePath(path, rule.path, cwd),
      archive: null,
    };
    // After 2.0.0b22 (master): a local "//server/share" is refused as a UNC path.
    if (generation >= 23 && parsed.proto === 'file' && parsed.path.startsWith('//')) return undefined;
    return parsed;
  }
  return undefined;
}

function build(location: string, parsed: Parsed, options: LocationOptions): Location | undefined {
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
// handling applies. A local socket:// and a host-less rest:// (borg serve on stdio) are local.
export function isRemote(l: Location): boolean {
  switch (l.proto) {
    case 'file':
    case 'socket':
      return false;
    case 'rest':
      return l.host !== null;
    default:
      return true;
  }
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
