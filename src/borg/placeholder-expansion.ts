// Placeholders: borg runs the location text through str.format_map before parsing
// (parseformat.py format_line). "{{" and "}}" are literal braces; a lone brace, "{}", or a
// "!conversion" makes borg refuse the location.

// Returns the value of a placeholder (name, format spec after ':' or ''), or undefined when borg
// would reject it (unknown name).
export type PlaceholderResolver = (name: string, spec: string) => string | undefined;

// The marker of a text borg refuses (a placeholder syntax error or an unknown name).
export const NO_PLACEHOLDER = Symbol('invalid');

// The text with its placeholders expanded; left as written where no resolver is given.
export function expandPlaceholders(text: string, resolve: PlaceholderResolver | undefined): string | typeof NO_PLACEHOLDER {
  if (!text.includes('{') && !text.includes('}')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '}') {
      if (text[i + 1] !== '}') return NO_PLACEHOLDER;
      out += '}';
      i++;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    if (text[i + 1] === '{') {
      out += '{';
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 1);
    if (close === -1) return NO_PLACEHOLDER;
    const field = text.slice(i + 1, close);
    // Nested fields in a format spec ("{now:{x}}") are legal Python but nothing borg documents.
    if (field.includes('{')) return NO_PLACEHOLDER;
    const colon = field.indexOf(':');
    const head = colon === -1 ? field : field.slice(0, colon);
    const spec = colon === -1 ? '' : field.slice(colon + 1);
    if (head === '' || head.includes('!')) return NO_PLACEHOLDER;
    if (resolve === undefined) {
      out += text.slice(i, close + 1);
    } else {
      const value = resolve(head, spec);
      if (value === undefined) return NO_PLACEHOLDER;
      out += value;
    }
    i = close;
  }
  return out;
}
