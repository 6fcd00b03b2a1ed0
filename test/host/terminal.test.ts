import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Terminal } from '../../src/cli/terminal.js';

// A stand-in for a tty.WriteStream: the cursor methods write the escape codes a real one writes.
function tty(columns: number) {
  const stream = new PassThrough();
  const stderr = Object.assign(stream, {
    isTTY: true,
    columns,
    cursorTo: (x: number) => stream.write(`\x1b[${x + 1}G`),
    clearLine: () => stream.write('\x1b[2K'),
    moveCursor: (_dx: number, dy: number) => stream.write(dy < 0 ? `\x1b[${-dy}A` : ''),
  });
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString('latin1')));
  return { stderr, text: () => text };
}

test("on a terminal: a spinner while waiting, gone before borg's first byte", async () => {
  const err = tty(80);
  const t = new Terminal({ stdout: new PassThrough(), stderr: err.stderr }, { env: { TERM: 'xterm' } });
  await t.waiting(() => 'waiting for the lock on h:/r, 3s of 10m40s, attempt 2');
  await new Promise((r) => setTimeout(r, 250));
  assert.match(err.text(), /waiting for the lock on h:\/r, 3s of 10m40s, attempt 2/);
  const before = err.text().length;
  t.passthrough(Buffer.from('borg says hello\n'));
  const after = err.text().slice(before);
  // The spinner line was cleared (ora: cursor to column 0, erase line) and then borg's bytes follow.
  assert.ok(after.endsWith('borg says hello\n'), JSON.stringify(after));
  assert.match(after, /\x1b\[(?:2K|0K|K)|\x1b\[G|\r/);
  const settled = err.text().length;
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(err.text().length, settled, 'nothing drawn after borg took over');
});

test('not a terminal (cron) and --tborg-quiet: plain timestamped lines, no escape codes', async () => {
  for (const [stderr, quiet] of [
    [new PassThrough(), false],
    [tty(80).stderr, true],
  ] as const) {
    let text = '';
    stderr.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const t = new Terminal({ stdout: new PassThrough(), stderr }, { quiet, now: () => new Date('2026-11-26T02:00:05.123Z') });
    await t.waiting(() => 'waiting for the lock on h:/r, 3s of 10m40s, attempt 2');
    assert.equal(text, '2026-11-26T02:00:05Z tborg: waiting for the lock on h:/r, 3s of 10m40s, attempt 2\n');
  }
});

test('CI=true or TERM=dumb on a terminal: plain lines, not a spinner', async () => {
  for (const env of [{ CI: 'true', TERM: 'xterm' }, { TERM: 'dumb' }]) {
    const err = tty(80);
    const t = new Terminal({ stdout: new PassThrough(), stderr: err.stderr }, { env, now: () => new Date('2026-11-26T02:00:05Z') });
    await t.waiting(() => 'waiting');
    assert.equal(err.text(), '2026-11-26T02:00:05Z tborg: waiting\n', JSON.stringify(env));
  }
});

test('a terminal that reports 0 columns gets plain lines, not a spinner', async () => {
  const err = tty(0);
  const t = new Terminal({ stdout: new PassThrough(), stderr: err.stderr }, { now: () => new Date('2026-11-26T02:00:05Z') });
  await t.waiting(() => 'waiting');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(err.text(), '2026-11-26T02:00:05Z tborg: waiting\n');
});

test('passthrough reports backpressure so the caller can pause borg, once 256 KiB wait for the reader', async () => {
  const stderr = new PassThrough({ highWaterMark: 16 });
  const t = new Terminal({ stdout: new PassThrough(), stderr });
  // A reader that lags a little: borg goes on (pausing and resuming its pipe on every read cost more
  // than the bytes).
  assert.equal(t.passthrough(Buffer.alloc(64)), true);
  assert.equal(t.passthrough(Buffer.alloc(256 * 1024 - 128)), true);
  assert.equal(t.passthrough(Buffer.alloc(64)), false);
  let resumed = false;
  t.whenDrained(() => (resumed = true));
  stderr.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(resumed, true);
});

test("--log-json: tborg's lines are byte for byte what borg's JsonFormatter (Python json.dumps) writes", async () => {
  const { execFileSync } = await import('node:child_process');
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const at = new Date('2026-11-26T02:00:05.123Z');
  const t = new Terminal({ stdout: new PassThrough(), stderr }, { now: () => at });
  t.speakJson();
  const message = 'waiting for the lock on "h:/r" \\ ünïcode 😀\ttab, 3s of 10m40s';
  t.message(message);
  t.warn('short --lock-wait');
  t.error('ssh -G failed for h: bad');
  await t.waiting(() => 'waiting');
  const python = execFileSync(
    'python3',
    [
      '-c',
      `
import json, sys
for m, l in json.loads(sys.argv[1]):
    print(json.dumps({"type": "log_message", "time": ${at.getTime() / 1000}, "message": m, "levelname": l, "name": "tborg"}))
`,
      JSON.stringify([
        [message, 'INFO'],
        ['short --lock-wait', 'WARNING'],
        ['ssh -G failed for h: bad', 'ERROR'],
        ['waiting', 'INFO'],
      ]),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(text, python);
});

test('--log-json on a terminal: no spinner, JSON lines only', async () => {
  const err = tty(80);
  const t = new Terminal({ stdout: new PassThrough(), stderr: err.stderr }, { env: { TERM: 'xterm' }, now: () => new Date(1_000_000) });
  t.speakJson();
  await t.waiting(() => 'waiting');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(err.text(), '{"type": "log_message", "time": 1000.0, "message": "waiting", "levelname": "INFO", "name": "tborg"}\n');
});

test('the spinner stops for good when its status says the wait is over', async () => {
  const err = tty(80);
  const t = new Terminal({ stdout: new PassThrough(), stderr: err.stderr }, { env: { TERM: 'xterm' } });
  let waiting = true;
  await t.waiting(() => (waiting ? 'waiting for the lock on h:/r, 3s of 10m40s, attempt 2' : null));
  await new Promise((r) => setTimeout(r, 200));
  assert.match(err.text(), /attempt 2/);
  waiting = false;
  await new Promise((r) => setTimeout(r, 1300));
  const settled = err.text().length;
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(err.text().length, settled, 'nothing drawn once the status said null');
  // The spinner's line was cleared, not left claiming a wait.
  assert.match(err.text().slice(err.text().lastIndexOf('attempt 2')), /\x1b\[(?:2K|0K|K)|\x1b\[G|\r/);
  // A status that is null from the start draws nothing at all.
  const quiet = tty(80);
  await new Terminal({ stdout: new PassThrough(), stderr: quiet.stderr }, { env: { TERM: 'xterm' } }).waiting(() => null);
  assert.equal(quiet.text(), '');
});
