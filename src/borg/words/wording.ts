// One way borg or ssh words a fact on stderr: the words such a line always holds, written once, and
// the shape of the line around them. The shape is built from the words, so every line that matches
// holds them, and so holds the needle the stream scan looks for (stderr-scanner.ts NEEDLES), a piece of them.

export interface Wording {
  // The words as the program writes them.
  readonly words: string;
  // The line's shape: what may come before the words, the words, what may come after them.
  readonly line: RegExp;
}

// A wording the stream scan must see as it streams past (stderr-scanner.ts): it names its needle.
export interface ScannedWording extends Wording {
  // A piece of `words` of 2 to 7 bytes whose first byte is rare in borg's usual output (stderr-scanner.ts NEEDLES).
  readonly needle: string;
}

interface Shape {
  // Regular expression source before and after the words ('^', '.* port \\S+: ', ...).
  before?: string;
  after?: string;
}

export function wording(words: string, shape: Shape = {}): Wording {
  return { words, line: new RegExp(`${shape.before ?? ''}${escapeRegExp(words)}${shape.after ?? ''}`) };
}

export function scannedWording(words: string, needle: string, shape: Shape = {}): ScannedWording {
  return { ...wording(words, shape), needle };
}

// Whether some wording's shape matches the line.
export function matchesSome(line: string, wordings: readonly Wording[]): boolean {
  return wordings.some((w) => w.line.test(line));
}

// Literal text as regular expression source.
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
