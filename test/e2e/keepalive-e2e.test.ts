import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { quote } from 'shlex';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';

// README "Keepalive": over the lab's real sshd, a borg run through tborg really uses the injected
// keepalive. The proof is on the server side, not in tborg's plan: the client's ssh sends a
// `keepalive@openssh.com` global request every ServerAliveInterval seconds of silence
// (clientloop.c server_alive_check), and the lab's sshd (LogLevel DEBUG1) logs each one as
// "server_input_global_request: rtype keepalive@openssh.com want_reply 1". The test watches the log
// while `borg with-lock REPO sleep N` keeps one connection idle for N seconds, and times each request
// as it arrives.
//
// The lab's client config has `BatchMode yes` and no ServerAlive*: Debian's ssh then uses an interval
// of 300 s, so plain borg sends no keepalive at all in these few seconds; tborg treats that default
// as unset and injects (TBORG_KEEPALIVE=1x3 here, so a request comes every second).
//
// sshd's log lines carry no connection id, so each lab serves one connection at a time; the two
// labs run side by side (the runs are mostly sleeping).

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable();
const KEEPALIVE_LINE = 'server_input_global_request: rtype keepalive@openssh.com want_reply 1';

interface Observed {
  code: number | null;
  stderr: string;
  seconds: number;
  // Arrival of each keepalive request, in seconds since the run started (as seen by polling the log).
  requests: number[];
  // Sessions sshd started during the run ("Starting session: command ...").
  sessions: number;
}

// Runs argv in the lab and watches sshd's log while it runs.
async function observe(lab: Lab, argv: string[], env: NodeJS.ProcessEnv): Promise<Observed> {
  let offset = statSync(lab.sshdLog).size;
  let pending = '';
  const requests: number[] = [];
  let sessions = 0;
  const started = Date.now();
  const poll = (): void => {
    const fd = openSync(lab.sshdLog, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        offset += n;
        pending += buffer.subarray(0, n).toString('latin1');
      }
    } finally {
      closeSync(fd);
    }
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    const now = (Date.now() - started) / 1000;
    for (const line of lines) {
      if (line.includes(KEEPALIVE_LINE)) requests.push(now);
      if (line.startsWith('Starting session: command')) sessions++;
    }
  };
  const timer = setInterval(poll, 50);
  try {
    const r = await lab.run(argv, { env, timeoutMs: 60_000 });
    // sshd logs the last request before the session ends; one more read picks up anything left.
    poll();
    return { code: r.code, stderr: r.stderr.toString(), seconds: (Date.now() - started) / 1000, requests, sessions };
  } finally {
    clearInterval(timer);
  }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function show(o: Observed): string {
  return `${o.requests.length} requests at ${o.requests.map((t) => t.toFixed(2)).join(', ')} s; run ${o.seconds.toFixed(1)} s, rc ${o.code}; ${o.stderr}`;
}

const tborg = (...args: string[]): string[] => [process.execPath, TBORG, ...args];

// One run that must succeed over a single connection; what sshd saw is printed as a diagnostic.
async function observeRun(t: TestContext, label: string, lab: Lab, argv: string[], env: NodeJS.ProcessEnv): Promise<Observed> {
  const o = await observe(lab, argv, env);
  t.diagnostic(`${label}: ${show(o)}`);
  assert.equal(o.code, 0, o.stderr);
  assert.equal(o.sessions, 1, 'one connection');
  return o;
}

function assertSpacing(o: Observed, seconds: number): void {
  // ssh's timer only ever fires late on a busy machine, never early: the lower bound is what tells
  // 1 s from 2 s; the upper one only has to rule out the next candidate (2 s, or Debian's 300 s).
  // One tick can come a whole second late (CI saw 2 s requests 3.02 s then 2.01 s apart: ssh keeps
  // its keepalive schedule in whole seconds, clientloop.c monotime()), so the median is taken over
  // at least three gaps, where one late tick cannot move it.
  assert.ok(o.requests.length >= 4, `at least three gaps to take a median of: ${show(o)}`);
  const spacing = median(gaps(o.requests));
  assert.ok(spacing > seconds - 0.4 && spacing < seconds + 0.9, `about ${seconds} s apart: ${show(o)}`);
}

async function startLabWithRepo(name: string): Promise<{ lab: Lab; repo: string }> {
  const lab = await startLab({ name });
  const repo = lab.repoUrl('r');
  const init = await lab.run(['borg', 'init', '-e', 'none', repo], { timeoutMs: 60_000 });
  if (init.code !== 0) {
    await lab.close();
    throw new Error(`borg init: ${init.stderr.toString()}`);
  }
  return { lab, repo };
}

// Two labs side by side, each serving its tests one after the other.
describe('keepalive over the lab sshd', { skip: available.ok ? false : available.why, concurrency: 2 }, () => {
  describe('injected by tborg', { concurrency: 1 }, () => {
    let lab: Lab;
    let repo = '';
    before(async () => ({ lab, repo } = await startLabWithRepo('ka-injected')));
    after(async () => lab?.close());

    test('through BORG_RSH: a keepalive request every second while the connection idles', async (t) => {
      const o = await observeRun(t, 'tborg', lab, tborg('with-lock', repo, 'sleep', '5'), lab.env({ TBORG_KEEPALIVE: '1x3' }));
      assertSpacing(o, 1);
    });

    test('plain borg doing the same: no keepalive request at all (Debian BatchMode default, 300 s)', async (t) => {
      const o = await observeRun(t, 'borg', lab, ['borg', 'with-lock', repo, 'sleep', '4'], lab.env({ TBORG_KEEPALIVE: '1x3' }));
      assert.equal(o.requests.length, 0, show(o));
    });

    test('through --rsh (BORG_RSH unusable): a keepalive request every second', async (t) => {
      // Were BORG_RSH used (by tborg's ssh -G or by borg), ssh would fail on the missing file.
      const env = lab.env({ TBORG_KEEPALIVE: '1x3', BORG_RSH: 'ssh -F /nonexistent/tborg-keepalive-e2e' });
      const o = await observeRun(t, 'tborg --rsh', lab, tborg('with-lock', '--rsh', lab.rsh, repo, 'sleep', '5'), env);
      assertSpacing(o, 1);
    });
  });

  // TBORG_KEEPALIVE=1x3 stays set: had tborg put its 1 s where it wins, requests would come every second.
  describe("the user's own interval is the one ssh uses", { concurrency: 1 }, () => {
    let lab: Lab;
    let repo = '';
    before(async () => ({ lab, repo } = await startLabWithRepo('ka-user')));
    after(async () => lab?.close());

    test('-o ServerAliveInterval=2 in BORG_RSH: requests 2 s apart', async (t) => {
      const env = lab.env({ TBORG_KEEPALIVE: '1x3', BORG_RSH: `${lab.rsh} -o ServerAliveInterval=2` });
      const o = await observeRun(t, 'tborg, -o ServerAliveInterval=2', lab, tborg('with-lock', repo, 'sleep', '11'), env);
      assertSpacing(o, 2);
    });

    test('ServerAliveInterval 2 in the ssh config file (which any injected -o would beat): 2 s apart', async (t) => {
      // The lab block sets the interval first (ssh keeps the first value), then the lab's own config.
      const config = join(lab.dir, 'ssh_config_alive2');
      writeFileSync(config, `Host lab\n  ServerAliveInterval 2\nInclude "${lab.sshConfig}"\n`);
      const env = lab.env({ TBORG_KEEPALIVE: '1x3', BORG_RSH: `ssh -F ${quote(config)}` });
      const o = await observeRun(t, 'tborg, ServerAliveInterval 2 in the file', lab, tborg('with-lock', repo, 'sleep', '11'), env);
      assertSpacing(o, 2);
    });
  });
});
