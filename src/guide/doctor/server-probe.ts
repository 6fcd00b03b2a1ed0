import type { BufferedChildResult } from '../../process/buffered-child.js';
import { SSH_HOST_KEY_REFUSED, SSH_LOGIN_REFUSED } from '../../borg/words/ssh-words.js';
import { matchesSome } from '../../borg/words/wording.js';
import { sshStderrLine } from '../../ssh/ssh-settings.js';
import { seconds, type Check } from './check.js';

// The server check: what `ssh ... HOST REMOTE_PATH --version` did. Pure.

const VERSION_RE = /^borg\S*\s+(\d+\.\d+\S*)/m;

// What interpretServerProbe needs besides the child's result.
export interface ServerProbeContext {
  host: string;
  remotePath: string;
  localMajor: 1 | 2 | null;
  timeoutSeconds: number;
}

// `ssh ... HOST REMOTE_PATH --version`. ssh's own failures exit 255 (ssh(1)); anything else is the
// remote command's exit code. A forced command in authorized_keys runs instead of ours: when it is
// `borg serve`, borg still answers --version (borg 1.2 archiver.py get_args parses
// SSH_ORIGINAL_COMMAND with its own parser, whose --version action prints and exits).
export function interpretServerProbe(result: BufferedChildResult, ctx: ServerProbeContext): Check {
  const command = `${ctx.remotePath} --version`;
  const said = sshStderrLine(result.stderr);
  const data: Record<string, unknown> = {
    host: ctx.host,
    remotePath: ctx.remotePath,
    seconds: result.durationMs / 1000,
    exitCode: result.exitCode,
  };
  if (result.spawnError) return { name: 'server', status: 'fail', detail: `cannot run ssh: ${result.spawnError}`, data };
  // Stopped by doctor: the time limit, or the user's signal (the check is not printed then).
  if (result.timedOut || result.aborted) {
    return {
      name: 'server',
      status: 'fail',
      detail: `no answer from ${ctx.host} within ${ctx.timeoutSeconds} s${said ? `: ${said}` : ''}`,
      data,
    };
  }
  if (result.exitCode === 255) {
    let what: string;
    if (matchesSome(said, SSH_LOGIN_REFUSED)) {
      what = `cannot log in to ${ctx.host} without a prompt (BatchMode): ${said}; the key must be unencrypted or in ssh-agent`;
    } else if (matchesSome(said, SSH_HOST_KEY_REFUSED)) {
      what = `${ctx.host}'s host key is not known or has changed: ${said}; connect once with ssh to check and accept it`;
    } else {
      what = `cannot reach ${ctx.host}: ${said || 'ssh exited 255'}`;
    }
    return { name: 'server', status: 'fail', detail: what, data };
  }
  const version = VERSION_RE.exec(result.stdout)?.[1] ?? null;
  data.remoteVersion = version;
  const took = `reachable in ${seconds(result.durationMs)}`;
  if (version !== null) {
    const remoteMajor = Number(version.split('.')[0]);
    if (ctx.localMajor !== null && remoteMajor !== ctx.localMajor) {
      const hint = ctx.localMajor === 2 ? ' (borg 2 needs a borg 2 server: --remote-path)' : '';
      return {
        name: 'server',
        status: 'warn',
        detail: `${took}; the server runs borg ${version}, this borg is ${ctx.localMajor}.x${hint}`,
        data,
      };
    }
    return { name: 'server', status: 'ok', detail: `${took}; the server runs borg ${version} (${ctx.remotePath})`, data };
  }
  if (result.exitCode === 127 || /command not found|No such file or directory/.test(said)) {
    return {
      name: 'server',
      status: 'fail',
      detail: `reachable, but the server has no ${ctx.remotePath}: ${said || `exit ${result.exitCode}`}; give --remote-path or install borg there`,
      data,
    };
  }
  const answer = result.stdout.trim().split('\n')[0] ?? '';
  const printed = answer ? `answered "${answer.slice(0, 60)}"` : 'printed nothing';
  data.restricted = true;
  return {
    name: 'server',
    status: 'ok',
    detail: `${took}; remote command restricted (forced command?): \`${command}\` ${printed}${result.exitCode ? `, exit ${result.exitCode}` : ''}; which borg runs there is unknown`,
    data,
  };
}
