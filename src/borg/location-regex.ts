import type { Location } from './location.js';

// The regular-expression pieces that every borg version's Location class shares
// (parseformat.py Location.optional_user_re, host_re, ...), and reading their groups.

// user must not contain "@", ":" or "/" (optional_user_re).
export const USER = String.raw`(?:(?<user>[^@:/]+)@)?`;
// A host name or IPv4 address without ":" or "/", not bracketed; or an IPv6 address in brackets
// (host_re, borg >= 1.1.9).
export const HOST = String.raw`(?<host>(?!\[)[^:/]+(?<!\])|\[[0-9a-fA-F:.]+\])`;
// Python's \d also matches non-ASCII digits; borg would accept ssh://h:٢٢/x, tborg does not.
export const PORT = String.raw`(?::(?<port>[0-9]+))?`;
// Any characters, but no "::" (scp_path_re, file_path_re, abs_path_re of borg 1.x and 2.0.0b1..b12).
export const NO_DOUBLE_COLON = String.raw`(?:[^:]|:(?!:))+`;
// Python's `$` without MULTILINE also matches just before a final newline.
export const END = String.raw`(?=\n?$)`;

// A Location before the text it was parsed from is attached: what the grammar of a major yields.
export type ParsedLocation = Omit<Location, 'location'>;

// The port group as borg reads it.
export function portOf(text: string | undefined): number | null {
  // `m.group('port') and int(m.group('port')) or None`: absent and 0 both mean "no port".
  if (text === undefined) return null;
  const n = Number.parseInt(text, 10);
  return n === 0 ? null : n;
}

// Location.host strips the IPv6 brackets (lstrip('[').rstrip(']')).
export function hostOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.replace(/^\[+/, '').replace(/\]+$/, '');
}

