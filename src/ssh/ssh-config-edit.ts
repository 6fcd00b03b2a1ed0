import type { AlivePair } from './alive-pair.js';
import { UsageError } from '../core/errors.js';
import {
  canonicalKeyword,
  parseConfigText,
  walkConfigLines,
  type Activity,
  type ConfigLine,
  type ConfigPlace,
  type KeywordDialect,
} from './ssh-config-source.js';

// The edit behind `tborg ssh-config HOST --write`: (file text, host, I, C) -> new text, pure.
//
// ssh keeps the first value it obtains for an option (readconf.c: `if (*activep && *intptr == -1)`),
// so the new lines must come before anything that could give HOST a ServerAlive* value, and must
// give it to HOST only. The text is changed by inserting whole lines; every other byte stays as it
// was (the ssh-config package's toString() would drop the space before an end-of-line comment, and
// `ServerAliveInterval 5#c` is an error to ssh: docs/facts.md).
//
// The caller checks the result with `ssh -G -F candidate` for HOST and for every other host the file
// names before it replaces anything: this module decides where, ssh confirms.

export type Placement =
  // Into HOST's own block (`Host HOST`, naming only HOST), right after its header line.
  | 'own-block'
  // A new `Host HOST` block before the first block that could supply a value.
  | 'new-block'
  // A new `Host HOST` block before a line outside any block (which applies to every host), followed
  // by `Host *` so that line and the rest of that top part still apply to every host.
  | 'new-block-then-host-star'
  // Nothing in the file gives HOST a value: a new block at the end.
  | 'append';

// An existing line that gave (or may have given) HOST a value and is now behind the new lines.
interface ShadowedLine {
  line: number;
  keyword: string;
  value: string;
  certain: boolean;
}

export interface EditPlan {
  text: string;
  placement: Placement;
  // 1-based line of the original text before which the new lines go (lines + 1 when appending).
  insertAt: number;
  inserted: string[];
  // The block the new lines go into (own-block) or before (new-block), for messages.
  near: ConfigPlace | null;
  shadowed: ShadowedLine[];
}

export interface EditOptions {
  // What the ssh in use makes of SetupTimeOut (ssh-settings.ts sshDialect).
  dialect: KeywordDialect;
  file?: string;
  // For `Match user` in the file: the remote user, when known.
  user?: string | null;
  home?: string;
}

const COMMENT = 'keepalive for borg, added by tborg ssh-config';

// A host alias tborg can write into a Host line: no pattern characters, no whitespace or quotes.
export function checkHostAlias(host: string): void {
  if (!/^[A-Za-z0-9_.:%-]+$/.test(host) || host.startsWith('-')) {
    throw new UsageError(`'${host}' is not a plain host name (letters, digits, . _ - : %; no user@, wildcards or spaces)`);
  }
}

interface Supplier {
  line: ConfigLine;
  active: Activity;
  block: ConfigPlace | null;
}

// The edit `tborg ssh-config HOST --write` makes: the new text with the keepalive lines where ssh
// reads them first for HOST, and what they shadow. Pure; the checked write is ssh-config's.
export function planSshConfigEdit(text: string, host: string, values: AlivePair, options: EditOptions): EditPlan {
  checkHostAlias(host);
  for (const [name, v] of [
    ['ServerAliveInterval', values.interval],
    ['ServerAliveCountMax', values.countMax],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`${name} must be a whole number >= 1, got ${v}`);
  }
  const file = options.file ?? 'config';
  const lines = parseConfigText(text, file);

  // Walk the file as ssh would for HOST, without opening included files: an Include that may apply
  // could supply a value, so it counts as a supplier.
  let firstSupplier: Supplier | undefined;
  const firstOf: Record<string, Supplier> = {};
  let ownBlock: ConfigPlace | undefined;
  walkConfigLines(
    lines,
    host,
    { user: options.user ?? null, home: options.home, followIncludes: false },
    {
      onBlock(place) {
        const header = lines.find((l) => l.line === place.line);
        if (!ownBlock && place.kind === 'Host' && header?.args.length === 1 && header.args[0] === host) ownBlock = place;
        return false;
      },
      onInclude(line, active, _files, block) {
        if (active !== false) firstSupplier ??= { line, active, block };
        return false;
      },
      onLine(line, active, block) {
        if (active === false) return false;
        const keyword = canonicalKeyword(line.keyword, options.dialect);
        if (keyword === 'serveraliveinterval' || keyword === 'serveralivecountmax') {
          firstSupplier ??= { line, active, block };
          firstOf[keyword] ??= { line, active, block };
        }
        return false;
      },
    },
  );

  const shadowed: ShadowedLine[] = Object.values(firstOf).map((s) => ({
    line: s.line.line,
    keyword: canonicalKeyword(s.line.keyword, options.dialect) === 'serveraliveinterval' ? 'ServerAliveInterval' : 'ServerAliveCountMax',
    value: s.line.args[0] ?? '',
    certain: s.active === true,
  }));

  const physical = splitPhysicalLines(text);
  const eol = detectEol(text);
  const indent = detectIndent(physical);
  const settingLines = (pad: string): string[] => [
    `${pad}# ${COMMENT}`,
    `${pad}ServerAliveInterval ${values.interval}`,
    `${pad}ServerAliveCountMax ${values.countMax}`,
  ];

  let placement: Placement;
  let insertAt: number; // 1-based line before which to insert
  let inserted: string[];
  let near: ConfigPlace | null = null;

  if (ownBlock && (!firstSupplier || ownBlock.line < firstSupplier.line.line)) {
    placement = 'own-block';
    insertAt = ownBlock.line + 1;
    const firstInside = lines.find((l) => l.line > ownBlock!.line);
    const pad =
      firstInside && !['host', 'match'].includes(firstInside.keyword)
        ? leadingSpace(physical[firstInside.line - 1] ?? '') || indent
        : indent;
    inserted = settingLines(pad);
    near = ownBlock;
  } else if (firstSupplier) {
    const block = firstSupplier.block;
    const anchor = block ? block.line : firstSupplier.line.line;
    insertAt = hoistAboveComments(physical, anchor);
    near = block ?? { file, line: firstSupplier.line.line, kind: 'Global', pattern: '' };
    inserted = [`Host ${host}`, ...settingLines(indent)];
    if (block) {
      placement = 'new-block';
      inserted.push('');
    } else {
      placement = 'new-block-then-host-star';
      inserted.push('# added by tborg ssh-config: the lines below still apply to every host', 'Host *');
    }
    if (insertAt > 1 && (physical[insertAt - 2] ?? '').trim() !== '') inserted.unshift('');
  } else {
    placement = 'append';
    insertAt = physical.length + 1;
    inserted = [`Host ${host}`, ...settingLines(indent)];
    if (physical.length > 0 && (physical[physical.length - 1] ?? '').trim() !== '') inserted.unshift('');
  }

  return { text: insertLines(text, insertAt, inserted, eol), placement, insertAt, inserted, near, shadowed };
}

// Comment lines directly above a block header belong to it: a new block goes above them. Not when
// they run up to the first line of the file: that is the file's own heading.
function hoistAboveComments(physical: readonly string[], line: number): number {
  let at = line;
  while (at > 1 && (physical[at - 2] ?? '').trim().startsWith('#')) at--;
  return at === 1 ? line : at;
}

// The file's lines without their line ends (a final line end does not start another line).
function splitPhysicalLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
}

function detectEol(text: string): string {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length;
  return crlf > 0 && crlf * 2 >= lf ? '\r\n' : '\n';
}

function leadingSpace(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

// The indentation the file uses inside blocks (its first indented directive), else two spaces.
function detectIndent(physical: readonly string[]): string {
  for (const line of physical) {
    const pad = leadingSpace(line);
    if (pad !== '' && line.trim() !== '' && !line.trim().startsWith('#')) return pad;
  }
  return '  ';
}

// Inserts whole lines before 1-based line `at`, touching no other byte. Appending to a text whose
// last line has no line end first ends that line.
function insertLines(text: string, at: number, added: readonly string[], eol: string): string {
  const block = added.map((l) => l + eol).join('');
  let offset = 0;
  for (let n = 1; n < at; n++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) {
      offset = text.length;
      break;
    }
    offset = next + 1;
  }
  if (offset === text.length && text !== '' && !text.endsWith('\n')) return text + eol + block;
  return text.slice(0, offset) + block + text.slice(offset);
}
