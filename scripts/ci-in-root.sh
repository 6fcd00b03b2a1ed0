#!/usr/bin/env bash
# Runs CI (.ci/run, i.e. `npm test` as a newcomer gets it) inside a minimal Debian root of another
# release, so that "the suite passes on Debian 13" is something anyone can check from a Debian 12
# machine (and the other way round).
#
#   sudo scripts/ci-in-root.sh trixie            # Debian 13: borg 1.4.0, borg2 2.0.0b19, OpenSSH 10.0
#   sudo scripts/ci-in-root.sh trixie borg-help  # extra words narrow the tests, as run-tests.mjs does
#
# The root is debootstrapped once (--variant=minbase, from the mirror this machine's apt uses, else
# debootstrap's default: `scripts/lab-roots.mjs mirror`) into
# /var/cache/tborg-lab/SUITE-ci (TBORG_CI_ROOT overrides) and reused; `apt-get install` of borg,
# borg2, openssh and iproute2/iptables happens inside it, by scripts/setup.mjs, as on a fresh machine.
# The project is cloned from this work tree's committed HEAD into ROOT/root/tborg on every run:
# what is tested is what is committed. The host's node (and npm) are bound in read-only: a Debian
# root has no node 20, and the host's binary runs there (docs/facts.md).
#
# Everything is mounted in a private mount namespace (unshare), so no mount outlives the run. The
# root is bind-mounted onto itself because `ip netns` (the lab's network namespaces) needs / to be a
# mount point; /run is a fresh tmpfs for /run/netns.
set -euo pipefail

suite=${1:?usage: scripts/ci-in-root.sh SUITE [TEST-FILTER...]}
shift
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-in-root: must run as root (debootstrap, chroot, network namespaces)" >&2
  exit 1
fi
src=$(cd "$(dirname "$0")/.." && pwd)
root=${TBORG_CI_ROOT:-/var/cache/tborg-lab/$suite-ci}
node=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")

if [ ! -x "$root/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || { echo "ci-in-root: apt-get install debootstrap first" >&2; exit 1; }
  mkdir -p "$(dirname "$root")"
  mirror=$(node "$src/scripts/lab-roots.mjs" mirror)
  # shellcheck disable=SC2086 # no mirror word at all when apt names none
  debootstrap --variant=minbase "$suite" "$root" $mirror
fi

branch=$(git -C "$src" rev-parse --abbrev-ref HEAD)
rm -rf "$root/root/tborg"
git clone -q --branch "$branch" "$src" "$root/root/tborg"
# node_modules comes from this work tree (same package-lock.json) when it has one: a root has no
# access to whatever CA or proxy this machine's npm is set up with, and npm's registry is not what
# this run tests. Without it, setup.mjs runs `npm ci` inside the root as on a fresh machine.
if [ -d "$src/node_modules" ]; then cp -a "$src/node_modules" "$root/root/tborg/node_modules"; fi
echo "ci-in-root: $suite root $root, tborg $(git -C "$root/root/tborg" log -1 --format='%h %s')"

mkdir -p "$root/usr/local/lib/node_modules/npm" "$root/usr/local/bin"
touch "$root/usr/local/bin/node"
ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp /etc/resolv.conf "$root/etc/resolv.conf"

filters=''
if [ $# -gt 0 ]; then filters=$(printf '%q ' "$@"); fi
labroots=${TBORG_LAB_ROOTS:-/var/cache/tborg-lab}
export root node npm_dir filters labroots
start=$(date +%s)
set +e
unshare --mount --propagation private bash -euc '
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  mount --bind -o ro "$node" "$root/usr/local/bin/node"
  mount --bind -o ro "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  # The version matrix'"'"'s Debian roots (scripts/lab-roots.mjs) are this machine'"'"'s cache, shared: built
  # once, locked while being built, whoever asks first.
  mkdir -p "$labroots" "$root$labroots"
  mount --bind "$labroots" "$root$labroots"
  if [ -z "$filters" ]; then cmd="bash .ci/run"; else cmd="node scripts/run-tests.mjs $filters"; fi
  exec chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root CI=true LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TBORG_TEST_CONCURRENCY="${TBORG_TEST_CONCURRENCY:-}" TBORG_LAB_ROOTS="$labroots" \
    bash -c "cd /root/tborg && [ -n \"\$TBORG_TEST_CONCURRENCY\" ] || unset TBORG_TEST_CONCURRENCY; $cmd"
'
rc=$?
echo "ci-in-root: $suite exit $rc after $(( $(date +%s) - start )) s"
exit $rc
