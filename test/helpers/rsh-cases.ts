// BORG_RSH words for the split/quote tables: the fixed cases and random word lists (pure; the unit table
// and the python3 check in test/host share them).
// Nasty words for the round trip: quotes of both kinds, backslashes, $, newlines, tabs, globs,
// non-ASCII, empty strings, leading dashes.
const ALPHABET = [
  "'",
  '"',
  '\\',
  '$',
  ' ',
  '\t',
  '\n',
  '*',
  '?',
  '#',
  '!',
  '`',
  ';',
  '&',
  '|',
  '(',
  ')',
  '{',
  '}',
  '=',
  ':',
  '@',
  '%',
  ',',
  '.',
  '/',
  '-',
  '_',
  '~',
  'a',
  'Z',
  '0',
  'é',
  '€',
  '😀',
  "''",
  "$'",
];

export function randomWords(seed: number): string[] {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const count = 1 + rnd(5);
  return Array.from({ length: count }, () => Array.from({ length: rnd(8) }, () => ALPHABET[rnd(ALPHABET.length)]!).join(''));
}

// BORG_RSH values and the words Python's shlex.split makes of them (null: shlex raises).
export const SPLIT_CASES: Array<[string, string[]]> = [
  ['ssh', ['ssh']],
  ['  ssh   -i  /k  ', ['ssh', '-i', '/k']],
  ['ssh -o "ServerAliveInterval 7"', ['ssh', '-o', 'ServerAliveInterval 7']],
  ["ssh -i '/home/a b/key'", ['ssh', '-i', '/home/a b/key']],
  ['ssh -i /home/a\\ b/key', ['ssh', '-i', '/home/a b/key']],
  ['a"b"c', ['abc']],
  ["''", ['']],
  ['a "" b', ['a', '', 'b']],
  ['"a\\"b"', ['a"b']],
  ['"a\\b"', ['a\\b']],
  ['"a\\\\b"', ['a\\b']],
  ["'a\\b'", ['a\\b']],
  ["it's\\ ok", null as unknown as string[]], // no closing quotation
  ['x\\', null as unknown as string[]], // no escaped character
  ["$'a b'", ['$a b']], // no ANSI-C quotes in Python's shlex
  ['$"a b"', ['$a b']],
  ['a\\\nb', ['a\nb']], // backslash-newline is a newline, not a continuation
  ['"a\\\nb"', ['a\\\nb']],
  ['a#b #c', ['a#b', '#c']], // no comments in shlex.split
  ['sh -c \'exec socat - "TCP:h:22"\'', ['sh', '-c', 'exec socat - "TCP:h:22"']],
  ['ünï\tcödé\r\nx', ['ünï', 'cödé', 'x']],
  ['', []],
];
