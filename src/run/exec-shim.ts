import { closeSync, openSync, readSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { isExecutableFile } from '../borg/borg-binary.js';
import type { InheritedFd, StartSignals } from './process-start.js';

// How tborg hands over to borg exactly as a shell would: borg is started through a tiny Python program
// (borg is Python, so python3 is there; about 10 ms, measured in the bench) that reads a spec from a
// pipe and execve()s borg with it. Node's spawn alone cannot:
//   - pass argv and environment bytes that are not UTF-8 (it takes strings: raw-bytes.ts);
//   - put borg in a new process group without a new session (`detached` is setsid(2), which takes
//     borg off the terminal: its passphrase prompt then ignores job control);
//   - make the kernel stop borg when tborg is killed with SIGKILL (prctl PR_SET_PDEATHSIG), so no
//     borg is left holding the repository lock (docs/facts.md "How tborg hands over to borg");
//   - restore the signal dispositions tborg was started with (libuv resets all to the default);
//   - give borg one pipe as both stdout and stderr (dup2), so that `tborg ... > log 2>&1` keeps
//     their order.
// Inherited descriptors (process-start.ts) are handed to the shim at their own numbers through the
// spawn's stdio array (libuv clears FD_CLOEXEC when it dup2s a descriptor onto itself); the shim keeps
// them, and its spec pipe is closed before the exec, so borg sees exactly what tborg was given.
// Without python3 tborg spawns borg directly: then all of the above but the descriptors is lost.

// argv[1]: the spec's descriptor. The spec: one ASCII line
//   "DEATHSIG PPID NEWGROUP MERGE SIGIGN SIGBLK CLOSED ARGC ENVC"
// (CLOSED: the descriptors of 0, 1 and 2 tborg was started without, as digits, or "-")
// then PATH, ARGC words and ENVC NAME=VALUE entries, each ended by a NUL byte.
// PR_SET_PDEATHSIG is 1 (linux/prctl.h). After it, getppid() tells whether tborg died before the
// prctl took effect (then nothing would ever signal borg): the shim stops there.
// A failed exec is one line on stderr and exit 127, as from a shell.
export const SHIM_CODE = `import os, signal, sys
def run():
    fd = int(sys.argv[1])
    parts = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        parts.append(chunk)
    os.close(fd)
    head, _, body = b''.join(parts).partition(b'\\n')
    deathsig, ppid, group, merge, ign, blk, closed, argc, envc = head.split()
    deathsig, argc, envc, ign, blk = int(deathsig), int(argc), int(envc), int(ign, 16), int(blk, 16)
    items = body.split(b'\\0')
    path, argv, envs = items[0], items[1:1 + argc], items[1 + argc:1 + argc + envc]
    if group == b'1':
        os.setpgid(0, 0)
    if deathsig:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, deathsig, 0, 0, 0)
        if os.getppid() != int(ppid):
            os._exit(128 + deathsig)
    for n in range(1, signal.NSIG):
        if n in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(n, signal.SIG_IGN if ign >> (n - 1) & 1 else signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [n for n in range(1, signal.NSIG) if blk >> (n - 1) & 1])
    if merge == b'1':
        os.dup2(1, 2)
    for n in closed.strip(b'-'):
        os.close(n - 48)
    env = {}
    for entry in envs:
        name, _, value = entry.partition(b'=')
        env.setdefault(name, value)
    try:
        os.execve(path, argv, env)
    except OSError as error:
        os.write(2, b'tborg: cannot run ' + path + b': ' + (error.strerror or str(error)).encode() + b'\\n')
        os._exit(127)
run()
`;

// Everything the shim needs to start borg as a shell would have.
export interface ShimSpec {
  path: string;
  argv: readonly Buffer[];
  env: readonly Buffer[];
  // Signal number for PR_SET_PDEATHSIG (0: none) and the pid that must still be the shim's parent.
  deathSignal: number;
  parentPid: number;
  newProcessGroup: boolean;
  mergeStderrIntoStdout: boolean;
  startSignals: StartSignals | undefined;
  // Of 0, 1 and 2, those tborg was started without (node opened /dev/null there): closed again for borg.
  closedStdio?: readonly number[];
}

// Pure: the bytes the shim reads.
export function encodeShimSpec(spec: ShimSpec): Buffer {
  const hex = (n: bigint | undefined): string => (n ?? 0n).toString(16);
  const head =
    [
      spec.deathSignal,
      spec.parentPid,
      spec.newProcessGroup ? 1 : 0,
      spec.mergeStderrIntoStdout ? 1 : 0,
      hex(spec.startSignals?.ignored),
      hex(spec.startSignals?.blocked),
      spec.closedStdio && spec.closedStdio.length > 0 ? spec.closedStdio.join('') : '-',
      spec.argv.length,
      spec.env.length,
    ].join(' ') + '\n';
  const nul = Buffer.alloc(1);
  const parts: Buffer[] = [Buffer.from(head, 'ascii'), Buffer.from(spec.path, 'utf8'), nul];
  for (const word of [...spec.argv, ...spec.env]) parts.push(word, nul);
  return Buffer.concat(parts);
}

// The spawn's stdio array, and where the spec pipe is in it.
export interface StdioPlan {
  stdio: StdioOptions;
  // Where the shim's spec pipe lands in the child (undefined: no shim).
  specFd: number | undefined;
}

// Pure: the spawn's stdio array. 0 is inherited; 1 and 2 as the caller wants them; every inherited
// descriptor node marked close-on-exec is handed over at its own number (one without the flag
// survives the exec by itself and must keep its number free); the spec pipe takes the lowest number
// no inherited descriptor uses.
export function planStdio(options: { inherited: readonly InheritedFd[]; merge: boolean; shim: boolean }): StdioPlan {
  const stdio: Array<'inherit' | 'pipe' | 'ignore' | number> = options.merge
    ? ['inherit', 'pipe', 'ignore'] // the shim dup2s 1 onto 2
    : ['inherit', 'inherit', 'pipe'];
  const taken = new Set(options.inherited.map((f) => f.fd));
  for (const { fd, closeOnExec } of options.inherited) {
    if (!closeOnExec) continue;
    while (stdio.length <= fd) stdio.push('ignore');
    stdio[fd] = fd;
  }
  let specFd: number | undefined;
  if (options.shim) {
    specFd = 3;
    while (taken.has(specFd)) specFd++;
    while (stdio.length <= specFd) stdio.push('ignore');
    stdio[specFd] = 'pipe';
  }
  return { stdio, specFd };
}

// The interpreter named by borg's `#!` line, when it is a python3 (Debian: /usr/bin/python3): the one
// borg itself needs, so it exists.
function shebangPython(borgPath: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(borgPath, 'r');
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const line = head.subarray(0, n).toString('latin1').split('\n')[0] ?? '';
    if (!line.startsWith('#!')) return undefined;
    const words = line.slice(2).trim().split(/\s+/);
    const program = basename(words[0] ?? '') === 'env' ? words.find((w, i) => i > 0 && !w.startsWith('-')) : words[0];
    if (!program || !/^python3(\.\d+)?$/.test(basename(program))) return undefined;
    return program.startsWith('/') ? program : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const cache = new Map<string, string | null>();

// The python3 that runs the shim: borg's own interpreter, else a system python3, else the first
// python3 on PATH. Null when there is none (a standalone borg binary on a machine without python3).
export function findShimPython(borgPath: string, env: NodeJS.ProcessEnv): string | null {
  const key = `${borgPath}\0${env.PATH ?? ''}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const candidates = [shebangPython(borgPath), '/usr/bin/python3', '/usr/local/bin/python3'];
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir.startsWith('/')) candidates.push(join(dir, 'python3'));
  const found = candidates.find((c): c is string => c !== undefined && isExecutableFile(c)) ?? null;
  cache.set(key, found);
  return found;
}
