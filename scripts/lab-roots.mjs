#!/usr/bin/env node
// Debian roots for the lab's version matrix: a minimal Debian of one suite with its own borg, borg2,
// ssh and sshd, so the tests run the borgs users run (sid: borg 1.4.5, borg2 2.0.0b25; trixie:
// 1.4.0, 2.0.0b19; bookworm: 1.2.x, 2.0.0b5) beside the machine's own. Built once per machine and
// cached outside the work tree; plain JavaScript with no dependencies, as it runs from setup.mjs.
//
//   node scripts/lab-roots.mjs build SUITE...   build what is missing (waits for a concurrent build)
//   node scripts/lab-roots.mjs path SUITE       print the root's directory
//   node scripts/lab-roots.mjs mirror           print the apt mirror roots are built from (empty: debootstrap's default)
//
// A finished root is <TBORG_LAB_ROOTS or /var/cache/tborg-lab>/<suite>, with `.ready` inside holding
// one `name version` line per tool (borg, borg2, borgstore, openssh). It is built in
// <suite>.build-<pid> and renamed into place only when complete, under an exclusive lock on
// <suite>.lock (flock(1)), so two test processes starting at once build it once and a crashed build
// leaves only a build directory that the next build removes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Per suite: the packages installed into the root and apt options its mirror needs.
// sid's Release file can be past its Valid-Until on a mirror (docs/facts.md).
export const SUITES = {
  sid: { aptOptions: ['-o', 'Acquire::Check-Valid-Until=false'] },
  trixie: { aptOptions: [] },
  bookworm: { aptOptions: [] },
};
// debootstrap --include cannot resolve borgbackup2's virtual dependency (python3-cffi-backend-api-*):
// the packages go in with apt-get inside the minbase root instead.
const PACKAGES = ['borgbackup', 'borgbackup2', 'openssh-client', 'openssh-server'];

// The Debian mirror this machine's apt is configured with (the archive that serves its own release,
// not -updates or -security), as apt itself resolves sources.list and sources.list.d
// (`apt-get indextargets`), so a machine behind its own mirror builds roots from it. Undefined off
// Debian or when apt names none: debootstrap then uses its own default (DEF_MIRROR in debootstrap).
export function aptMirror() {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileOr('/etc/os-release'))?.[1]?.replace(/"/g, '');
  const targets = capture(['apt-get', 'indextargets', '--format', '$(REPO_URI) $(RELEASE) $(TARGET_OF)'])
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([uri, , type]) => uri && type === 'deb');
  const own = targets.find(([, release]) => release === codename) ?? targets.find(([, release]) => !release.includes('-'));
  return own?.[0].replace(/\/$/, '');
}

// apt's configured http proxy (Acquire::http::Proxy), which debootstrap's downloader does not read
// but honours as http_proxy, and which apt inside the new root needs as an option.
function aptProxy() {
  return /^Acquire::http::Proxy "(.+)";$/m.exec(capture(['apt-config', 'dump', 'Acquire::http::Proxy']))?.[1];
}

function readFileOr(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// Where roots are cached.
export function rootsDir(env = process.env) {
  return env.TBORG_LAB_ROOTS || '/var/cache/tborg-lab';
}

// A finished root's directory (it exists only once `.ready` is in it).
export function rootPath(suite, env = process.env) {
  return join(rootsDir(env), suite);
}

// The tool versions recorded when the root was finished, or undefined when it is not built.
export function readyVersions(suite, env = process.env) {
  try {
    const text = readFileSync(join(rootPath(suite, env), '.ready'), 'utf8');
    return Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(' ', 2)),
    );
  } catch {
    return undefined;
  }
}

function run(argv, what, env = process.env) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.status !== 0) throw new Error(`lab-roots: ${what} failed (exit ${r.status ?? r.signal}): ${argv.join(' ')}`);
}

function capture(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}` : '';
}

// Version of a package installed in the root, from its dpkg database (no chroot needed).
function packageVersion(dir, pkg) {
  return capture(['dpkg-query', '--admindir', join(dir, 'var/lib/dpkg'), '-W', '-f', '${Version}', pkg]).trim();
}

// Upstream part of a Debian version: "1:10.2p1-1" -> "10.2p1", "2.0.0~b25-1" -> "2.0.0b25".
function upstream(version) {
  return version
    .replace(/^\d+:/, '')
    .replace(/-[^-]*$/, '')
    .replace(/[~+]ds\d*$/, '')
    .replace('~', '');
}

// Removes a root or a crashed build. debootstrap mounts /proc and /sys (and may bind /dev) inside
// the target while it runs: a build killed then leaves them mounted, and a plain recursive delete
// would walk into them. So: unmount everything below it first (deepest first, lazily), then
// delete without crossing into any file system that is still mounted there.
function removeTree(dir) {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  run(['rm', '-rf', '--one-file-system', dir], `removing ${dir}`);
}

function buildUnlocked(suite) {
  const spec = SUITES[suite];
  const base = rootsDir();
  const final = rootPath(suite);
  if (readyVersions(suite)) return;
  // Under the lock no other build runs: anything else here is a crashed build's leftover.
  for (const entry of readdirSync(base)) {
    if (entry.startsWith(`${suite}.build-`)) {
      console.error(`lab-roots: removing ${entry}, left by an interrupted build`);
      removeTree(join(base, entry));
    }
  }
  if (existsSync(final)) removeTree(final);
  const dir = join(base, `${suite}.build-${process.pid}`);
  const started = Date.now();
  console.error(`lab-roots: building a Debian ${suite} root in ${final} (once per machine; a few minutes)`);
  const mirror = aptMirror();
  const proxy = aptProxy();
  const bootEnv = proxy ? { ...process.env, http_proxy: proxy } : process.env;
  run(['debootstrap', '--variant=minbase', suite, dir, ...(mirror ? [mirror] : [])], `debootstrap ${suite}`, bootEnv);
  const aptEnv = ['env', 'DEBIAN_FRONTEND=noninteractive', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  const aptOptions = [...spec.aptOptions, ...(proxy ? ['-o', `Acquire::http::Proxy=${proxy}`] : [])];
  run(['chroot', dir, ...aptEnv, 'apt-get', ...aptOptions, 'update', '-qq'], `apt-get update in ${suite}`);
  run(
    ['chroot', dir, ...aptEnv, 'apt-get', ...aptOptions, 'install', '-y', '-qq', '--no-install-recommends', ...PACKAGES],
    `apt-get install in ${suite}`,
  );
  run(['chroot', dir, 'apt-get', 'clean'], `apt-get clean in ${suite}`);
  // Mount points the wrapper (test/lab/in-root) binds onto; /run/netns for `ip netns exec`.
  for (const sub of ['proc', 'dev', 'sys', 'tmp', 'run', 'run/netns', 'run/sshd', 'host']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  const versions = {
    borg: upstream(packageVersion(dir, 'borgbackup')),
    borg2: upstream(packageVersion(dir, 'borgbackup2')),
    borgstore: upstream(packageVersion(dir, 'python3-borgstore')),
    // What `ssh -V` says, which can differ from the package's version (trixie: 10.0p2 in 1:10.0p1-7).
    openssh: /OpenSSH_([^\s,]+)/.exec(capture(['chroot', dir, 'ssh', '-V']))?.[1] ?? upstream(packageVersion(dir, 'openssh-client')),
  };
  const seconds = Math.round((Date.now() - started) / 1000);
  const lines = Object.entries(versions).map(([k, v]) => `${k} ${v || 'none'}`);
  writeFileSync(join(dir, '.ready'), `${lines.join('\n')}\nbuild-seconds ${seconds}\n`);
  renameSync(dir, final);
  console.error(`lab-roots: ${suite} root ready in ${seconds} s: ${lines.join(', ')}`);
}

// Builds each missing root; a concurrent builder of the same suite is waited for through the lock.
export function build(suites) {
  mkdirSync(rootsDir(), { recursive: true });
  for (const suite of suites) {
    if (!(suite in SUITES)) throw new Error(`lab-roots: unknown suite ${suite} (known: ${Object.keys(SUITES).join(', ')})`);
    if (readyVersions(suite)) continue;
    const lock = join(rootsDir(), `${suite}.lock`);
    const self = fileURLToPath(import.meta.url);
    // flock(1) holds the lock for the child's whole life and drops it when the child dies, however.
    run(['flock', '--exclusive', lock, process.execPath, self, 'build-locked', suite], `building the ${suite} root`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...suites] = process.argv.slice(2);
  try {
    if (command === 'build') build(suites);
    else if (command === 'build-locked') buildUnlocked(suites[0]);
    else if (command === 'path') console.log(rootPath(suites[0]));
    else if (command === 'mirror') console.log(aptMirror() ?? '');
    else throw new Error('usage: lab-roots.mjs build SUITE... | path SUITE | mirror');
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
