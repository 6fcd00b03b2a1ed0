import type { MonitorKind } from '../borg/command-spec.js';

// A dead-man's switch that needs no config file (--tborg-ping URL), modelled on Healthchecks'
// one check per job: a backup (command-spec.ts MonitorKind) pings when it starts and how it ended;
// maintenance (prune, compact, check, ...) never starts the check and never reports it fine: its
// failure is the check's failure (URL/<exit code>), its success only a log entry (URL/log);
// reads, dry runs and refused prompts send nothing. Pinging never changes the backup's outcome:
// each ping has its own time budget (name resolution and retries included), a failure is one
// warning line, and borg never waits for a ping to start.

// How a monitor wants its pings (--tborg-ping-style; guessed from the URL when not given).
export type PingStyle = 'healthchecks' | 'uptime-kuma';

// What a run's pings are: a backup's (start, then the result), maintenance's (a failure, or a log
// entry), or, with --tborg-ping-all, any command as its own job (start, then the result).
export type PingRole = 'job' | 'maintenance';

// How a run of a command of this kind (its table row's CommandSpec.monitor) pings, or null when it
// does not: a backup as a job, maintenance as maintenance, a dry run or any other command only with
// --tborg-ping-all (as a job of its own).
export function choosePingRole(kind: MonitorKind, dryRun: boolean, all: boolean): PingRole | null {
  if (kind === 'maintenance' && !dryRun) return 'maintenance';
  if (kind === 'backup' && !dryRun) return 'job';
  return all ? 'job' : null;
}

// Per ping (start and end each), name resolution and retries included: a hung monitor costs a
// run at most this much after borg has ended.
export const PING_BUDGET_MS = 10_000;
const TRY_TIMEOUT_MS = 4_000;
const TRY_PAUSE_MS = 500;
const MAX_TRIES = 3;
// Healthchecks keeps up to 100 kB of a ping's body; the last lines of borg's stderr fit in far less.
export const MAX_BODY_BYTES = 10 * 1024;
const MAX_KUMA_MSG = 200;

// The URL as given, or why it cannot be pinged (a warning: the backup runs anyway).
export function checkPingUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: '${url}'`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `not an http:// or https:// URL: '${url}'`;
  return undefined;
}

// An Uptime Kuma push URL (…/api/push/<token>) is recognised by its path.
export function resolvePingStyle(url: string, style: PingStyle | undefined): PingStyle {
  if (style) return style;
  return new URL(url).pathname.includes('/api/push/') ? 'uptime-kuma' : 'healthchecks';
}

// One HTTP request to the monitor, built purely (buildPingRequest) and sent by sendPing.
export interface PingRequest {
  method: 'GET' | 'POST';
  url: string;
  body: string;
}

// How the run ended, as the end ping reports it.
export interface PingEnd {
  exitCode: number;
  lastLines: readonly string[];
  durationMs: number;
}

// borg's "reached its normal end": 0, or a warning: 1, or 100-127 with borg's modern exit codes
// (borg 1.4+ BORG_EXIT_CODES=modern, borg 2's default; borg's docs, "Return codes").
export function isSuccess(exitCode: number): boolean {
  return exitCode === 0 || exitCode === 1 || (exitCode >= 100 && exitCode <= 127);
}

// What the end ping reports: the job's result, or (maintenance that succeeded) a log entry only.
export type EndReport = 'result' | 'log';

// The request for one event, purely. Healthchecks (and cronitor-like monitors): URL/start at the
// start; at the end URL on success, URL/<exit code> otherwise (Healthchecks counts a non-zero
// exit status as a failure), URL/log for an entry that changes nothing, with `rid` pairing start
// and end of one run. Uptime Kuma's push monitor has no start and no log: one GET at the end with
// status=up|down, a short msg and the run's time as ping.
export function buildPingRequest(
  style: PingStyle,
  url: string,
  event: 'start' | PingEnd,
  runId: string,
  summary: string,
  report: EndReport = 'result',
): PingRequest | null {
  const target = new URL(url);
  const log = event !== 'start' && report === 'log';
  if (style === 'uptime-kuma') {
    if (event === 'start' || log) return null;
    const ok = isSuccess(event.exitCode);
    const last = event.lastLines.filter((l) => l.trim() !== '').at(-1) ?? '';
    const msg = `${summary}: exit ${event.exitCode}${!ok && last ? `: ${last}` : ''}`;
    target.searchParams.set('status', ok ? 'up' : 'down');
    target.searchParams.set('msg', msg.length > MAX_KUMA_MSG ? `${msg.slice(0, MAX_KUMA_MSG - 1)}…` : msg);
    target.searchParams.set('ping', String(Math.round(event.durationMs)));
    return { method: 'GET', url: target.toString(), body: '' };
  }
  const base = target.pathname.replace(/\/+$/, '');
  if (event === 'start') {
    target.pathname = `${base}/start`;
  } else if (log) {
    target.pathname = `${base}/log`;
  } else if (!isSuccess(event.exitCode)) {
    target.pathname = `${base}/${event.exitCode}`;
  } else {
    target.pathname = base || '/';
  }
  target.searchParams.set('rid', runId);
  const body = event === 'start' ? `${summary}: started\n` : endBody(event, summary);
  return { method: 'POST', url: target.toString(), body };
}

// "exit code N" and borg's last stderr lines, cut from the front to MAX_BODY_BYTES.
export function endBody(end: PingEnd, summary: string): string {
  const head = `${summary}: exit code ${end.exitCode}${end.exitCode === 1 ? ' (warning)' : ''}\n`;
  let tail = end.lastLines.join('\n');
  if (tail) tail += '\n';
  const room = MAX_BODY_BYTES - Buffer.byteLength(head);
  const bytes = Buffer.from(tail);
  const cut = bytes.length > room ? `…${bytes.subarray(bytes.length - room + 4).toString('utf8')}` : tail;
  return head + cut;
}

// Sends one request within `budgetMs` (the monitor's address included: ping-address.ts), trying
// again after a network error, a 5xx or a 429. `onSent` is told once a request has left (the
// monitor may then have seen it). Resolves to an error text, or undefined when the monitor took it.
// Never rejects.
async function sendPing(request: PingRequest, budgetMs: number, abort?: AbortSignal, onSent?: () => void): Promise<string | undefined> {
  const deadline = Date.now() + budgetMs;
  const url = new URL(request.url);
  const { resolveHost } = await import('./ping-address.js');
  const resolved = await resolveHost(url.hostname, budgetMs, abort);
  if ('problem' in resolved) return resolved.problem;
  let problem = 'not sent';
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || abort?.aborted) break;
    const result = await sendOnce(request, resolved.addresses, Math.min(TRY_TIMEOUT_MS, remaining), abort, onSent);
    if (result.ok) return undefined;
    problem = result.problem;
    if (!result.retry) return problem;
    const pause = Math.min(TRY_PAUSE_MS, deadline - Date.now());
    if (pause > 0 && attempt < MAX_TRIES) await new Promise((r) => setTimeout(r, pause)); // not unref'd: main() awaits it
  }
  return Date.now() >= deadline ? `${problem}; gave up after ${Math.round(budgetMs / 1000)}s` : problem;
}

interface TryResult {
  ok: boolean;
  retry: boolean;
  problem: string;
}

async function sendOnce(
  request: PingRequest,
  addresses: ReadonlyArray<{ address: string; family: 4 | 6 }>,
  timeoutMs: number,
  abort?: AbortSignal,
  onSent?: () => void,
): Promise<TryResult> {
  const url = new URL(request.url);
  const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: TryResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const body = Buffer.from(request.body);
    // agent: false and Connection: close: no socket outlives the ping, so tborg exits with borg.
    // The address found above is used as is (Host and TLS name stay the URL's).
    const req = send(url, {
      method: request.method,
      agent: false,
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all)
          (callback as (e: null, a: ReadonlyArray<{ address: string; family: number }>) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      headers: {
        'user-agent': 'tborg',
        connection: 'close',
        ...(request.method === 'POST' ? { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length } : {}),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, retry: true, problem: `no answer within ${Math.round(timeoutMs / 100) / 10}s` });
    }, timeoutMs);
    const onAbort = (): void => {
      req.destroy();
      done({ ok: false, retry: false, problem: 'cut short' });
    };
    abort?.addEventListener('abort', onAbort, { once: true });
    req.once('finish', () => onSent?.());
    req.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, retry: true, problem: error.code ?? error.message }));
    req.once('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) done({ ok: true, retry: false, problem: '' });
      else done({ ok: false, retry: status >= 500 || status === 429, problem: `HTTP ${status}` });
    });
    req.end(request.method === 'POST' ? body : undefined);
  });
}

// A version 4 UUID (Healthchecks takes `rid` only as a UUID). It pairs two pings of one run and
// needs no secrecy, so Math.random serves and node:crypto is not loaded for it.
export function randomRunId(random: () => number = Math.random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(random() * 4) + 8) as number).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// One run's pings. The start ping is sent without holding up borg, within its own budget. The end
// ping has a budget of its own from borg's end: a start ping still under way may finish within the
// first half of it (so the monitor sees start and end in order), then it is cut short and the end
// ping gets the rest. A run thus costs at most one budget after borg has ended.
export class Pinger {
  private readonly runId = randomRunId();
  private readonly style: PingStyle;
  private startSent: Promise<string | undefined> | undefined;
  private startLeft = false;
  private readonly abortStart = new AbortController();

  constructor(
    private readonly url: string,
    style: PingStyle | undefined,
    private readonly summary: string,
    readonly role: PingRole = 'job',
    private readonly budgetMs = PING_BUDGET_MS,
  ) {
    this.style = resolvePingStyle(url, style);
  }

  // A backup's start (maintenance never starts the check: a start without a result is a failure).
  start(): void {
    if (this.role !== 'job') return;
    const request = buildPingRequest(this.style, this.url, 'start', this.runId, this.summary);
    if (request) this.startSent = sendPing(request, this.budgetMs, this.abortStart.signal, () => (this.startLeft = true));
  }

  // Resolves to one warning line, or undefined when every ping arrived.
  async finish(end: PingEnd): Promise<string | undefined> {
    const deadline = Date.now() + this.budgetMs;
    let startProblem: string | undefined;
    if (this.startSent) {
      let timer: NodeJS.Timeout | undefined;
      const wait = this.budgetMs / 2;
      startProblem = await Promise.race([
        this.startSent,
        new Promise<string>((r) => {
          timer = setTimeout(() => r(this.startLeft ? 'no answer before the end ping' : 'not sent before the end ping'), wait);
        }),
      ]);
      clearTimeout(timer);
      this.abortStart.abort();
    }
    const report: EndReport = this.role === 'maintenance' && isSuccess(end.exitCode) ? 'log' : 'result';
    const request = buildPingRequest(this.style, this.url, end, this.runId, this.summary, report);
    const endProblem = request ? await sendPing(request, Math.max(0, deadline - Date.now())) : undefined;
    const problems = [startProblem && `start: ${startProblem}`, endProblem && `end: ${endProblem}`].filter(Boolean);
    if (problems.length === 0) return undefined;
    // The origin only: a Healthchecks URL's path is its secret.
    return `ping to ${new URL(this.url).origin} failed (${problems.join('; ')}); the backup's result is unchanged`;
  }
}
