import { execFile } from 'node:child_process';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';

// A monitor's address, found within a deadline. node's dns.lookup is getaddrinfo(3) on libuv's
// thread pool: it cannot be cancelled, and node does not exit while it runs, so a name server that
// never answers holds the job for glibc's whole retry schedule (resolv.conf "timeout" x "attempts"
// per query and family: 20-40 s measured) whatever tborg's own timers say. getent(1) asks the same
// getaddrinfo (so /etc/hosts, nsswitch and resolv.conf count exactly as for any program) in a process
// of its own, which is killed at the deadline.

export interface Address {
  address: string;
  family: 4 | 6;
}

// Every address, in getaddrinfo's order (node tries them in turn: net.connect autoSelectFamily).
export type Resolved = { addresses: Address[] } | { problem: string };

// getent's "ahosts" lines: "ADDRESS  STREAM|DGRAM|RAW  [NAME]", each address once per socket type.
export function parseGetentHosts(output: string): Address[] {
  const addresses: Address[] = [];
  for (const line of output.split('\n')) {
    const address = line.trim().split(/\s+/)[0] ?? '';
    const family = isIP(address);
    if ((family === 4 || family === 6) && !addresses.some((a) => a.address === address)) addresses.push({ address, family });
  }
  return addresses;
}

// The host's first address, within `timeoutMs`; an IP literal as it is. Never rejects.
export function resolveHost(host: string, timeoutMs: number, abort?: AbortSignal): Promise<Resolved> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const literal = isIP(bare);
  if (literal === 4 || literal === 6) return Promise.resolve({ addresses: [{ address: bare, family: literal }] });
  if (timeoutMs <= 0) return Promise.resolve({ problem: `could not resolve ${host}: no time left` });
  return new Promise((resolve) => {
    const child = execFile(
      'getent',
      ['ahosts', bare],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, ...(abort ? { signal: abort } : {}) },
      (error, stdout) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') {
          // No getent (not glibc or musl-utils): node's own lookup, which cannot be bounded.
          lookup(bare, { all: true }, (e, found) =>
            resolve(
              e
                ? { problem: `could not resolve ${host} (${e.code ?? e.message})` }
                : { addresses: found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })) },
            ),
          );
          return;
        }
        const found = parseGetentHosts(stdout);
        if (found.length > 0) return resolve({ addresses: found });
        if (abort?.aborted) return resolve({ problem: 'cut short' });
        if (child.killed || (error as { killed?: boolean } | null)?.killed) {
          return resolve({ problem: `could not resolve ${host} within ${Math.round(timeoutMs / 100) / 10}s` });
        }
        resolve({ problem: `could not resolve ${host}` });
      },
    );
    child.stdin?.end();
  });
}
