import { borg2Generation, type Location } from '../borg/location.js';
import type { AlivePair } from './alive-pair.js';
import { splitLikePython } from './rsh.js';

// How borg 2.0.0b22+ reaches a repository over ssh: not `borg serve` on $BORG_RSH as borg 1.x and
// the earlier betas do, but borgstore's REST client over the stdio of `ssh ... borg serve --rest`
// (docs/facts.md "borg 2"). The ssh argv is borgstore's, and it follows other rules than borg's:
//   borg repository.py      rest_serve_command: ssh_cmd(user, host, port) + [BORG_REMOTE_PATH or
//                           "borg", "serve", "--rest", "--backend", "FILE:" + path]
//   borg repository.py      propagate_rsh: BORGSTORE_RSH = BORG_RSH when only BORG_RSH is set
//   borgstore rest.py       ssh_cmd: BORGSTORE_RSH verbatim (shlex.split), else ["ssh", "-o",
//                           "ServerAliveInterval=30", "-o", "ServerAliveCountMax=3"] + ["-p", port];
//                           then [user@host] -- no "-p" at all when BORGSTORE_RSH is set.

// borgstore rest.py SSH_ALIVE_INTERVAL / SSH_ALIVE_COUNT_MAX: the keepalive of its default command.
export const BORGSTORE_ALIVE: Readonly<AlivePair> = Object.freeze({ interval: 30, countMax: 3 });

// Where the ssh words of a rest-over-ssh connection come from.
export type StoreRshSource = 'BORGSTORE_RSH' | 'BORG_RSH' | 'borgstore default';

export interface StoreRsh {
  // Without the destination; the default's words carry `-p PORT` already, a user's never do.
  words: string[];
  source: StoreRshSource;
}

// True when this borg runs `ssh ... borg serve --rest` for the location. borg2's changelog and source:
//   2.0.0b22..b24  rest://[user@]host[:port]/path (parseformat.py rest_re); ssh:// only for legacy borg
//                  1.x repositories (get_repository: "ssh:// is no longer supported for current
//                  repositories; use rest:// instead")
//   2.0.0b25       "cli: use ssh:// URLs (not rest://), #9765": ssh:// is REST over ssh, rest:// is gone
// A host-less location runs borg locally, without ssh.
export function servesRestOverSsh(location: Location, major: 1 | 2, version: string | null): boolean {
  if (major !== 2 || location.host === null) return false;
  const generation = borg2Generation(version ?? undefined);
  if (location.proto === 'rest') return generation >= 22 && generation < 25;
  return location.proto === 'ssh' && generation >= 25;
}

// The remote shell borgstore will use, with Python's truthiness: an empty BORGSTORE_RSH counts as unset
// (`if rsh:`), and propagate_rsh copies only a non-empty BORG_RSH (`if borg_rsh and not ...`).
export function readStoreRsh(env: NodeJS.ProcessEnv, port: number | null): StoreRsh {
  const own = env.BORGSTORE_RSH;
  if (own) return { words: splitLikePython(own), source: 'BORGSTORE_RSH' };
  const borgs = env.BORG_RSH;
  if (borgs) return { words: splitLikePython(borgs), source: 'BORG_RSH' };
  return { words: defaultStoreRshWords(port), source: 'borgstore default' };
}

// borgstore's own command: its keepalive, and the URL's port (`if port:`: none for port 0 or absent).
export function defaultStoreRshWords(port: number | null): string[] {
  const words = ['ssh', '-o', `ServerAliveInterval=${BORGSTORE_ALIVE.interval}`, '-o', `ServerAliveCountMax=${BORGSTORE_ALIVE.countMax}`];
  if (port) words.push('-p', String(port));
  return words;
}

// The words up to the destination, as ssh_cmd builds them (`[f"{user}@{host}"] if user else [host]`).
export function storeSshTarget(words: readonly string[], location: Pick<Location, 'user' | 'host'>): string[] {
  return [...words, location.user ? `${location.user}@${location.host}` : (location.host ?? '')];
}

// What borg asks the server to run after the destination (rest_serve_command). BORG_REMOTE_PATH is
// run through borg's placeholders first; tborg shows it as written.
export function restServeCommand(env: NodeJS.ProcessEnv, location: Pick<Location, 'path'>): string[] {
  return [env.BORG_REMOTE_PATH || 'borg', 'serve', '--rest', '--backend', `FILE:${location.path}`];
}
