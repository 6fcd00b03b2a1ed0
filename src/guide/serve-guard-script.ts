import {
  GUARD_BANNER,
  GUARD_PROBE_OPTION,
  GUARD_TERM_GRACE_SECONDS,
  RUN_TOKEN_VARIABLE,
  SERVE_GUARD_VERSION,
} from '../plan/serve-guard-protocol.js';

// The server half's guard (README "The server half"): the text of the Python 3 program that a key's
// forced command runs in front of `borg serve`. Python 3, because it is on every server that runs a
// packaged borg (borg is a Python program) and it has flock, exec and /proc without any tool more;
// the guard must run where there is borg and nothing else (no Node).
//
// The protocol with the client (src/plan/run-token.ts): the client's remote path becomes
// `TBORG_RUN=<32 hex digits> borg`, so the remote command is `TBORG_RUN=<token> borg serve ...`.
// A login shell takes the word as an assignment; `borg serve` under a forced command drops leading
// words that contain `=` before parsing SSH_ORIGINAL_COMMAND (archiver.py get_args in borg 1.2.4 and
// 1.4.5, archiver/__init__.py in 2.0.0b5: "Drop environment variables (do *not* interpret them)").
// The constants of that protocol: src/plan/serve-guard-protocol.ts.

// The script. No `${` and no backquote inside (a template literal); String.raw keeps Python's
// backslashes as written.
export function buildServeGuardScript(): string {
  return SCRIPT.replaceAll('@VERSION@', String(SERVE_GUARD_VERSION))
    .replaceAll('@TERM_GRACE@', String(GUARD_TERM_GRACE_SECONDS))
    .replaceAll('@PROBE@', GUARD_PROBE_OPTION)
    .replaceAll('@VARIABLE@', RUN_TOKEN_VARIABLE)
    .replaceAll('@BANNER@', GUARD_BANNER);
}

const SCRIPT = String.raw`#!/usr/bin/env python3
# tborg-serve-guard @VERSION@, written by tborg (tborg authorized-keys --guard; README "The server half").
#
# The forced command of a borg key in ~/.ssh/authorized_keys, in front of borg serve:
#   command="/home/u/.local/bin/tborg-serve-guard borg serve --restrict-to-path /srv/borg",restrict ssh-ed25519 ...
# Its arguments are the borg serve command line to run.
#
# A tborg client sends the remote command "@VARIABLE@=<token> borg serve ...", one fresh token per
# tborg run (borg serve drops leading NAME=value words of SSH_ORIGINAL_COMMAND: borg's archiver.py
# get_args). tborg starts another attempt only after the previous borg and its ssh have ended, so a
# borg serve of the same token that is still running has lost its client for certain, and with it
# holds the repository lock until this server's sshd notices (2 h 11 min with sshd's defaults).
# With a token the guard records its pid under it and ends such an earlier serve of the same token
# (SIGTERM: borg rolls back and releases the lock; SIGKILL after a grace: the next borg on this host
# removes a dead pid's lock), then becomes borg serve itself (exec: same pid).
# It never touches a serve of another token, of another user, or one started without a token.
# Without a token, with a malformed one, or for a command that is not borg serve, it only runs borg
# serve, as the forced command did without it. If its own bookkeeping fails, it says so on stderr
# and still runs borg serve.
import fcntl
import os
import re
import shlex
import signal
import subprocess
import sys
import time

VERSION = @VERSION@
TOKEN = re.compile(r"[0-9a-f]{32}\Z")
PROBE = "@PROBE@"
TERM_GRACE = @TERM_GRACE@
KILL_GRACE = 5
# Records of other tokens older than this whose process is gone are removed.
STALE_RECORD = 86400
HAVE_PROC = os.path.exists("/proc/self/stat")


def note(text):
    try:
        sys.stderr.write("@BANNER@: %s\n" % text)
        sys.stderr.flush()
    except Exception:
        pass


def read_request(original):
    """(token, probe) of a borg serve request; token None when there is none or it is malformed."""
    if not original:
        return None, False
    try:
        words = shlex.split(original)
    except ValueError:
        return None, False
    tokens = []
    i = 0
    while i < len(words) and "=" in words[i]:
        name, _, value = words[i].partition("=")
        if name == "@VARIABLE@":
            tokens.append(value)
        i += 1
    rest = words[i:]
    if len(tokens) != 1 or not TOKEN.match(tokens[0]) or len(rest) < 2 or rest[1] != "serve":
        return None, False
    return tokens[0], rest[2:] == [PROBE]


def identity(pid):
    """The start time of a live process (to tell it from a later one with the same pid), else None."""
    if HAVE_PROC:
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                stat = f.read()
        except OSError:
            return None
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] in (b"Z", b"X"):
            return None
        return fields[19].decode()
    try:
        out = subprocess.run(["ps", "-o", "stat=", "-o", "lstart=", "-p", str(pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().split(None, 1)
    except OSError:
        return None
    if len(out) != 2 or out[0].startswith("Z"):
        return None
    return out[1].strip()


def state_dir():
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if not (base.startswith("/") and os.path.isdir(base)):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "tborg-serve-guard")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def read_record(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    lines = os.read(fd, 4096).decode("ascii", "replace").split("\n")
    if len(lines) >= 2 and lines[0].isdigit() and lines[1]:
        return int(lines[0]), lines[1]
    return None


def end_serve(pid, started):
    def alive():
        return identity(pid) == started
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + TERM_GRACE
    while alive():
        if time.monotonic() > deadline:
            note("borg serve %d of this run did not end %d s after SIGTERM: SIGKILL" % (pid, TERM_GRACE))
            if alive():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    return
            deadline = time.monotonic() + KILL_GRACE
            while alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        time.sleep(0.05)


def prune(directory, keep):
    now = time.time()
    for name in os.listdir(directory):
        if name == keep or not TOKEN.match(name):
            continue
        path = os.path.join(directory, name)
        try:
            if now - os.stat(path).st_mtime < STALE_RECORD:
                continue
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            record = read_record(fd)
            if record is None or identity(record[0]) != record[1]:
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def take_over(token):
    directory = state_dir()
    # Python opens with O_CLOEXEC (PEP 446): the exec below closes the file, which releases the lock,
    # after this connection's record is written. Two connections at once take turns here.
    fd = os.open(os.path.join(directory, token), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    record = read_record(fd)
    me = os.getpid()
    if record is not None and record[0] != me and identity(record[0]) == record[1]:
        end_serve(record[0], record[1])
    started = identity(me)
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    if started is not None:
        os.write(fd, ("%d\n%s\n" % (me, started)).encode("ascii"))
    prune(directory, token)


def main(argv):
    if argv == ["--version"]:
        print("@BANNER@ %d" % VERSION)
        return 0
    if not argv:
        note("usage: @BANNER@ BORG serve [OPTION...] (the forced command of a key in ~/.ssh/authorized_keys)")
        return 2
    token, probe = read_request(os.environ.get("SSH_ORIGINAL_COMMAND"))
    if probe:
        print("@BANNER@ %d" % VERSION)
        return 0
    if token is not None:
        try:
            take_over(token)
        except Exception as error:
            note("could not look for an earlier borg serve of this run: %s" % error)
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        note("cannot run %s: %s" % (argv[0], error.strerror))
        return 127 if isinstance(error, FileNotFoundError) else 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;
