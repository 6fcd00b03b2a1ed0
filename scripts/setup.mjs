#!/usr/bin/env node
// Set-up shared by `npm test`, `npm run demo` and `npm run bench` on a fresh Debian machine:
// npm dependencies when node_modules is missing, a fresh build, and the system packages the lab
// needs. Plain JavaScript with no dependencies: it runs before anything is installed.
//
//   node scripts/setup.mjs test|demo|bench|unit
//
// `unit` (scripts/run-tests.mjs, when only test/unit runs) is npm dependencies and the build only:
// the fast loop needs no system package and no lab root.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv[2] ?? 'test';

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.status !== 0) {
    console.error(`setup: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function onPath(name) {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// Debian packages, by the command that shows each is there. borg2 is needed by the tests only.
const needed =
  purpose === 'unit'
    ? []
    : [
        ['borg', 'borgbackup'],
        ['ssh', 'openssh-client'],
        ['sshd', 'openssh-server'],
        ['ssh-keygen', 'openssh-client'],
        ['ip', 'iproute2'],
        ['iptables', 'iptables'],
        ...(purpose === 'test' ? [['borg2', 'borgbackup2']] : []),
        // Builds the lab's Debian roots (below); only root can use it.
        ...(purpose === 'test' && process.getuid?.() === 0 ? [['debootstrap', 'debootstrap']] : []),
      ];
const missing = [...new Set(needed.filter(([cmd]) => !onPath(cmd)).map(([, pkg]) => pkg))];
if (missing.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    console.error(`setup: missing ${missing.join(', ')}; run: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`setup: installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

if (!existsSync(join(root, 'node_modules'))) {
  console.error('setup: installing npm dependencies');
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);
}
// The Debian roots of the lab's version matrix (scripts/lab-roots.mjs; once per machine, then cached).
// Root only: debootstrap and the lab itself need it; without root the lab tests skip (or fail
// under TBORG_REQUIRE_LAB=1, as in .ci/run). Kept in step with wantedSuites in test/lab/borgs.ts.
function wantedSuites() {
  if (process.env.TBORG_LAB_SUITES !== undefined)
    return process.env.TBORG_LAB_SUITES.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const r = spawnSync('borg', ['--version'], { encoding: 'utf8' });
  return /^borg 1\.2\./.test(r.stdout ?? '') ? ['sid'] : ['sid', 'bookworm'];
}
if (purpose === 'test' && process.getuid?.() === 0) {
  run(process.execPath, [join(root, 'scripts', 'lab-roots.mjs'), 'build', ...wantedSuites()]);
}

// A stale dist/ must never be what gets tested, so tsc runs (incrementally) unless nothing it reads
// changed since its last successful run: no file or folder under src/, test/, scripts/ (a folder's
// time changes when a file in it is added, renamed or removed) and not tsconfig.json or
// package-lock.json. That check costs a few milliseconds; tsc finding nothing to do costs about 3 s
// of CPU, most of the fast loop's set-up.
// The stamp is setup's own: tsc's .tsbuildinfo is also written by `tsc --noEmit`, which emits nothing.
const buildStamp = join(root, 'dist', '.setup-build');
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const s = statSync(path);
    newest = Math.max(newest, s.mtimeMs);
    if (s.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const name of ['src', 'test', 'scripts', 'tsconfig.json', 'package-lock.json'])
    if (existsSync(join(root, name))) visit(join(root, name));
  return newest;
}
if (!existsSync(buildStamp) || statSync(buildStamp).mtimeMs < newestInput()) {
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  writeFileSync(buildStamp, `${new Date().toISOString()}\n`);
}
