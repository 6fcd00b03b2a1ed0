import { RUN_TOKEN_PATTERN, RUN_TOKEN_VARIABLE } from './serve-guard-protocol.js';

// The client half of README "The server half": one run token per tborg run, carried to the server's
// guard in borg's remote path. Pure: the token comes in (plan-facts.ts draws it).
//
// borg builds the remote command as `[--remote-path or BORG_REMOTE_PATH or "borg", "serve", ...]`
// (remote.py borg_cmd: `args.remote_path or os.environ.get('BORG_REMOTE_PATH', 'borg')`, in 1.2.4,
// 1.4.5 and 2.0.0b5), and ssh joins the words with spaces: a remote path `TBORG_RUN=<token> borg`
// becomes `TBORG_RUN=<token> borg serve ...`, which a POSIX login shell runs as borg with one more
// variable, and which `borg serve` under a forced command reads without the assignment (archiver.py
// get_args drops leading words containing `=`). The user's remote path is kept as the rest.

// `TBORG_RUN=<token> <remote path>`.
export function composeRemotePath(token: string, remotePath: string): string {
  if (!RUN_TOKEN_PATTERN.test(token)) throw new Error(`internal: bad run token ${JSON.stringify(token)}`);
  return `${RUN_TOKEN_VARIABLE}=${token} ${remotePath}`;
}

// Why a run with --tborg-server-guard on sends no token, or null when it sends one.
export function findGuardObstacle(facts: {
  opensRepository: boolean;
  ssh: boolean;
  rest: boolean;
  storeLock: boolean;
  otherRepository: boolean;
}): string | null {
  if (!facts.opensRepository) return 'this command opens no repository';
  if (!facts.ssh) return 'the repository is not reached through ssh';
  if (facts.rest || facts.storeLock)
    return 'this borg keeps its lock in the repository (store lock), not in a borg serve the guard could end';
  // Two connections of one borg (borg2 transfer --other-repo) would carry the same token, and the
  // second one's guard would end the first one's serve.
  if (facts.otherRepository) return 'this command opens two repositories at once: one token would end the other connection';
  return null;
}

// Where the token goes: into the user's --remote-path word itself (it wins over BORG_REMOTE_PATH;
// an empty one does not: `args.remote_path or ...`), else into BORG_REMOTE_PATH. Returns the argv
// (a copy) and the environment additions.
export function injectRunToken(
  argv: readonly string[],
  remotePathAt: { index: number; form: 'separate' | 'joined' } | null,
  remotePath: string | null,
  env: NodeJS.ProcessEnv,
  token: string,
): { argv: string[]; env: Record<string, string> } {
  const result = [...argv];
  if (remotePathAt && remotePath) {
    const composed = composeRemotePath(token, remotePath);
    if (remotePathAt.form === 'separate') {
      result[remotePathAt.index + 1] = composed;
    } else {
      const word = result[remotePathAt.index]!;
      result[remotePathAt.index] = `${word.slice(0, word.indexOf('=') + 1)}${composed}`;
    }
    return { argv: result, env: {} };
  }
  return { argv: result, env: { BORG_REMOTE_PATH: composeRemotePath(token, env.BORG_REMOTE_PATH ?? 'borg') } };
}
