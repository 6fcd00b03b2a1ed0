import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The two pattern languages of an ssh config: match.c's for Host and Match (`*`, `?`, `!`, comma
// lists) and glob(3)'s for the files an Include names.

// match.c match_pattern: `*` any run, `?` exactly one character, everything else literal.
export function matchPattern(s: string, pattern: string): boolean {
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 'su').test(s);
}

// match.c match_pattern_list: comma-separated, `!` negates (a negated hit vetoes), `dolower`
// lowercases the pattern (match_hostname lowercases the string as well).
export function matchPatternList(s: string, list: string, dolower: boolean): boolean {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let pattern = negated ? raw.slice(1) : raw;
    if (dolower) pattern = pattern.toLowerCase();
    if (matchPattern(s, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

// glob(3) for absolute paths with *, ? and [...] (no brace or ** expansion, as glob(3) without flags);
// a wildcard never matches a leading dot. Results sorted bytewise, as glob(3) in the C locale.
export function expandGlob(path: string): string[] {
  const parts = path.split('/').filter((p, i) => p !== '' || i === 0);
  let current = ['/'];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    const wild = /[*?[]/.test(part);
    for (const dir of current) {
      if (!wild) {
        next.push(join(dir, part));
        continue;
      }
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      const re = globSegment(part);
      for (const e of entries.sort()) {
        if (e.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(e)) next.push(join(dir, e));
      }
    }
    current = next;
  }
  return current.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

function globSegment(segment: string): RegExp {
  let source = '^';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 's');
}
