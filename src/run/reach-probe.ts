import { connect } from 'node:net';
import { CONNECT_ERRORS, CONNECT_TO_HOST, RESOLVE_HOSTNAME } from '../borg/words/ssh-words.js';
import type { ProbeResult } from './connect-wait.js';

// tborg's own look at whether the server can be reached: one TCP connection to the host and port
// that ssh -G names, closed as soon as it opens (nothing is sent). borg 1.2 loses ssh's "Connection
// refused" line in about 1 of 4 refused connections (remote.py raises ConnectionClosedWithHint at the
// EOF of ssh's stdout without draining its stderr), so borg's output alone cannot always tell an
// unreachable server from one that answered; this can (README "A server that cannot be reached at start").

// ssh's own words for the errors a connect() gives (src/borg/words/ssh-words.ts CONNECT_ERRORS; the
// first text of a code is Linux's), and for getaddrinfo's failure.
const WORDS: ReadonlyMap<string, string> = new Map([...CONNECT_ERRORS].reverse().map((e) => [e.code, e.text]));

// Knocks on host:port, giving up after timeoutMs, or at once when `signal` aborts (a stopping signal:
// tborg ends without waiting for the probe).
export function probeReach(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const where = `${CONNECT_TO_HOST}${host} port ${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const onAbort = (): void => finish({ open: false, detail: `${where}: stopped` });
    const finish = (result: ProbeResult): void => {
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(result);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(timeoutMs, () => finish({ open: false, detail: `${where}: ${WORDS.get('ETIMEDOUT')}` }));
    socket.once('connect', () => finish({ open: true, detail: where }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
        finish({ open: false, detail: `${RESOLVE_HOSTNAME}${host}` });
      } else {
        finish({ open: false, detail: `${where}: ${WORDS.get(code) ?? (error.message || code)}` });
      }
    });
  });
}
