import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { AlivePair } from './alive-pair.js';

// How borg runs ssh (docs/facts.md "How borg runs ssh", borg 1.2 remote.py RemoteRepository.ssh_cmd):
//   rsh = args.rsh or os.environ.get('BORG_RSH', 'ssh'); argv = shlex.split(rsh)
//   + ['-p', str(port)] if location.port + ['user@host' if location.user else 'host'] + ['borg', 'serve', ...]

export interface RshWords {
  words: string[];
  // 'BORGSTORE_RSH' and 'borgstore default': borg 2.0.0b22+'s rest-over-ssh (rest-ssh.ts readStoreRsh).
  source: '--rsh' | 'BORG_RSH' | 'default' | 'BORGSTORE_RSH' | 'borgstore default';
}

// Python's truthiness decides, as in `args.rsh or os.environ.get(...)`: an empty --rsh falls through to
// BORG_RSH, but an empty BORG_RSH is taken as it is (and splits into no words at all).
export function readRsh(rshArg: string | null, env: NodeJS.ProcessEnv): RshWords {
  if (rshArg) return { words: splitLikePython(rshArg), source: '--rsh' };
  const fromEnv = env.BORG_RSH;
  if (fromEnv !== undefined) return { words: splitLikePython(fromEnv), source: 'BORG_RSH' };
  return { words: ['ssh'], source: 'default' };
}

// An ssh client is the program itself, named `ssh` (bare or as a path such as /usr/bin/ssh), because
// only then is `ssh -G` (inserted right after it) the same program reading the same options. Deliberately
// NOT ssh: `sh -c '... ssh ...'` or `sh -c 'exec socat ...'` (docs/facts.md: then nothing ssh-specific
// applies), `env X=1 ssh ...` and wrappers such as `autossh` or `sshpass -p x ssh`, whose own options
// come first and which may not accept -G; for those tborg injects nothing and warns once.
export function isSsh(words: readonly string[]): boolean {
  const first = words[0];
  return first !== undefined && basename(first) === 'ssh';
}

export interface SshLocation {
  user: string | null;
  host: string;
  port: number | null;
}

// The argv borg runs, minus the remote command. Python truthiness again (`if location.port:`,
// `if location.user:`): port 0 and an empty user add nothing.
export function sshTarget(words: readonly string[], loc: SshLocation): string[] {
  const argv = [...words];
  if (loc.port) argv.push('-p', String(loc.port));
  argv.push(loc.user ? `${loc.user}@${loc.host}` : loc.host);
  return argv;
}

// Adds `-o ServerAliveInterval=I` and `-o ServerAliveCountMax=C` for the parts of the pair given.
// The user's words come first: ssh keeps the first value it obtains for an option (readconf.c
// process_config_line: `if (*activep && *intptr == -1)`), and `-o` is processed in argv order, so a
// `-o ServerAliveInterval=7` the user put in BORG_RSH still wins over ours. Our -o still beats every
// config file, so callers add only what they mean to set.
export function withKeepalive(words: readonly string[], add: Partial<AlivePair>): string[] {
  const out = [...words];
  const pairs: Array<[string, number | undefined]> = [
    ['ServerAliveInterval', add.interval],
    ['ServerAliveCountMax', add.countMax],
  ];
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`${name} must be a whole number >= 0, got ${value}`);
    }
    out.push('-o', `${name}=${value}`);
  }
  return out;
}

// Quotes words exactly as Python's shlex.join/shlex.quote do (Lib/shlex.py: a word of only
// [A-Za-z0-9_@%+=:,./-] stays bare, '' for the empty word, anything else goes in single quotes with
// each ' written as '"'"'), so that borg's shlex.split(BORG_RSH) gives back exactly `words`. Written
// here rather than imported: it is on every run's path, and loading the npm shlex module cost more
// than the rest of the planner. Round trip is property-tested against splitLikePython, against npm
// shlex's quote and, where python3 exists, against Python itself.
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

function quoteRshWord(word: string): string {
  if (word === '') return "''";
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

export function joinRsh(words: readonly string[]): string {
  return words.map(quoteRshWord).join(' ');
}

// Python's shlex.split(s) (posix=True, whitespace_split=True, no comments), following the state
// machine of CPython's Lib/shlex.py read_token. Not npm shlex's split: that one also understands
// bash's $'...' and $"..." quotes and drops a backslash-newline, which Python's shlex does not
// (`$'a b'` is ['$a b'] for borg, ['a b'] for npm shlex); test/unit/rsh.test.ts shows the difference.
export function splitLikePython(s: string): string[] {
  const WHITESPACE = ' \t\r\n';
  const words: string[] = [];
  let i = 0;
  for (;;) {
    // One read_token call.
    let token = '';
    let quoted = false;
    let state: ' ' | 'a' | "'" | '"' | '\\' | null = ' ';
    let escapedState: string = 'a';
    let done = false;
    while (!done) {
      const ch = i < s.length ? s[i++]! : '';
      switch (state) {
        case ' ':
          if (ch === '') {
            state = null;
            done = true;
          } else if (WHITESPACE.includes(ch)) {
            if (token || quoted) done = true;
          } else if (ch === '\\') {
            escapedState = 'a';
            state = '\\';
          } else if (ch === "'" || ch === '"') {
            state = ch;
          } else {
            token = ch;
            state = 'a';
          }
          break;
        case "'":
        case '"':
          quoted = true;
          if (ch === '') throw new UsageError(`cannot split '${s}' as borg would: No closing quotation`);
          if (ch === state) {
            state = 'a';
          } else if (ch === '\\' && state === '"') {
            escapedState = state;
            state = '\\';
          } else {
            token += ch;
          }
          break;
        case '\\':
          if (ch === '') throw new UsageError(`cannot split '${s}' as borg would: No escaped character`);
          // Inside double quotes only \" and \\ are escapes; any other backslash stays.
          if ((escapedState === '"' || escapedState === "'") && ch !== '\\' && ch !== escapedState) token += '\\';
          token += ch;
          state = escapedState as 'a' | '"';
          break;
        case 'a':
          if (ch === '') {
            state = null;
            done = true;
          } else if (WHITESPACE.includes(ch)) {
            state = ' ';
            if (token || quoted) done = true;
          } else if (ch === "'" || ch === '"') {
            state = ch;
          } else if (ch === '\\') {
            escapedState = 'a';
            state = '\\';
          } else {
            token += ch;
          }
          break;
        case null:
          done = true;
          break;
      }
    }
    // posix mode: an empty, never-quoted token is the end of input.
    if (!quoted && token === '') return words;
    words.push(token);
  }
}

// ssh's options that take a value: the union of OpenSSH 9.2's getopt string
// "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:PQ:R:S:TVw:W:XYy" and later ones (-P TAG).
const SSH_OPTIONS_WITH_VALUE = new Set('bceilmopwBDEFIJLOPQRSW'.split(''));

export interface SshArgv {
  // The destination ([user@]host or ssh://...), the first word that is not an option.
  destination: string | undefined;
  // The last -F value (ssh.c: `case 'F': config = optarg;`, so the last one wins).
  configFile: string | undefined;
  // Every -o value, in order.
  options: string[];
  // -l and -p as given (the last one wins, as in ssh.c).
  loginName: string | undefined;
  port: string | undefined;
}

// Reads ssh's own argv (without argv[0]) the way ssh.c does: BSD getopt up to the destination, then,
// as ssh.c's `goto again`, options once more up to the remote command. Unknown letters are skipped.
export function parseSshArgv(args: readonly string[]): SshArgv {
  const out: SshArgv = { destination: undefined, configFile: undefined, options: [], loginName: undefined, port: undefined };
  let i = 0;
  const take = (letter: string, value: string): void => {
    if (letter === 'F') out.configFile = value;
    else if (letter === 'o') out.options.push(value);
    else if (letter === 'l') out.loginName = value;
    else if (letter === 'p') out.port = value;
  };
  let terminated = false;
  const readOptions = (): void => {
    while (i < args.length) {
      const word = args[i]!;
      if (word === '--') {
        i++;
        terminated = true;
        return;
      }
      if (!word.startsWith('-') || word === '-') return;
      i++;
      for (let k = 1; k < word.length; k++) {
        const letter = word[k]!;
        if (!SSH_OPTIONS_WITH_VALUE.has(letter)) continue;
        const rest = word.slice(k + 1);
        if (rest !== '') take(letter, rest);
        else if (i < args.length) take(letter, args[i++]!);
        break;
      }
    }
  };
  readOptions();
  if (i < args.length) {
    out.destination = args[i++]!;
    if (!terminated) readOptions();
  }
  return out;
}
