"""Process isolation for untrusted student code (stdlib only; Linux first).

``run_sandboxed(argv, ...)`` runs one untrusted command and returns a :class:`SandboxResult`.

How it works (Linux, started as root -- the CI and ``coursekit autograde`` case)::

    grader (this process, never runs student code)
      └─ supervisor  (fresh ``python -I -S sandbox.py``; root; watches a control pipe)
           └─ init    (pid 1 of new pid+mount+net+ipc+uts namespaces; root inside them)
                └─ child (the command: own session, rlimits, dedicated uid/gid, umask 077)

* The child sees a chroot built from read-only bind mounts of an allow-list (``/usr``,
  ``/etc``, the Python prefixes, the venv, the ``coursekit`` package, ``readonly_paths``),
  its scratch directory (read-write), a fresh ``/tmp`` and ``/dev/shm`` (size-capped tmpfs),
  a few device nodes and its own ``/proc``.  Nothing else of the host (``solutions/``, the
  gradebook, the course config, other submissions) exists in its view.
* It runs as a dedicated, otherwise unused uid/gid (one per concurrent slot, allocated with
  ``flock`` so parallel graders and pytest-xdist workers never share one): ``RLIMIT_NPROC``
  then bounds exactly its processes, it cannot signal or ptrace the grader, and every
  leftover process of that uid is killed after the run.
* Network: a new, empty network namespace (only an isolated loopback).
* When the child's main process ends (or the wall clock / output cap is hit) init exits and
  the kernel kills every process left in the pid namespace -- detached daemons and double
  forks included.  If the supervisor dies, init dies (``PR_SET_PDEATHSIG``); if the grader
  dies, the supervisor sees EOF on its control pipe and kills everything.
* Warm start (``warm=``, root mode): instead of a fresh supervisor interpreter and a fresh
  child interpreter, the supervisor is forked from a zygote (:mod:`coursekit.grading.zygote`)
  that imported the child's modules once, before any run; the fork enters new namespaces,
  the chroot, the uid and the limits exactly as above, and only the final ``execve`` is
  replaced by running the module in the warm interpreter.  The zygote holds nothing of any
  run (no cells, no inputs) and only modules the child may see anyway.

Without root (or where namespaces are unavailable) it degrades to "basic" mode, reported
in ``SandboxResult.isolation``: same-uid child in its own session with the rlimits, a
scrubbed environment and a scratch cwd; the supervisor is a child subreaper
(``PR_SET_CHILD_SUBREAPER``) that kills every descendant (double forks included) when the
run ends.  Residual risks in basic mode: the child can read/write whatever the grader's uid
can (keep hidden tests/gradebook out of reach, e.g. run as root, or a dedicated account),
it could signal the grader by pid (it never learns it from ``getppid()``, which is the
supervisor, but could scan ``/proc``), and it has the network.

Status strings: ``"ok"``, ``"timeout"``, ``"error: exit code N"``, ``"error: killed by
signal N"``, ``"error: memory limit"``, ``"error: cpu limit"``, ``"error: output limit"``,
``"error: result limit"``, ``"error: file size limit"``, ``"error: sandbox: <why>"``.
``memory limit`` and ``file size limit`` are inferred from a failed exit plus the error
text (``MemoryError``, ``File too large`` ...) -- a child can only fake them to its own cost.
"""
from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

__all__ = ["Limits", "SandboxResult", "run_sandboxed", "kill_uid"]

LINUX = sys.platform.startswith("linux")
UID_BASE = int(os.environ.get("COURSEKIT_SANDBOX_UID_BASE", "1900000000"))
MAX_SLOTS = 256
LOCK_DIR = Path(tempfile.gettempdir()) / f"coursekit-sandbox-locks-{os.geteuid()}"
RESULT_FD = 3  # fd number of the result pipe inside the child (env COURSEKIT_RESULT_FD)
_PKG_DIR = Path(__file__).resolve().parent.parent  # coursekit/

# Linux constants (sched.h, mount.h, prctl.h)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run (all per run; ``*_mb`` in MiB)."""

    wall_s: float = 60.0          # wall clock, enforced by the grader -> "timeout"
    cpu_s: int = 60               # RLIMIT_CPU of each process -> "error: cpu limit"
    memory_mb: int = 2048         # RLIMIT_AS (address space) of each process; torch needs ~3300
    nproc: int = 64               # RLIMIT_NPROC (processes of the sandbox uid; root mode)
    fsize_mb: int = 64            # RLIMIT_FSIZE: largest file the child may write
    nofile: int = 256             # RLIMIT_NOFILE
    output_bytes: int = 1_000_000  # kept per stream (stdout, stderr); the rest is read and dropped
    output_kill_bytes: int = 256 * 1024 * 1024  # total stdout+stderr past which the run is killed
    result_bytes: int = 64_000_000  # cap on the result pipe -> "error: result limit"
    tmp_mb: int = 64              # size of the private /tmp and /dev/shm (root mode)
    total_memory_mb: int = 4096   # resident memory of ALL the child's processes (root mode,
                                  # polled every 0.25 s) -> "error: memory limit"
    data_mb: int | None = None    # RLIMIT_DATA of each process (private writable memory: close to
                                  # what it really uses, unlike the address space): an allocation
                                  # past it fails with MemoryError in the child; None -> no limit

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None and f.name == "data_mb":
                continue
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {v!r}")


@dataclasses.dataclass
class SandboxResult:
    """What one sandboxed run did.  ``stdout``/``stderr`` are capped at ``Limits.output_bytes``."""

    status: str
    returncode: int | None          # exit code; negative = killed by that signal; None = unknown
    stdout: bytes = b""
    stderr: bytes = b""
    result: bytes | None = None     # bytes the child wrote to fd $COURSEKIT_RESULT_FD
    seconds: float = 0.0            # wall-clock seconds
    cpu_s: float = 0.0              # user+system CPU seconds of the main child (and what it waited for)
    max_rss_mb: float = 0.0
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    files: dict = dataclasses.field(default_factory=dict)           # collected files: name -> bytes
    collect_errors: dict = dataclasses.field(default_factory=dict)  # name -> why not collected
    isolation: dict = dataclasses.field(default_factory=dict)       # what took effect

    @property
    def wall_s(self) -> float:
        return self.seconds

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --------------------------------------------------------------------------- grader side
def run_sandboxed(
    argv: Sequence[str],
    *,
    workdir: str | Path | None = None,
    files: Mapping[str, bytes | str | Path] | None = None,
    stdin: bytes | None | Callable[[bytes], bytes | None] = None,
    env: Mapping[str, str] | None = None,
    limits: Limits = Limits(),
    collect: Mapping[str, int] | None = None,
    readonly_paths: Sequence[str | Path] = (),
    package: Sequence[str] | None = None,
    mode: str = "auto",
    warm: Sequence[str] = (),
) -> SandboxResult:
    """Run untrusted ``argv`` isolated; return a :class:`SandboxResult` (never raises for
    anything the child does).

    argv: the command (``argv[0]`` an absolute path, e.g. ``sys.executable``).
    workdir: scratch directory used as the child's cwd (yours: not deleted); None -> a fresh
        temporary directory, deleted afterwards.
    files: ``{relative name: bytes | str | host Path}`` written into the scratch dir first.
    stdin: bytes fed to the child's stdin; None -> stdin is ``/dev/null`` (closed); or a
        callable ``feed(chunk) -> bytes | None`` for a conversation: it is called with b"" at
        the start and then with every chunk the child writes to its result fd; the bytes it
        returns are written to the child's stdin; returning None closes stdin (after what is
        pending).  E.g. send hidden inputs only after the child reported its cells ran.
    env: extra variables on top of a scrubbed environment (nothing else is inherited).
    collect: ``{relative name: max bytes}`` regular files read back from the scratch dir.
    readonly_paths: extra host paths the child may read (root mode: nothing else is visible).
    package: the parts of the ``coursekit`` package the child may see (root mode), as paths
        relative to ``coursekit/``, e.g. ``("__init__.py", "config.py", "grading")``; None ->
        all of it.  Hide reference implementations students must write themselves (``nn``).
    mode: "auto" (namespaces + dedicated uid when root), or "basic" (force the fallback).
    warm: modules to import once in a pre-forked interpreter (:mod:`coursekit.grading.zygote`;
        root mode, ``argv`` = ``[sys.executable, "-m" | "-c", ...]``): the run forks from it,
        entering the same namespaces, chroot, uid and limits, instead of starting two fresh
        interpreters. Where no zygote can serve the run it starts cold, with the same result.
    """
    if not argv or not all(isinstance(a, str) for a in argv):
        raise TypeError(f"argv must be a non-empty list of str, got {argv!r}")
    if not os.path.isabs(argv[0]):
        raise ValueError(f"argv[0] must be an absolute path (e.g. sys.executable), got {argv[0]!r}")
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a coursekit.grading.sandbox.Limits, got {type(limits).__name__}")
    if mode not in ("auto", "basic"):
        raise ValueError(f"mode must be 'auto' or 'basic', got {mode!r}")
    if os.name != "posix":
        raise RuntimeError("the coursekit sandbox needs a POSIX system (Linux; macOS in basic mode)")
    if stdin is not None and not isinstance(stdin, (bytes, bytearray)) and not callable(stdin):
        raise TypeError(f"stdin must be bytes, a callable or None, got {type(stdin).__name__}")

    root_mode = mode == "auto" and LINUX and os.geteuid() == 0
    own_scratch = workdir is None
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-sbx-")) if own_scratch else Path(workdir)
    scratch = scratch.resolve()
    if not scratch.is_dir():
        raise ValueError(f"workdir {str(scratch)!r} is not an existing directory")
    slot = None
    newroot = None
    t0 = time.monotonic()
    try:
        _write_files(scratch, files or {})
        uid = gid = None
        if root_mode:
            slot = _Slot.acquire()
            uid = gid = slot.uid
            kill_uid(uid)  # leftovers of a crashed earlier run
            _chown_tree(scratch, uid, gid)
            newroot = Path(tempfile.mkdtemp(prefix="coursekit-sbx-root-"))
        cfg = {
            "argv": list(argv),
            "env": _child_env(argv, env),
            "cwd": str(scratch),
            "limits": dataclasses.asdict(limits),
            "uid": uid,
            "gid": gid,
            "namespaces": root_mode,
            "newroot": str(newroot) if newroot else None,
            "ro_paths": _ro_paths(argv, readonly_paths, package) if root_mode else [],
        }
        res = _supervise(cfg, stdin, limits, uid, tuple(warm) if root_mode else ())
        res.seconds = time.monotonic() - t0
        if uid is not None:
            res.isolation["leftover_killed"] = kill_uid(uid)
        for name, cap in (collect or {}).items():
            try:
                res.files[name] = _read_capped(scratch, name, cap)
            except (OSError, ValueError) as e:
                res.collect_errors[name] = str(e)
        return res
    finally:
        if slot is not None:
            kill_uid(slot.uid)
            if not own_scratch:  # give the caller's directory back
                _chown_tree(scratch, os.geteuid(), os.getegid())
        if newroot is not None:
            try:
                newroot.rmdir()
            except OSError:
                pass
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        if slot is not None:
            slot.release()


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real or effective uid is ``uid`` (never uid 0 or our own);
    repeat until none is left (max ~2 s).  Returns how many were killed."""
    if uid in (0, os.getuid(), os.geteuid()) or not LINUX:
        return 0
    killed = 0
    for _ in range(200):
        pids = _pids_of_uid(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    return killed


def _pids_of_uid(uid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        ids = [int(x) for x in line.split()[1:]]
                        if uid in ids:
                            with open(f"/proc/{d}/stat", "rb") as g:
                                st = g.read().rsplit(b")", 1)[1].split()
                            if st[0] != b"Z":  # zombies are already dead
                                out.append(int(d))
                        break
        except (OSError, ValueError, IndexError):
            pass
    return out


def _rss_of_uid(uid: int) -> int:
    """Total resident memory (bytes) of the processes of ``uid``."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in _pids_of_uid(uid):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
    return total


def _pss_of_uid(uid: int) -> int:
    """Total proportional set size (bytes) of the processes of ``uid``: shared pages (a
    fork's copy-on-write memory, libraries) split between the processes sharing them."""
    total = 0
    for pid in _pids_of_uid(uid):
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            try:
                with open(f"/proc/{pid}/statm", "rb") as f:
                    total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                pass
    return total


class _Slot:
    """A dedicated uid, held with an exclusive ``flock`` for the duration of one run."""

    _lock = threading.Lock()

    def __init__(self, uid: int, fd: int):
        self.uid, self.fd = uid, fd

    @classmethod
    def acquire(cls) -> "_Slot":
        import fcntl
        import pwd

        LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(LOCK_DIR)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise RuntimeError(f"{LOCK_DIR} must be a directory owned by uid {os.geteuid()}, mode 700")
        deadline = time.monotonic() + 600
        while True:
            with cls._lock:
                for i in range(MAX_SLOTS):
                    uid = UID_BASE + i
                    try:
                        pwd.getpwuid(uid)
                        continue  # a real account: never borrow it
                    except KeyError:
                        pass
                    fd = os.open(LOCK_DIR / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        return cls(uid, fd)
                    except OSError:
                        os.close(fd)
            if time.monotonic() > deadline:
                raise RuntimeError(f"no free sandbox slot among {MAX_SLOTS} (lock dir {LOCK_DIR})")
            time.sleep(0.05)

    def release(self) -> None:
        os.close(self.fd)  # closing drops the flock


def _child_env(argv: Sequence[str], extra: Mapping[str, str] | None) -> dict:
    bindir = os.path.dirname(argv[0])
    env = {
        "PATH": os.pathsep.join(dict.fromkeys([bindir, "/usr/local/bin", "/usr/bin", "/bin"])),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": "/tmp", "TMPDIR": "/tmp", "USER": "student", "LOGNAME": "student",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "COURSEKIT_RESULT_FD": str(RESULT_FD),
        # the coursekit of this checkout (not an installed copy of another clone): a clone
        # grades with its own child code (its parts are the ones bound into the view)
        "PYTHONPATH": str(_PKG_DIR.parent),
    }
    if "COURSEKIT_FAST" in os.environ:
        env["COURSEKIT_FAST"] = os.environ["COURSEKIT_FAST"]
    for k, v in (extra or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"env must map str to str, got {k!r}: {v!r}")
        env[k] = v
    return env


def _ro_paths(argv: Sequence[str], extra: Sequence[str | Path],
              package: Sequence[str] | None = None) -> list[str]:
    import sysconfig

    cands = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
             sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(argv[0])]
    if package is None:
        cands.append(str(_PKG_DIR))
    else:
        if isinstance(package, str):
            raise TypeError("package must be a sequence of paths inside coursekit/, not a str")
        for rel in package:
            p = Path(rel)
            if p.is_absolute() or ".." in p.parts or not p.parts:
                raise ValueError(f"package entries must be paths inside coursekit/, got {rel!r}")
            if not (_PKG_DIR / p).exists():
                raise ValueError(f"package entry {rel!r} does not exist in {_PKG_DIR}")
            cands.append(str(_PKG_DIR / p))
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            cands.append(p)
    cands += [str(p) for p in extra]
    out: list[str] = []
    for p in cands:
        if os.path.lexists(p) and os.path.isabs(p):
            out.append(os.path.normpath(p))
    return list(dict.fromkeys(out))


def _write_files(scratch: Path, files: Mapping[str, bytes | str | Path]) -> None:
    for name, content in files.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"files keys must be relative paths inside the scratch dir, got {name!r}")
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, dest)
        elif isinstance(content, str):
            dest.write_text(content, encoding="utf-8")
        elif isinstance(content, (bytes, bytearray)):
            dest.write_bytes(bytes(content))
        else:
            raise TypeError(f"files[{name!r}] must be bytes, str or Path, got {type(content).__name__}")


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    """chown -R without following symlinks (the child may have planted some)."""
    os.lchown(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for n in dirnames + filenames:
            try:
                os.lchown(os.path.join(dirpath, n), uid, gid)
            except OSError:
                pass


def _read_capped(scratch: Path, name: str, cap: int) -> bytes:
    """Read a regular file below ``scratch`` without following symlinks; at most ``cap`` bytes."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise ValueError(f"collect names must be relative paths, got {name!r}")
    fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for p in parts[:-1]:
            nfd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
        ffd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        try:
            st = os.fstat(ffd)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError(f"{name!r} is not a regular file")
            if st.st_size > cap:
                raise ValueError(f"{name!r} is {st.st_size} bytes, over the cap of {cap}")
            data = os.read(ffd, cap + 1)
            if len(data) > cap:
                raise ValueError(f"{name!r} is over the cap of {cap} bytes")
            return data
        finally:
            os.close(ffd)
    finally:
        os.close(fd)


def _supervise(cfg: dict, stdin, limits: Limits, uid: int | None, warm: tuple = ()) -> SandboxResult:
    """Start the supervisor, pump its pipes with caps, enforce the wall clock."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    st_r, st_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    feed = stdin if callable(stdin) else None
    in_w = None
    if feed is not None:
        in_r, in_w = os.pipe()
        stdin_f = os.fdopen(in_r, "rb", buffering=0)
    elif stdin is None:
        stdin_f = open(os.devnull, "rb")
    else:
        stdin_f = tempfile.TemporaryFile()
        stdin_f.write(stdin)
        stdin_f.seek(0)
        if cfg["uid"] is not None:
            os.fchmod(stdin_f.fileno(), 0o600)
    cfg = dict(cfg, fds={"result": res_w, "status": st_w, "control": ctl_r})
    try:
        proc = _start_supervisor(cfg, stdin_f, out_w, err_w, warm)
    except OSError as e:
        for fd in (out_r, out_w, err_r, err_w, res_r, res_w, st_r, st_w, ctl_r, ctl_w):
            os.close(fd)
        stdin_f.close()
        if in_w is not None:
            os.close(in_w)
        return SandboxResult(status=f"error: sandbox: cannot start supervisor: {e}", returncode=None)
    for fd in (out_w, err_w, res_w, st_w, ctl_r):
        os.close(fd)
    stdin_f.close()

    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray(), st_r: bytearray()}
    caps = {out_r: limits.output_bytes, err_r: limits.output_bytes, res_r: limits.result_bytes,
            st_r: 1_000_000}
    trunc = {out_r: False, err_r: False, res_r: False, st_r: False}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pending = bytearray()
    close_stdin = False

    def feed_more(chunk: bytes) -> None:
        nonlocal feed, close_stdin
        if feed is None or in_w is None:
            return
        try:
            out = feed(chunk)
        except Exception as e:  # noqa: BLE001 - a caller bug must not leave the child running
            out = None
            bufs[st_r] += (json.dumps({"setup_error": f"stdin feed failed: {e!r}"}) + "\n").encode()
        if out is None:
            feed, close_stdin = None, True
        else:
            pending.extend(out)
        if pending or close_stdin:
            try:
                sel.register(in_w, selectors.EVENT_WRITE)
            except KeyError:
                pass

    if in_w is not None:
        os.set_blocking(in_w, False)
        feed_more(b"")
    deadline = time.monotonic() + limits.wall_s
    total_out = 0
    peak_rss = 0
    next_poll = 0.0
    next_pss = 0.0
    verdict = None  # set by the grader: "timeout", "error: output limit", ...
    kill_sent_at = None
    sup_done_at = None
    while sel.get_map():
        now = time.monotonic()
        if verdict is None and now > deadline:
            verdict = "timeout"
        if uid is not None and verdict is None and now >= next_poll:
            next_poll = now + 0.25  # a /proc scan costs ~5-10 ms
            rss = _rss_of_uid(uid)
            limit = limits.total_memory_mb * 1024 * 1024
            if rss > limit and now >= next_pss:
                # the RSS sum counts pages shared by forked copies once per process: confirm
                # with the proportional set size (costlier: at most once a second)
                next_pss = now + 1.0
                rss = min(rss, _pss_of_uid(uid))
                if rss > limit:
                    verdict = "error: memory limit"
            if rss <= limit or verdict is not None:
                peak_rss = max(peak_rss, rss)
        if verdict is not None and kill_sent_at is None:
            kill_sent_at = now
            try:
                os.write(ctl_w, b"k")
            except OSError:
                pass
        if kill_sent_at is not None and now - kill_sent_at > 5 and proc.poll() is None:
            proc.kill()  # supervisor stuck: init dies by PDEATHSIG
        if sup_done_at is None and proc.poll() is not None:
            sup_done_at = now
        if sup_done_at is not None and now - sup_done_at > 0.5:
            break  # something outside the sandbox holds a pipe (basic mode): stop reading
        poll = 0.25 if uid is not None else 0.5
        timeout = 0.05 if (sup_done_at or kill_sent_at) else max(0.0, min(poll, deadline - now))
        for key, _ in sel.select(timeout):
            fd = key.fd
            if fd == in_w:
                try:
                    if pending:
                        del pending[:os.write(in_w, bytes(pending[:65536]))]
                except BlockingIOError:
                    pass
                except OSError:  # the child closed its stdin or ended
                    pending.clear()
                    close_stdin = True
                if not pending:
                    sel.unregister(in_w)
                    if close_stdin:
                        os.close(in_w)
                        in_w = None
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(fd)
                continue
            if fd in (out_r, err_r):
                total_out += len(chunk)
                if verdict is None and total_out > limits.output_kill_bytes:
                    verdict = "error: output limit"
            if fd == res_r:
                feed_more(chunk)
            room = caps[fd] - len(bufs[fd])
            if len(chunk) > room:
                bufs[fd] += chunk[:max(room, 0)]
                trunc[fd] = True
                if verdict is None and fd == res_r:
                    verdict = "error: result limit"
            else:
                bufs[fd] += chunk
    sel.close()
    for fd in bufs:
        os.close(fd)
    if in_w is not None:
        os.close(in_w)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.close(ctl_w)

    msgs = {}
    for line in bytes(bufs[st_r]).splitlines():
        try:
            m = json.loads(line)
            if isinstance(m, dict):
                msgs.update(m)
        except ValueError:
            pass
    rc = msgs.get("returncode")
    if rc is None and msgs.get("child_pgid") and not cfg["namespaces"]:
        # basic mode and the supervisor was killed (e.g. by the child): kill the child's group
        try:
            os.killpg(int(msgs["child_pgid"]), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    res = SandboxResult(
        status="", returncode=rc, stdout=bytes(bufs[out_r]), stderr=bytes(bufs[err_r]),
        result=None if trunc[res_r] or not bufs[res_r] else bytes(bufs[res_r]),
        cpu_s=float(msgs.get("cpu_s", 0.0)),
        max_rss_mb=max(float(msgs.get("max_rss_mb", 0.0)), peak_rss / 2**20),
        stdout_truncated=trunc[out_r], stderr_truncated=trunc[err_r],
        isolation=dict(msgs.get("isolation", {})),
    )
    res.status = _status(verdict, msgs, rc, res, limits, proc.returncode)
    return res


def _start_supervisor(cfg: dict, stdin_f, out_w: int, err_w: int, warm: tuple):
    """The supervisor process: forked from a warm zygote when ``warm`` names modules and one
    can serve ``cfg``, else a fresh ``python -I -S sandbox.py --supervise cfg``."""
    if warm:
        from . import zygote

        fds = {"stdin": stdin_f.fileno(), "stdout": out_w, "stderr": err_w, **cfg["fds"]}
        proc = zygote.spawn(cfg, fds, warm)
        if proc is not None:
            return proc
    return subprocess.Popen(
        [sys.executable, "-I", "-S", os.path.abspath(__file__), "--supervise", json.dumps(cfg)],
        stdin=stdin_f, stdout=out_w, stderr=err_w, pass_fds=tuple(cfg["fds"].values()),
        close_fds=True, env={"PATH": "/usr/bin:/bin"}, cwd="/",
    )


def _status(verdict, msgs, rc, res, limits, sup_rc) -> str:
    if msgs.get("setup_error"):
        return f"error: sandbox: {msgs['setup_error']}"
    if verdict is not None:
        return verdict
    if rc is None:
        return f"error: sandbox: supervisor ended without a status (exit {sup_rc})"
    if rc == 0:
        return "ok"
    tail = res.stderr[-8192:] + res.stdout[-2048:]
    if rc < 0:
        sig = -rc
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and res.cpu_s >= limits.cpu_s - 0.5):
            return "error: cpu limit"
        if sig == signal.SIGXFSZ:
            return "error: file size limit"
        if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) and _looks_like_oom(tail):
            return "error: memory limit"
        return f"error: killed by signal {sig}"
    if _looks_like_oom(tail):
        return "error: memory limit"
    if b"File too large" in tail:
        return "error: file size limit"
    return f"error: exit code {rc}"


def _looks_like_oom(tail: bytes) -> bool:
    return any(s in tail for s in (b"MemoryError", b"Cannot allocate memory", b"bad_alloc",
                                   b"out of memory", b"Unable to allocate", b"DefaultCPUAllocator: can't allocate"))


# --------------------------------------------------------------------------- supervisor side
_libc = None


def _libc_fn():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(src: str | None, tgt: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc_fn().mount(enc(src), enc(tgt), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {src} on {tgt}")


def _prctl(option: int, arg: int) -> None:
    _check(_libc_fn().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def _send(st_fd: int, msg: dict) -> None:
    try:
        os.write(st_fd, (json.dumps(msg) + "\n").encode())
    except OSError:
        pass


def _supervisor_main(cfg: dict) -> int:
    fds = cfg["fds"]
    st_fd, ctl_fd, res_fd = fds["status"], fds["control"], fds["result"]
    for fd in (st_fd, ctl_fd, res_fd):
        os.set_inheritable(fd, False)
    iso = {"root": os.geteuid() == 0, "platform": sys.platform, "uid": cfg["uid"],
           "mode": "namespaces" if cfg["namespaces"] else "basic", "warm": bool(cfg.get("warm"))}
    if cfg["namespaces"]:
        try:
            _check(_libc_fn().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                                      | CLONE_NEWUTS), "unshare")
            iso.update(mountns=True, pidns=True, netns=True, ipcns=True)
        except OSError as e:
            _send(st_fd, {"setup_error": f"cannot create namespaces ({e}); run with mode='basic'"})
            return 1
    else:
        iso.update(mountns=False, pidns=False, netns=False, ipcns=False)
        if LINUX:
            try:
                _prctl(PR_SET_CHILD_SUBREAPER, 1)
                iso["subreaper"] = True
            except OSError:
                iso["subreaper"] = False
    r, w = os.pipe()  # basic mode: exec errors come back on it (CLOEXEC: EOF on success)
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            if cfg["namespaces"]:
                os.close(w)
                code = _init_main(cfg, iso, st_fd, res_fd)
            else:
                _exec_child(cfg, res_fd, w)
        except BaseException as e:  # noqa: BLE001 - report, never hang
            _send(st_fd, {"setup_error": f"{type(e).__name__}: {e}"})
        os._exit(code)
    os.close(w)
    os.close(res_fd)
    err = os.read(r, 65536)
    os.close(r)
    if err:
        _send(st_fd, {"setup_error": err.decode(errors="replace")})
    if not cfg["namespaces"]:
        _send(st_fd, {"child_pgid": pid})  # lets the grader kill the group if we are killed
    return _supervisor_wait(cfg, pid, ctl_fd, st_fd, iso)


def _supervisor_wait(cfg: dict, pid: int, ctl_fd: int, st_fd: int, iso: dict) -> int:
    """Wait for init (namespaces) or the child (basic); kill everything on request or EOF."""
    sel = selectors.DefaultSelector()
    sel.register(ctl_fd, selectors.EVENT_READ)
    status = None
    rusage = None
    while status is None:
        wpid, st, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            status, rusage = st, ru
            break
        if sel.select(0.02):
            # a kill request, or EOF: the grader died -> kill everything
            _kill_tree(pid, cfg)
            _, status, rusage = os.wait4(pid, 0)
            break
    if not cfg["namespaces"]:
        rc = os.waitstatus_to_exitcode(status)
        _send(st_fd, {"returncode": rc, "cpu_s": rusage.ru_utime + rusage.ru_stime,
                      "max_rss_mb": rusage.ru_maxrss / 1024.0})
        _kill_descendants()
        _send(st_fd, {"isolation": iso})
    return 0


def _kill_tree(pid: int, cfg: dict) -> None:
    if cfg["namespaces"]:
        try:
            os.kill(pid, signal.SIGKILL)  # init of the pid namespace: the kernel kills the rest
        except ProcessLookupError:
            pass
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_descendants() -> None:
    """Basic mode: we are a child subreaper, so every orphaned descendant (double fork,
    setsid daemon) was re-parented to us: kill and reap until none is left."""
    me = os.getpid()
    for _ in range(500):
        kids = []
        if LINUX:
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        with open(f"/proc/{d}/stat", "rb") as f:
                            st = f.read().rsplit(b")", 1)[1].split()
                        if int(st[1]) == me:
                            kids.append(int(d))
                    except (OSError, ValueError, IndexError):
                        pass
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reaped = _reap_ended()
        if not kids and not reaped:
            return
        time.sleep(0.005)


def _reap_ended() -> bool:
    """Reap every child process that has ended, without waiting; True when there was one."""
    reaped = False
    while True:
        try:
            wpid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if wpid == 0:
            return reaped
        reaped = True


def _init_main(cfg: dict, iso: dict, st_fd: int, res_fd: int) -> int:
    """pid 1 of the new pid namespace: build the filesystem view, start the child, reap."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _build_root(cfg, iso)
    try:
        import socket

        socket.sethostname("sandbox")
    except OSError:
        pass
    iso["loopback"] = _loopback_up()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _exec_child(cfg, res_fd, w)
    os.close(w)
    os.close(res_fd)
    err = os.read(r, 65536)  # empty when exec succeeded (CLOEXEC)
    os.close(r)
    if err:
        _send(st_fd, {"setup_error": err.decode(errors="replace")})
    rc = None
    while True:
        try:
            wpid, status, ru = os.wait4(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if wpid == pid:
            rc = os.waitstatus_to_exitcode(status)
            _send(st_fd, {"returncode": rc, "cpu_s": ru.ru_utime + ru.ru_stime,
                          "max_rss_mb": ru.ru_maxrss / 1024.0, "isolation": iso})
            break
    return 0  # init exits: the kernel SIGKILLs everything left in the namespace


def _build_root(cfg: dict, iso: dict) -> None:
    """Mount namespace: a tmpfs root with read-only binds of the allow-list, the scratch dir
    read-write, fresh /tmp, /dev/shm, /proc, a few device nodes; then chroot into it."""
    lim = cfg["limits"]
    nr = cfg["newroot"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", nr, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")

    def inside(p: str) -> str:
        return os.path.join(nr, p.lstrip("/"))

    def mkdirs(p: str) -> None:
        os.makedirs(inside(p), mode=0o755, exist_ok=True)

    size = f"size={int(lim['tmp_mb'])}m"
    for d in ("/tmp", "/dev/shm"):
        mkdirs(d)
        _mount("tmpfs", inside(d), "tmpfs", MS_NOSUID | MS_NODEV, f"{size},mode=1777")
    for dev in ("null", "zero", "full", "random", "urandom"):
        open(inside(f"/dev/{dev}"), "a").close()
        _mount(f"/dev/{dev}", inside(f"/dev/{dev}"), None, MS_BIND)
    for name, tgt in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                      ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(tgt, inside(f"/dev/{name}"))
    mkdirs("/proc")
    _mount("proc", inside("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    ro = sorted(cfg["ro_paths"], key=lambda p: p.count("/"))
    bound = []
    for p in ro:
        if os.path.islink(p) and os.path.dirname(p) == "/":
            tgt = inside(p)
            if not os.path.lexists(tgt):
                os.symlink(os.readlink(p), tgt)
            continue
        real = os.path.realpath(p)
        if any(real == b or real.startswith(b + "/") for b in bound):
            continue
        if os.path.isdir(real):
            mkdirs(real)
        else:
            mkdirs(os.path.dirname(real))
            open(inside(real), "a").close()
        _mount(real, inside(real), None, MS_BIND | MS_REC)
        _mount(None, inside(real), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        bound.append(real)
        if real != p and not os.path.lexists(inside(p)):  # keep the original name working
            mkdirs(os.path.dirname(p))
            os.symlink(real, inside(p))
    cwd = cfg["cwd"]
    mkdirs(cwd)
    _mount(cwd, inside(cwd), None, MS_BIND)
    _mount(None, inside(cwd), None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
    os.chroot(nr)
    os.chdir(cwd)
    iso["visible"] = sorted(bound) + [cwd]


def _loopback_up() -> bool:
    """Bring up ``lo`` in the new network namespace (isolated: reaches only itself)."""
    import fcntl
    import socket
    import struct

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            ifr = struct.pack("16sH14s", b"lo", 0, b"")
            flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, ifr)[:18])[1]
            fcntl.ioctl(s, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))
        return True
    except OSError:
        return False


def _exec_child(cfg: dict, res_fd: int, hs_w: int) -> None:
    """In the forked child: session, rlimits, privileges, umask, result fd; then exec.
    Never returns; a failure is written to ``hs_w`` (close-on-exec) before ``_exit(127)``."""
    import fcntl
    import resource

    try:
        hs_w = fcntl.fcntl(hs_w, fcntl.F_DUPFD_CLOEXEC, 64)
        res_fd = fcntl.fcntl(res_fd, fcntl.F_DUPFD_CLOEXEC, 64)
        os.setsid()
        lim = cfg["limits"]
        mb = 1024 * 1024
        cpu = int(lim["cpu_s"])
        for res, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
                         (resource.RLIMIT_AS, (int(lim["memory_mb"]) * mb,) * 2),
                         (resource.RLIMIT_FSIZE, (int(lim["fsize_mb"]) * mb,) * 2),
                         (resource.RLIMIT_CORE, (0, 0))):
            resource.setrlimit(res, val)
        if lim.get("data_mb"):
            resource.setrlimit(resource.RLIMIT_DATA, (int(lim["data_mb"]) * mb,) * 2)
        if cfg["uid"] is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(lim["nproc"]),) * 2)
            os.setgroups([])
            os.setgid(cfg["gid"])
            os.setuid(cfg["uid"])
        elif LINUX:
            # same uid as the grader: NPROC counts the grader's own processes too
            n = len(_pids_of_uid(os.getuid()))
            resource.setrlimit(resource.RLIMIT_NPROC, (n + int(lim["nproc"]),) * 2)
        if LINUX:
            _prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.umask(0o077)
        os.chdir(cfg["cwd"])
        os.dup2(res_fd, RESULT_FD)  # inheritable
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        os.closerange(RESULT_FD + 1, hs_w)
        os.closerange(hs_w + 1, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (int(lim["nofile"]),) * 2)
        if cfg.get("warm"):  # forked from a zygote: run in this interpreter instead of exec
            from coursekit.grading.zygote import run_warm

            os.close(hs_w)  # set-up done (what a successful exec tells)
            hs_w = -1
            os._exit(run_warm(cfg))
        os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
    except BaseException as e:  # noqa: BLE001
        if hs_w < 0:
            os._exit(1)
        try:
            os.write(hs_w, f"cannot start {cfg['argv'][0]!r}: {type(e).__name__}: {e}".encode())
        finally:
            os._exit(127)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--supervise":
    sys.exit(_supervisor_main(json.loads(sys.argv[2])))
