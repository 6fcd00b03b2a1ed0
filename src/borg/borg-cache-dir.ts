// borg's cache directory, as borg 1.2 computes it (helpers/fs.py get_cache_dir): BORG_CACHE_DIR, else
// BORG_BASE_DIR/.cache/borg, else XDG_CACHE_HOME/borg, else ~/.cache/borg. A lock under it is the
// local cache lock: another borg on *this* machine, not the server.
export function borgCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  if (env.BORG_CACHE_DIR) return env.BORG_CACHE_DIR;
  if (env.BORG_BASE_DIR) return `${env.BORG_BASE_DIR}/.cache/borg`;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/borg`;
  return `${home}/.cache/borg`;
}

// Whether the lock borg named (a LockTimeout's path) is its local cache's.
export function isCacheLock(lockPath: string | undefined, env: NodeJS.ProcessEnv, home: string): boolean {
  if (!lockPath) return false;
  const dir = borgCacheDir(env, home).replace(/\/+$/, '');
  return lockPath === dir || lockPath.startsWith(`${dir}/`);
}
