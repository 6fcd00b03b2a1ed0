import { readFileSync } from 'node:fs';

// borg's argv and environment as bytes. Node decodes argv and environ as UTF-8 and puts U+FFFD where a
// byte sequence is not UTF-8, and its spawn can pass strings only: `tborg extract R::a $'bad\xffname'`
// would reach borg as `bad\xef\xbf\xbdname` and match nothing. The original bytes are still in
// /proc/self/cmdline and /proc/self/environ (the kernel's copy of what execve(2) got). A string without
// U+FFFD came from valid UTF-8, so its UTF-8 encoding *is* the original; only strings with U+FFFD are
// looked up among the originals.

const REPLACEMENT = '\uFFFD';

// Runs of U+FFFD count as one: V8 (argv, environ) and Buffer#toString need not replace an invalid
// sequence with the same number of U+FFFD.
function shape(text: string): string {
  return text.replace(/\uFFFD+/g, REPLACEMENT);
}

function splitNul(data: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0); i !== -1; i = data.indexOf(0, start)) {
    items.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) items.push(data.subarray(start));
  return items;
}

// The user's arguments twice: decoded by node, and as the kernel has them.
export interface RawArgs {
  // What node made of them (process.argv.slice(2)) and the bytes they came from, index for index.
  decoded: readonly string[];
  raw: readonly Buffer[];
}

// The user's arguments as bytes: the last process.argv.length - 2 words of /proc/self/cmdline (node's
// own options come before the script). Undefined when they do not decode to process.argv (a changed
// process.title, or no /proc): then the strings are all there is.
export function readRawArgs(argv: readonly string[] = process.argv): RawArgs | undefined {
  const decoded = argv.slice(2);
  try {
    const words = splitNul(readFileSync('/proc/self/cmdline'));
    if (words.length < decoded.length + 2) return undefined;
    const raw = words.slice(words.length - decoded.length);
    if (raw.some((word, i) => shape(word.toString('utf8')) !== shape(decoded[i]!))) return undefined;
    return { decoded, raw };
  } catch {
    return undefined;
  }
}

// Pure: borg's argv as bytes. tborg's argv for borg is the user's arguments minus --tborg-* options,
// with tborg's own words inserted (--lock-wait N, an --rsh value with keepalive options): the user's
// words appear in order, so each string with U+FFFD takes the next user word that decodes to it.
export function encodeArgv(argv: readonly string[], user: RawArgs | undefined): Buffer[] {
  let next = 0;
  return argv.map((word) => {
    if (!word.includes(REPLACEMENT) || !user) return Buffer.from(word, 'utf8');
    const wanted = shape(word);
    for (let i = next; i < user.decoded.length; i++) {
      if (shape(user.decoded[i]!) === wanted) {
        next = i + 1;
        return user.raw[i]!;
      }
    }
    return Buffer.from(word, 'utf8');
  });
}

// The environment tborg was started with, NAME=VALUE byte strings (undefined without /proc).
export function readRawEnviron(): Buffer[] | undefined {
  try {
    return splitNul(readFileSync('/proc/self/environ')).filter((entry) => entry.length > 0);
  } catch {
    return undefined;
  }
}

// Pure: borg's environment as NAME=VALUE bytes. A variable tborg did not change keeps its original
// bytes; one tborg set (BORG_RSH with keepalive options) is tborg's string in UTF-8.
export function encodeEnv(env: NodeJS.ProcessEnv, original: readonly Buffer[] | undefined): Buffer[] {
  let byShape: Map<string, Buffer> | undefined;
  const entries: Buffer[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const text = `${name}=${value}`;
    if (text.includes(REPLACEMENT) && original) {
      byShape ??= new Map(original.map((entry) => [shape(entry.toString('utf8')), entry]));
      const raw = byShape.get(shape(text));
      if (raw) {
        entries.push(raw);
        continue;
      }
    }
    entries.push(Buffer.from(text, 'utf8'));
  }
  return entries;
}
