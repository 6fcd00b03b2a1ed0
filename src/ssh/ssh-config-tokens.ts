import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TborgError } from '../core/errors.js';

// The words of an ssh config file: its directive lines with their line numbers, keywords as ssh
// reads them (lowercase, Debian's aliases), and time values (misc.c convtime).
//
// The npm `ssh-config` package tokenizes the files (keyword case, `=` separators, quotes, end-of-line
// comments); its compute() is not used (docs/facts.md lists where it differs from ssh). It is loaded
// lazily, with require, on the first call: only warnings and `tborg ssh-config` need it, and these
// functions stay synchronous.

// One directive line of a config file, tokenized.
export interface ConfigLine {
  file: string;
  line: number;
  keyword: string; // lowercase, as readconf.c lowercases it before parse_token
  args: string[];
}

// A config file tborg cannot read or tokenize (ssh may still accept it: then tborg cannot edit it).
export class ConfigParseError extends TborgError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${message}`, { exitCode: 2 });
    this.name = 'ConfigParseError';
  }
}

// Debian's OpenSSH also reads ProtocolKeepAlives as ServerAliveInterval (ssh_config(5) on Debian:
// "Debian-specific compatibility aliases"); upstream ssh refuses it, so treating it as an alias is
// right wherever ssh accepted the file. SetupTimeOut was one too until Debian's 9.9p1, which made it
// ConnectTimeout: which of the two depends on the ssh in use, a fact its caller gives (KeywordDialect).
const KEYWORD_ALIASES: Record<string, string> = {
  protocolkeepalives: 'serveraliveinterval',
};

// What the ssh in use makes of a keyword whose meaning depends on its build. The caller asks its ssh
// with its own environment (ssh-settings.ts sshDialect); the question is a function so that ssh is
// asked only when a file or an -o has the keyword at all.
export interface KeywordDialect {
  setupTimeoutIsInterval(): boolean;
}

// A lowercase keyword, with Debian's aliases resolved for the ssh `dialect` describes.
export function canonicalKeyword(keyword: string, dialect: KeywordDialect): string {
  if (keyword === 'setuptimeout') return dialect.setupTimeoutIsInterval() ? 'serveraliveinterval' : 'connecttimeout';
  return KEYWORD_ALIASES[keyword] ?? keyword;
}

interface PackageLine {
  type: number;
  param?: string;
  value?: string | Array<{ val: string }>;
  before: string;
  after: string;
  config?: PackageLine[];
}

type SshConfigPackage = { parse(text: string): PackageLine[]; LineType: { DIRECTIVE: number } };
let sshConfigPackage: SshConfigPackage | undefined;

function loadPackage(): SshConfigPackage {
  sshConfigPackage ??= createRequire(import.meta.url)('ssh-config') as SshConfigPackage;
  return sshConfigPackage;
}

// The directive lines of a config text, with their 1-based line numbers. The package keeps every
// newline in the `before`/`after` of its nodes, so counting them in document order gives the line.
export function parseConfigText(text: string, file: string): ConfigLine[] {
  const pkg = loadPackage();
  let tree: PackageLine[];
  try {
    tree = pkg.parse(text);
  } catch (error) {
    throw new ConfigParseError(file, `${file}: cannot parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  const lines: ConfigLine[] = [];
  let newlines = 0;
  const count = (s: string): number => {
    let n = 0;
    for (const ch of s) if (ch === '\n') n++;
    return n;
  };
  const visit = (node: PackageLine): void => {
    newlines += count(node.before);
    if (node.type === pkg.LineType.DIRECTIVE && node.param) {
      const args = node.value === undefined ? [] : Array.isArray(node.value) ? node.value.map((v) => v.val) : [node.value];
      lines.push({ file, line: newlines + 1, keyword: node.param.toLowerCase(), args });
    }
    newlines += count(node.after);
    for (const child of node.config ?? []) visit(child);
  };
  for (const node of tree) visit(node);
  return lines;
}

// The lines of a file, or null when it cannot be read (ssh skips a missing Include silently).
// Not cached: `tborg ssh-config --write` reads a file, changes it and reads it again.
export function readConfigLines(file: string): ConfigLine[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return parseConfigText(text, file);
}

// A time value as ssh reads it (misc.c convtime): groups of digits, each with an optional unit
// s, m, h, d or w (either case; none = seconds), added up: `1m30s` = 90. null when ssh would refuse it.
export function parseTimeValue(text: string): number | null {
  if (!/^(\d+[smhdwSMHDW]?)+$/.test(text)) return null;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const [, digits, u] of text.matchAll(/(\d+)([smhdwSMHDW]?)/g)) {
    total += Number(digits) * (u ? unit[u.toLowerCase()]! : 1);
  }
  return Number.isSafeInteger(total) && total <= 2147483647 ? total : null;
}
