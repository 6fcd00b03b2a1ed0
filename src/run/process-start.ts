import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// What tborg was started with that node does not keep for its children, remembered first thing in main.
//
// 1. The descriptors above 2 that tborg was started with, so that borg gets every one of them
// (`BORG_PASSPHRASE_FD=3 tborg ... 3<<<secret`, `--exclude-from /dev/fd/5`) as it would without tborg.
//
// Why this is needed (docs/facts.md, "How tborg hands over to borg"): node's start-up sets FD_CLOEXEC on
// descriptors 0 to about 16, so inherited ones in that range vanish at borg's exec unless the spawn
// hands them over explicitly. By the time any JavaScript runs, node has also opened descriptors of its
// own (libuv's epoll, eventfd and self-pipes), and the close-on-exec flag no longer tells the two kinds
// apart. What does: node's own are anon_inode epoll/eventfd/signalfd files and pipes whose read *and*
// write ends are both open in this process. A user who hands tborg both ends of one pipe (rare; borg
// has no use for it) loses them, as they would today.

export interface InheritedFd {
  fd: number;
  // FD_CLOEXEC is set now: node's start-up set it, and the spawn has to hand this one over itself.
  // Descriptors without it reach borg through exec as they are.
  closeOnExec: boolean;
}

let remembered: InheritedFd[] | undefined;

const NODE_OWN = /^anon_inode:\[?(eventpoll|eventfd|signalfd|timerfd|inotify)\]?$/;

interface FdFacts {
  fd: number;
  target: string;
  flags: number;
}

function readFacts(fd: number): FdFacts | undefined {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    const flags = /^flags:\s+([0-7]+)$/m.exec(info);
    return { fd, target, flags: flags ? parseInt(flags[1]!, 8) : 0 };
  } catch {
    // Closed meanwhile (the directory handle of the listing itself).
    return undefined;
  }
}

const O_ACCMODE = 0o3;
const O_CLOEXEC = 0o2000000;

// Pure: which of the listed descriptors were inherited (see the module comment).
export function selectInherited(facts: readonly FdFacts[]): InheritedFd[] {
  const pipeModes = new Map<string, Set<number>>();
  for (const f of facts) {
    if (!f.target.startsWith('pipe:')) continue;
    const modes = pipeModes.get(f.target) ?? new Set<number>();
    modes.add(f.flags & O_ACCMODE);
    pipeModes.set(f.target, modes);
  }
  const bothEnds = (target: string): boolean => {
    const modes = pipeModes.get(target);
    return modes?.has(0) === true && modes.has(1);
  };
  return facts
    .filter((f) => f.fd > 2 && !NODE_OWN.test(f.target) && !(f.target.startsWith('pipe:') && bothEnds(f.target)))
    .map((f) => ({ fd: f.fd, closeOnExec: (f.flags & O_CLOEXEC) !== 0 }))
    .sort((a, b) => a.fd - b.fd);
}

// Reads /proc/self/fd once, as early as possible (first thing in main, before anything opens the
// terminal: a TTY stream reopens /dev/tty under a new descriptor). Later calls return the first answer.
export function rememberInheritedFds(): InheritedFd[] {
  if (remembered) return remembered;
  let names: string[] = [];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    // No /proc: nothing can be handed over beyond stdio, as before.
  }
  const facts = names
    .map(Number)
    .filter((fd) => fd > 2)
    .map(readFacts)
    .filter((f): f is FdFacts => f !== undefined);
  remembered = selectInherited(facts);
  return remembered;
}

// The remembered set (empty when main never took the snapshot, e.g. a test calling a module directly).
export function inheritedFds(): InheritedFd[] {
  return remembered ?? [];
}

// 2. The signal dispositions and mask tborg was started with (`nohup` ignores SIGHUP, a shell's `&`
// ignores SIGINT and SIGQUIT), and which of stdin, stdout and stderr were closed (`>&-`, `<&-`).
// Node's start-up resets every disposition to the default (and ignores SIGPIPE and SIGXFSZ) and opens
// /dev/null on each closed one of descriptors 0 to 2 (node.cc PlatformInit) before any JavaScript
// runs, so /proc/self shows node's state, not the caller's: bin/tborg.js starts as a two-line sh script
// that reads SigIgn and SigBlk from its own status and tests /proc/$$/fd/0 to 2, passes them in
// START_SIGNALS_VARIABLE, then execs node. Run as `node bin/tborg.js` they are unknown, and borg gets
// default dispositions, as libuv's spawn gives them, and node's /dev/null.
const START_SIGNALS_VARIABLE = 'TBORG_START_SIGNALS';

// What the sh line read, as numbers.
export interface StartSignals {
  // Bit N-1 set: signal N; as /proc/PID/status prints them, in hex.
  ignored: bigint;
  blocked: bigint;
}

let startSignals: StartSignals | undefined;
let closedStdio: number[] = [];

// Pure: "SigIgn SigBlk" in hex, as bin/tborg.js writes them (the closed descriptors may follow).
export function parseStartSignals(value: string | undefined): StartSignals | undefined {
  const match = /^([0-9a-f]{1,16}) ([0-9a-f]{1,16})(?: [012]*)?$/i.exec(value ?? '');
  if (!match) return undefined;
  return { ignored: BigInt(`0x${match[1]}`), blocked: BigInt(`0x${match[2]}`) };
}

// Pure: which of 0, 1 and 2 were closed, from the third word the sh line writes ("", "1", "012").
// Nothing when the word is missing or odd: then they are unknown, and stay as node opened them.
export function parseClosedStdio(value: string | undefined): number[] {
  const match = /^[0-9a-f]{1,16} [0-9a-f]{1,16} ([012]{0,3})$/i.exec(value ?? '');
  if (!match) return [];
  return [0, 1, 2].filter((fd) => match[1]!.includes(String(fd)));
}

// Takes the variable out of `env` (and so out of borg's environment) and remembers its value.
export function rememberStartSignals(env: NodeJS.ProcessEnv): StartSignals | undefined {
  if (START_SIGNALS_VARIABLE in env) {
    startSignals ??= parseStartSignals(env[START_SIGNALS_VARIABLE]);
    closedStdio = parseClosedStdio(env[START_SIGNALS_VARIABLE]);
    delete env[START_SIGNALS_VARIABLE];
  }
  return startSignals;
}

// For the exec shim, which restores them in borg (undefined: unknown, borg gets the defaults).
export function knownStartSignals(): StartSignals | undefined {
  return startSignals;
}

// For the exec shim, which closes them again in borg: plain borg started with stdout closed fails
// (its sys.stdout is None; borg 1.2.4 exits 1), with stdin closed reads nothing, not /dev/null.
export function closedStartStdio(): readonly number[] {
  return closedStdio;
}
