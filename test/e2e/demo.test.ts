import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeEachLine, knownBorg2StaleLock } from '../lab/each-line.js';
import { inLine } from '../lab/borgs.js';
import { labAvailable } from '../lab/lab.js';
import { runBuffered } from '../lab/processes.js';
import { inheritedEnv } from '../helpers/inherited-env.js';

// README's first command for a newcomer, `npm run demo`, end to end (npm only adds the build): every
// step passes, the three archives land (plain, after a held lock, after a cut connection), and
// nothing is left behind. Once per borg line of the version matrix (DEMO_BORG=<line>).
const DEMO = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));
const available = labAvailable({ matrix: true });

describeEachLine('npm run demo', { skip: available.ok ? false : available.why }, (line) => {
  test('npm run demo: every step passes, three archives land, everything is cleaned up', {
    timeout: 900_000,
    todo: knownBorg2StaleLock(line),
  }, async () => {
    // The demo's limit guards against a demo that never ends, not against a slow machine: its own waits
    // (220 s leaves room for the held lock, the upload at the demo's rate, keepalive and reconnect),
    // plus its dozen borg runs (a borg start on the client and one on the server each) at what one
    // plain borg start costs here now, measured in this test. On a loaded 2-core CI root b25's demo
    // needed more than 220 s (jsonargparse makes every b25 start slow) without anything hanging.
    const t = Date.now();
    const version = inLine(line, [line.client, '--version']);
    spawnSync(version[0]!, version.slice(1), { stdio: 'ignore' });
    const limitMs = Math.min(880_000, 220_000 + 30 * (Date.now() - t)); // under the test's own timeout
    const env = inheritedEnv(['DEMO_']);
    env.DEMO_BORG = line.name;
    // The lab's roots are found where the tests find them.
    if (process.env.TBORG_LAB_ROOTS) env.TBORG_LAB_ROOTS = process.env.TBORG_LAB_ROOTS;
    if (process.env.TBORG_LAB_SUITES) env.TBORG_LAB_SUITES = process.env.TBORG_LAB_SUITES;
    const r = await runBuffered([process.execPath, DEMO], { env, input: '', timeoutMs: limitMs });
    const out = r.stdout.toString();
    const err = r.stderr.toString();
    assert.equal(r.code, 0, `${out}\n${err}`);
    for (let step = 1; step <= 5; step++) assert.match(out, new RegExp(`^demo: step ${step}: `, 'm'));
    assert.doesNotMatch(out, /skipped/);
    assert.match(out, /tborg's archive landed [\d.]+ s after the other borg took the lock/);
    // Whether the server still holds the lock at that moment is lock-outage-e2e.test.ts's to assert (here the
    // narration may race sshd's ClientAlive under load); that the dead ssh ended, in seconds, is not.
    assert.match(out, /borg's ssh gave up [\d.]+ s after the cut \(keepalive 1x3\); the server/);
    // borg2 2.0.0b22+ reconnects by itself (borgstore's rest client); the others end and tborg retries.
    const lost = line.rest
      ? /tborg: the connection to lab was lost; retrying \(1 of 3\)|^rest: connection lost .*trying to reconnect/m
      : /tborg: the connection to lab was lost; retrying \(1 of 3\)/;
    assert.match(err, lost);
    assert.match(out, /the archive landed [\d.]+ s after the cut/);
    // The last `tborg list` shows all three archives.
    const lists = out.split(/\$ tborg (?:r|repo-)?list /);
    const last = lists[lists.length - 1]!;
    assert.deepEqual(
      [...last.matchAll(/^(demo-\d)\s/gm)].map((m) => m[1]),
      ['demo-1', 'demo-2', 'demo-3'],
    );
    assert.match(out, /^demo: all steps passed$/m);

    const cleaned = /^demo: cleaned up: sshd stopped, namespace (\S+) deleted, (\S+) removed$/m.exec(out);
    assert.ok(cleaned, out);
    assert.equal(existsSync(cleaned[2]!), false, 'the demo directory is gone');
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(namespaces, new RegExp(`^${cleaned[1]}\\b`, 'm'), 'the namespace is gone');
    const left = spawnSync('pgrep', ['-f', cleaned[2]!], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no process of the demo left');
  });
});
