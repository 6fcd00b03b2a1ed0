import { connect } from 'node:net';
import type { ProbeResult } from './connect-wait.js';

// tborg's own look at whether the server can be reached: one TCP connection to the host and port
// that ssh -G names, closed as soon as it opens (nothing is sent). borg 1.2 loses ssh's "Connection
// refused" line in about 1 of 4 refused connections (remote.py raises ConnectionClosedWithHint at the
// EOF of ssh's stdout without draining its stderr), so borg's output alone cannot always tell an
// unreachable server from one that answered; this can (README "A server that cannot be reached at start").

// ssh's own words for the errors a connect() gives (sshconnect.c "ssh: connect to host %s port %s: %s"
// with strerror; getaddrinfo's failure as "Could not resolve hostname").
const WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  ECONNRESET: 'Connection reset by peer',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

// Knocks on host:port, giving up after timeoutMs, or at once when `signal` aborts (a stopping signal:
// tborg ends without waiting for the probe).
export function probeReach(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const where = `connect to host ${host} port ${port}`;
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
    socket.setTimeout(timeoutMs, () => finish({ open: false, detail: `${where}: Connection timed out` }));
    socket.once('connect', () => finish({ open: true, detail: where }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
        finish({ open: false, detail: `Could not resolve hostname ${host}` });
      } else {
        finish({ open: false, detail: `${where}: ${WORDS[code] ?? (error.message || code)}` });
      }
    });
  });
}
