import { createServer, type IncomingMessage, type Server } from 'node:http';

// A Healthchecks-like monitor on loopback for the monitoring tests: it records every request and
// answers 200 (or, with mode.hang, never answers).

export interface Seen {
  method: string;
  url: string;
  body: string;
  at: number;
}

export interface HttpMonitor {
  server: Server;
  port: number;
  seen: Seen[];
  close(): void;
}

export function startMonitor(mode: { hang: boolean } = { hang: false }): Promise<HttpMonitor> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString(), at: Date.now() });
      if (mode.hang) return; // never answers
      res.end('OK');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : 0,
        seen,
        close() {
          server.closeAllConnections();
          server.close();
        },
      });
    });
  });
}

// "METHOD /path" of each request, without the query (rid).
export function requestLines(seen: readonly Seen[]): string[] {
  return seen.map((s) => `${s.method} ${s.url.replace(/\?.*$/, '')}`);
}
