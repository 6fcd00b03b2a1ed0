import { userInfo } from 'node:os';

// The home directory of this process's user in the password database, or null when the user has no
// entry. ssh takes its ~ from there (ssh.c: pw->pw_dir; $HOME plays no part, docs/facts.md), and so
// does every file tborg reads as ssh would.
export function passwdHome(): string | null {
  try {
    return userInfo().homedir;
  } catch {
    return null;
  }
}

// This process's user name in the password database, or '' when the user has no entry (a container
// run under a bare uid).
export function passwdName(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
