import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OWN_COMMANDS } from '../../src/cli/own-command-words.js';
import { DEFAULT_CONNECT_TIMEOUT_SECONDS } from '../../src/guide/doctor.js';
import { inheritedEnv } from '../helpers/inherited-env.js';
import { runMainInProcess } from '../helpers/main-in-process.js';

// tborg's own commands through the real bin: the one parser's errors and help, the shell completion
// script run by a real bash, and which packages each path loads (yargs only where it parses).

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TBORG = join(ROOT, 'bin', 'tborg.js');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tborg-own-commands-'));
  // `tborg` on PATH, as the completion script calls it.
  symlinkSync(TBORG, join(dir, 'tborg'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...inheritedEnv(['ZSH_NAME']),
    PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_STATE_HOME: join(dir, 'state'),
    ...extra,
  };
}

function tborg(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
  nodeOptions: string[] = [],
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeOptions, TBORG, ...args], {
    encoding: 'utf8',
    env: cleanEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// main() in-process, for rows about what tborg's own commands say (usage, --help, completion answers):
// no node start of their own (test/helpers/main-in-process.ts).
async function tborgHere(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runMainInProcess(args, cleanEnv(extra));
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test('usage lists every own command; a bad word is one line `tborg: CMD: message (see tborg CMD --help)`, exit 2', async () => {
  const usage = await tborgHere(['--tborg-help']);
  assert.equal(usage.code, 0);
  for (const command of OWN_COMMANDS) assert.match(usage.stdout, new RegExp(`^  tborg ${command}\\b`, 'm'), command);
  for (const [args, line] of [
    [['status', '--nope'], 'tborg: status: Unknown argument: nope (see tborg status --help)\n'],
    [['sshd-config', 'extra'], 'tborg: sshd-config: Unknown argument: extra (see tborg sshd-config --help)\n'],
    [['status', '--max-age'], 'tborg: status: Not enough arguments following: max-age (see tborg status --help)\n'],
    [['status', '--max-age', '1d', '--max-age', '2d'], 'tborg: status: --max-age given more than once (see tborg status --help)\n'],
  ] as Array<[string[], string]>) {
    const r = await tborgHere(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, line);
  }
});

test("--help of each command: on stdout, exit 0; doctor's names its real connect timeout", async () => {
  for (const command of OWN_COMMANDS) {
    const r = await tborgHere([command, '--help']);
    assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`tborg ${command}\\b`), command);
    assert.match(r.stdout, /--help/, command);
    assert.equal(r.stderr, '');
  }
  assert.match((await tborgHere(['doctor', '--help'])).stdout, new RegExp(`ConnectTimeout=${DEFAULT_CONNECT_TIMEOUT_SECONDS}:`));
});

// ---- which packages load --------------------------------------------------------------------------

// A module hook (node --import) that logs every package tborg's modules resolve.
function moduleProbe(): { options: string[]; loaded: () => string[] } {
  const log = join(dir, `modules-${Math.random().toString(16).slice(2)}.log`);
  writeFileSync(log, '');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
  if (m) appendFileSync(log, m[1] + '\\n');
  return result;
}
`,
  );
  const register = join(dir, `register-${Math.random().toString(16).slice(2)}.mjs`);
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)} } });\n`,
  );
  return {
    options: ['--import', pathToFileURL(register).href],
    loaded: () => [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))],
  };
}

test('yargs loads only where it parses: not for a run, not for `plan [--json] WORD...`; for any other plan shape it does', () => {
  const borg = join(dir, 'borg');
  writeFileSync(borg, '#!/bin/sh\necho "borg 1.2.4"\n');
  chmodSync(borg, 0o755);
  const cases: Array<[string[], boolean]> = [
    [['--tborg-borg', borg, 'list', join(dir, 'repo')], false],
    [['--tborg-borg', borg, 'plan', '--json', 'list', join(dir, 'repo')], false],
    [['--tborg-borg', borg, 'plan', 'list', join(dir, 'repo')], false],
    [['--tborg-borg', borg, 'plan', '--json', '--json', 'list', join(dir, 'repo')], true],
    [['plan', '--help'], true],
    [['status', '--help'], true],
  ];
  for (const [args, yargs] of cases) {
    const probe = moduleProbe();
    const r = tborg(args, {}, probe.options);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const loaded = probe.loaded();
    assert.equal(loaded.includes('yargs'), yargs, `${args.join(' ')}: ${loaded.join(' ')}`);
    assert.ok(!loaded.includes('execa'), `${args.join(' ')}: ${loaded.join(' ')}`);
  }
});

// ---- shell completion -----------------------------------------------------------------------------

// What bash offers: the script sourced, COMP_WORDS/COMP_CWORD set as bash sets them, the function run.
function bashCompletes(script: string, words: string[]): string[] {
  const file = join(dir, 'tborg-completion.bash');
  writeFileSync(file, script);
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _tborg_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', file, ...words], {
    encoding: 'utf8',
    env: cleanEnv({ SHELL: '/bin/bash' }),
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

const bash = spawnSync('bash', ['-c', 'type mapfile compgen'], { stdio: 'ignore' }).status === 0;

test("bash: tborg's own commands and their options, nothing for borg's words", { skip: !bash && 'no bash with mapfile' }, () => {
  const script = tborg(['shell-completion'], { SHELL: '/bin/bash' });
  assert.equal(script.code, 0, script.stderr);
  assert.match(script.stdout, /^###-begin-tborg-completions-###$/m);
  assert.match(script.stdout, /tborg shell-completion >> ~\/\.bashrc/);
  assert.match(script.stdout, /^complete .* -F _tborg_yargs_completions tborg$/m);
  const table: Array<[string[], string[]]> = [
    [['tborg', ''], [...OWN_COMMANDS].sort()],
    [
      ['tborg', 'ss'],
      ['ssh-config', 'sshd-config'],
    ],
    [['tborg', 'au'], ['authorized-keys']],
    // borg's commands are borg's: tborg offers none (bash then falls back to file names).
    [['tborg', 'cr'], []],
    [['tborg', 'create', '--st'], []],
    [['tborg', 'list', ''], []],
    [['tborg', 'ssh-config', '--w'], ['--write']],
    [['tborg', 'ssh-config', 'host', '--k'], ['--keepalive']],
    [
      ['tborg', 'authorized-keys', '--re'],
      ['--remote-path', '--restrict-to-path', '--restrict-to-repository'],
    ],
    [['tborg', 'plan', '--j'], ['--json']],
    // After plan's first borg word, --json is borg's (own-command-words.ts).
    [['tborg', 'plan', 'list', '--j'], []],
    [
      ['tborg', 'status', '--'],
      ['--forget', '--help', '--json', '--max-age'],
    ],
  ];
  for (const [words, expected] of table) assert.deepEqual(bashCompletes(script.stdout, words), expected, words.join(' '));
});

// Spawned: yargs tells zsh from bash by the process's own SHELL (yargs completion.js), not main's env.
test("zsh: the script is zsh's, and the answers carry zsh's descriptions", () => {
  const script = tborg(['shell-completion'], { SHELL: '/usr/bin/zsh' });
  assert.equal(script.code, 0, script.stderr);
  assert.match(script.stdout, /^#compdef tborg$/m);
  assert.match(script.stdout, /tborg --get-yargs-completions "\$\{words\[@\]\}"/);
  assert.match(script.stdout, /compdef _tborg_yargs_completions tborg/);
  // What the script gets back for `tborg <TAB>` and `tborg cr<TAB>` (zsh passes every word, current last).
  const all = tborg(['--get-yargs-completions', 'tborg', ''], { SHELL: '/usr/bin/zsh' });
  assert.equal(all.code, 0, all.stderr);
  const names = all.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(':')[0]);
  assert.deepEqual(names.sort(), [...OWN_COMMANDS].sort());
  assert.match(all.stdout, /^plan:show what a run of these borg arguments would do/m);
  const borgWord = tborg(['--get-yargs-completions', 'tborg', 'create', ''], { SHELL: '/usr/bin/zsh' });
  assert.equal(borgWord.stdout, '');
});

test("`tborg completion SHELL` is borg 2's own command: it goes to borg untouched", () => {
  const borg = join(dir, 'echo-borg');
  writeFileSync(borg, '#!/bin/sh\nprintf "%s|" "$@"\n');
  chmodSync(borg, 0o755);
  const r = tborg(['--tborg-borg', borg, 'completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'completion|bash|');
});

test('a completion request never runs the command it names', async () => {
  const r = await tborgHere(['--get-yargs-completions', 'tborg', 'status', '--json', '']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /exitCode|repositories/);
  assert.equal(r.stderr, '');
});
