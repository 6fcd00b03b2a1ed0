import { hostname, userInfo } from 'node:os';
import type { PlaceholderResolver } from './placeholder-expansion.js';

// borg expands {placeholders} in the repository text before parsing it (helpers/parseformat.py
// replace_placeholders), so `backup:/srv/{hostname}` names a host-specific path. tborg only needs the
// repository's host, user, port and path, so approximate values are enough where borg's would differ
// in ways that cannot change those (the time in {now}, a fresh {uuid4}).
export function createPlaceholderResolver(borgVersion: string | null): PlaceholderResolver {
  const [major = '', minor = '', patch = ''] = (borgVersion ?? '').split('.');
  return (name) => {
    switch (name) {
      case 'hostname':
        // borg: platform.node().split('.')[0] for {hostname}, socket.getfqdn() for {fqdn}.
        return hostname().split('.')[0];
      case 'fqdn':
        return hostname();
      case 'reverse-fqdn':
        return hostname().split('.').reverse().join('.');
      case 'user':
        return userInfo().username;
      case 'pid':
        return String(process.pid);
      case 'now':
      case 'utcnow':
        return new Date().toISOString().slice(0, 19);
      case 'uuid4':
        // Loaded only here: node:crypto costs ~4 ms to load, on every run that plans a repository.
        return process.getBuiltinModule('node:crypto').randomUUID();
      case 'borgversion':
        return borgVersion ?? undefined;
      case 'borgmajor':
        return major || undefined;
      case 'borgminor':
        return minor ? `${major}.${minor}` : undefined;
      case 'borgpatch':
        return patch ? `${major}.${minor}.${patch}` : undefined;
      default:
        return undefined;
    }
  };
}
