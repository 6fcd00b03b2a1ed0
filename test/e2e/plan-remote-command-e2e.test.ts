import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listArchivesArgs } from '../lab/borgs.js';
import { describeEachLine } from '../lab/each-line.js';
import { labAvailable, startLab, type Lab } from '../lab/lab.js';

// README "What tborg does on a run": `tborg plan` shows the command borg sends to the server as borg
// sends it. The referee is borg itself: with --debug, borg 1.x and 2.0.0b5 log the whole ssh argv
// (remote.py RemoteRepository.__init__: "SSH command line: [...]"), remote command included.
// Lines whose client runs `borg serve` itself (borg2 b22+'s rest command is borgstore's).

const TBORG = join(import.meta.dirname, '..', '..', '..', 'bin', 'tborg.js');
const available = labAvailable({ matrix: true });

describeEachLine('plan shows the remote command', { skip: available.ok ? false : available.why, lines: (l) => !l.rest }, (line) => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ line, name: `remote-${line.name}` });
  });
  after(async () => lab?.close());

  // What borg logs it runs: the words after the destination, up to its own options.
  async function borgSends(args: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
    const r = await lab.run([line.client, '--debug', ...args], { env: lab.env(env), timeoutMs: 60_000 });
    const logged = /SSH command line: (\[.*\])/.exec(r.stderr.toString());
    assert.ok(logged, r.stderr.toString());
    const argv = JSON.parse(logged[1]!.replaceAll("'", '"')) as string[];
    const serve = argv.indexOf('serve');
    return argv.slice(serve - 1, serve + 1);
  }

  const repo = (): string => lab.repoUrl('nothing-here');
  const cases: Array<[string, (r: string) => string[], NodeJS.ProcessEnv]> = [
    ['BORG_REMOTE_PATH', (r) => listArchivesArgs(line, r), { BORG_REMOTE_PATH: '/opt/borg-from-env' }],
    [
      '--remote-path over BORG_REMOTE_PATH',
      (r) => ['--remote-path', '/opt/borg-from-option', ...listArchivesArgs(line, r)],
      { BORG_REMOTE_PATH: '/opt/borg-from-env' },
    ],
  ];
  for (const [name, args, env] of cases) {
    test(`${name}: the words borg sends`, async () => {
      const sent = await borgSends(args(repo()), env);
      const plan = await lab.run([process.execPath, TBORG, 'plan', '--json', ...args(repo())], { env: lab.env(env) });
      const json = JSON.parse(plan.stdout.toString()) as { ssh: { remoteCommand: string[] } };
      assert.deepEqual(json.ssh.remoteCommand, sent);
      const text = await lab.run([process.execPath, TBORG, 'plan', ...args(repo())], { env: lab.env(env) });
      assert.match(text.stdout.toString(), new RegExp(`^ssh argv: .* ${sent.join(' ')} \\.\\.\\.$`, 'm'));
    });
  }
});
