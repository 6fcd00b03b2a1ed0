// Paths as Python's posixpath makes them: borg normalizes a location's path with os.path.normpath
// or os.path.abspath (parseformat.py Location._parse), and tborg must name the same directory.

// os.path.normpath: collapse "//", drop ".", resolve ".." lexically; exactly two leading slashes
// are kept (POSIX leaves their meaning to the implementation), three or more become one.
export function pythonNormpath(path: string): string {
  if (path === '') return '.';
  let initialSlashes = path.startsWith('/') ? 1 : 0;
  if (initialSlashes && path.startsWith('//') && !path.startsWith('///')) initialSlashes = 2;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initialSlashes && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const joined = '/'.repeat(initialSlashes) + out.join('/');
  return joined === '' ? '.' : joined;
}

// Location._parse normpath_special (borg 1.x, 2.0.0b1..b12): "/./x" means "x relative to the
// current directory" and must survive normalization.
export function normpathSpecial(path: string): string {
  const relative = path.startsWith('/./');
  const normalized = pythonNormpath(path);
  return relative ? `/.${normalized}` : normalized;
}

function pythonAbspath(path: string, cwd: string | undefined): string {
  if (path.startsWith('/')) return pythonNormpath(path);
  if (cwd === undefined) return pythonNormpath(path);
  return pythonNormpath(`${cwd.replace(/\/+$/, '')}/${path}`);
}

// How a grammar rule shapes the path it matched (borg's Location._parse, by version).
export type PathStyle = 'special' | 'normpath' | 'abspath' | 'raw';

// The path of a matched location, shaped as the rule says.
export function shapePath(path: string, style: PathStyle, cwd: string | undefined): string {
  switch (style) {
    case 'special':
      return normpathSpecial(path);
    case 'normpath':
      return pythonNormpath(path);
    case 'abspath':
      return pythonAbspath(path, cwd);
    case 'raw':
      return path;
  }
}
