import type { LocationProto } from './location.js';
import { END, HOST, hostOf, NO_DOUBLE_COLON, PORT, portOf, USER, type ParsedLocation } from './location-regex.js';
import { normpathSpecial } from './python-path.js';

// The location grammar of borg 1.1.9 .. 1.4 (identical on POSIX; 1.1.0..1.1.8 only lacked the
// host_re lookarounds): parseformat.py Location and its regexes, transcribed and compiled once.

// borg 1.x optional_archive_re: "::" then an archive name without "/".
const ARCHIVE = String.raw`(?:::(?<archive>[^/]+))?` + END;

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
