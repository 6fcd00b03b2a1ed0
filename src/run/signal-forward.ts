import type { ChildProcess } from 'node:child_process';
import { ignoresSignal } from './process-state.js';

// Handing a SIGTERM or SIGHUP on to borg (borg-process.ts), so that borg gets it exactly once.
// borg's handler sets SIG_IGN and then raises (helpers/process.py raising_signal_handler, borg 1.2 to
// 2.0), so a second copy is harmless only once SIG_IGN is set: one that lands between the handler's
// start and its SIG_IGN raises a second exception inside the first one's clean-up, and the repository
// lock can stay behind. Two copies came close together in two ways, and the lab saw both on a loaded
// machine (a 1.2.4 lock left 30 s after a stop; a `timeout 5` create that never ended):
//   - `timeout` signals its child and then its whole process group, so tborg gets two SIGTERMs at once
//     and forwarded each: only the first is handed on now, per borg process;
//   - systemd's KillMode=control-group signals borg too, at the same moment as tborg, whose copy
//     followed at once, before borg's handler had set SIG_IGN: tborg now gives borg GRACE_MS to show
//     it got the signal itself (SigIgn in /proc/PID/status), and hands it on only if not.
// A copy that reaches borg before its handler runs merges with the pending one (the kernel and
// Python's signal module both keep one flag per signal).
const FORWARD_GRACE_MS = 250;
const POLL_MS = 10;

// Hands `signal` on to `child` unless `sent` says it already was, or borg shows it got it itself
// within the grace. Resolves when decided.
export async function forwardOnce(child: ChildProcess, signal: 'SIGTERM' | 'SIGHUP', sent: Set<string>): Promise<void> {
  if (sent.has(signal)) return;
  sent.add(signal);
  const pid = child.pid;
  if (pid === undefined) return;
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  for (let waited = 0; waited < FORWARD_GRACE_MS; waited += POLL_MS) {
    if (gone() || ignoresSignal(pid, signal)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (gone() || ignoresSignal(pid, signal)) return;
  try {
    // borg alone, not its process group: borg shuts its ssh down itself after its clean-up (it
    // starts ssh with SIGINT ignored for that reason, remote.py). A SIGTERM to the group killed
    // ssh under borg's rollback: BrokenPipeError traceback and rc 2 instead of 143
    // (test/e2e/passthrough-e2e.test.ts).
    child.kill(signal);
  } catch {
    // Already gone.
  }
}
