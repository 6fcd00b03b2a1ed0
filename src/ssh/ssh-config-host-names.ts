import { readConfigLines, type ConfigLine } from './ssh-config-tokens.js';
import { expandInclude, MAX_INCLUDE_DEPTH, sshHome, type SourceOptions } from './ssh-config-walk.js';

// The host names an ssh config mentions, for `tborg ssh-config` to check that an edit changes
// nobody else's settings.

// Every host name a file (and its Includes) mentions literally: Host patterns, Match host and
// originalhost lists; a wildcard pattern gives one concrete name it matches. For checking that an
// edit changes nobody else's settings.
export function collectHostNames(file: string, options: SourceOptions = {}): string[] {
  const names = new Set<string>();
  const add = (pattern: string): void => {
    const p = pattern.startsWith('!') ? pattern.slice(1) : pattern;
    if (p === '' || /[\s'"`$\\;&|<>]/.test(p)) return;
    names.add(p.replace(/\*/g, 'x').replace(/\?/g, 'y'));
    if (/[*?]/.test(p)) names.add(p.replace(/\*/g, '').replace(/\?/g, 'q'));
  };
  const seen = new Set<string>();
  const collect = (path: string, depth: number): void => {
    if (seen.has(path) || depth > MAX_INCLUDE_DEPTH) return;
    seen.add(path);
    let lines: ConfigLine[] | null;
    try {
      lines = readConfigLines(path);
    } catch {
      return;
    }
    if (lines === null) return;
    const state = { home: options.home ?? sshHome(), userConf: !options.system };
    for (const line of lines) {
      if (line.keyword === 'host') line.args.forEach(add);
      else if (line.keyword === 'match') {
        for (let i = 0; i + 1 < line.args.length; i++) {
          const a = line.args[i]!.replace(/^!/, '').toLowerCase();
          if (a === 'host' || a === 'originalhost') line.args[i + 1]!.split(',').forEach(add);
        }
      } else if (line.keyword === 'include') {
        for (const arg of line.args) for (const f of expandInclude(arg, state)) collect(f, depth + 1);
      }
    }
  };
  collect(file, 0);
  return [...names].filter((n) => n.length > 0 && !n.startsWith('-'));
}
