// Random word lists for the BORG_RSH split/quote round trips (pure; test/unit and test/host share them).
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
