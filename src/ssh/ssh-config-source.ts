import { join, resolve } from 'node:path';
import { parseSshArgv } from './rsh.js';
import { canonicalKeyword, ConfigParseError, type KeywordDialect } from './ssh-config-tokens.js';
import { sshHome, walkConfig, type ConfigPlace, type SourceOptions } from './ssh-config-walk.js';

// `ssh -G` says WHAT ssh will use; this module says WHERE it comes from (for warnings) and where a
// new setting must go (for `tborg ssh-config --write`): which files ssh reads, the first Host block
// for a host, the line a setting comes from. It never decides a value on its own: callers compare
// with `ssh -G`. The files are read by ssh-config-tokens.ts and walked by ssh-config-walk.ts.

// What this module's callers use of the modules it is built on, from the one place they know.
export {
  canonicalKeyword,
  ConfigParseError,
  parseConfigText,
  parseTimeValue,
  type ConfigLine,
  type KeywordDialect,
} from './ssh-config-tokens.js';
export { walkConfig, walkConfigLines, type Activity, type ConfigPlace } from './ssh-config-walk.js';
export { collectHostNames } from './ssh-config-host-names.js';

// Where a setting's value comes from: the setting's own line (file, line), the block it is in
// (kind, pattern, blockLine) and its value as written. `certain` is false when that block is a Match
// whose condition tborg does not evaluate (exec, final, canonical, localnetwork, ...) or a Host
// block reached through such a Match: the value applies only if that condition holds.
export interface SettingSource extends ConfigPlace {
  value: string;
  blockLine: number | null;
  certain: boolean;
}

// The user's config file ssh reads for these rsh words: the last -F (ssh.c `config = optarg`), else
// ~/.ssh/config in the home directory from the password database (ssh.c process_config_files uses
// pw->pw_dir; $HOME plays no part, docs/facts.md). null for `-F none` (any case: strcasecmp).
// A relative -F is relative to the current directory, as for ssh's fopen.
export function userConfigFile(words: readonly string[]): string | null {
  const { configFile } = parseSshArgv(words.slice(1));
  if (configFile !== undefined) return configFile.toLowerCase() === 'none' ? null : resolve(configFile);
  return join(sshHome(), '.ssh', 'config');
}

// The system-wide file ssh reads after the user's own (only when there is no -F).
export const SYSTEM_CONFIG_FILE = '/etc/ssh/ssh_config';

// The first Host block whose patterns select `alias`, in ssh's reading order (Include followed; an
// Include inside a block only when that block applies). null when there is none, or when the file
// cannot be read or parsed (this is for messages: best effort, never an error).
export function findHostBlock(configFile: string, alias: string, options: SourceOptions = {}): ConfigPlace | null {
  let found: ConfigPlace | null = null;
  try {
    walkConfig(configFile, alias, options, {
      onBlock(place, active) {
        if (place.kind === 'Host' && active === true) {
          found = place;
          return true;
        }
        return false;
      },
    });
  } catch (error) {
    if (error instanceof ConfigParseError) return null;
    throw error;
  }
  return found;
}

// Where the value ssh uses for `keyword` comes from in this file (and what it includes): the first
// line setting it in a block that applies to `alias`, or may apply (then certain: false). ssh keeps
// the first value it obtains (readconf.c: `if (*activep && *intptr == -1)`). A `-o` on the command line
// beats every file; callers compare with `ssh -G` to see that. null: not set in this file.
export function findSettingSource(
  configFile: string,
  alias: string,
  keyword: 'ServerAliveInterval' | 'ServerAliveCountMax',
  options: SourceOptions & { dialect: KeywordDialect },
): SettingSource | null {
  const wanted = keyword.toLowerCase();
  let found: SettingSource | null = null;
  try {
    walkConfig(configFile, alias, options, {
      onLine(line, active, block) {
        if (canonicalKeyword(line.keyword, options.dialect) !== wanted || active === false) return false;
        found = {
          file: line.file,
          line: line.line,
          kind: block?.kind ?? 'Global',
          pattern: block?.pattern ?? '',
          blockLine: block?.line ?? null,
          value: line.args[0] ?? '',
          certain: active === true,
        };
        return true;
      },
    });
  } catch (error) {
    if (error instanceof ConfigParseError) return null;
    throw error;
  }
  return found;
}

// `file:line (Host pattern)` for messages.
export function describePlace(place: ConfigPlace): string {
  const where = `${place.file}:${place.line}`;
  if (place.kind === 'Global') return `${where} (before any Host block: every host)`;
  return `${where} (${place.kind} ${place.pattern})`;
}
