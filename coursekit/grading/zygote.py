"""A warm, pre-forked interpreter for sandboxed runs (root mode; Linux; stdlib only).

Starting the grader's child costs two fresh interpreters per submission (the supervisor and
the child importing numpy and IPython: about 0.6 CPU-s, most of a small submission's cost).
A zygote is started once per grading process and set of modules with the child's scrubbed
environment, imports those modules (``warm``), and then only forks::

    grader ──(request: cfg + the run's pipe ends, over a Unix socket)──> zygote (root, idle)
                                                                           └─ fork: supervisor
                                                                                └─ init ─ child

Each fork runs the sandbox's supervisor code exactly as a freshly started supervisor would:
new namespaces, the chroot, the dedicated uid, rlimits, umask, closed fds; only the final
``execve`` is replaced by running the module (``-m``) or code (``-c``) in the warm
interpreter (:func:`run_warm`). What keeps the sandbox's properties:

* the zygote never holds student data or hidden inputs: it receives a run's configuration
  (paths, uid, limits, environment) and pipe ends; cells are in the scratch directory and
  inputs arrive on the child's stdin after the fork;
* it imports only modules that the child may see anyway: after the imports it checks that
  every loaded module's file lies under the run's read-only paths (the ``package`` parts
  of coursekit included) and that it is single-threaded, else it refuses and runs start
  cold, as without a zygote;
* in the child, import caches filled on the host's view are dropped, the environment is
  replaced by the run's, ``sys.argv``/``sys.path[0]``/``__main__`` are set as ``python -m``
  or ``-c`` would set them, Python's start-up signal dispositions are restored and NumPy's
  global random state is re-seeded (``random`` re-seeds itself after a fork); the process is
  made dumpable again, as an exec'd child is (``setuid`` without ``exec`` clears it).

If the grader dies, the zygote sees EOF on its socket and exits.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Sequence

__all__ = ["spawn", "run_warm", "shutdown", "ZygoteLost"]

_MAX_CFG = 1 << 17        # larger configurations (long -c code) start cold
_MAX_LIVE = 4             # zygotes kept per process, least recently used stopped first (each
                          # holds its imports: ~100 MB resident, ~400 MB with torch)
_zygotes: dict = {}       # key -> _Zygote, or None once starting it failed
_registry_lock = threading.Lock()


def warm_form(argv: Sequence[str]) -> dict | None:
    """``{"module": m, "args": [...]}`` or ``{"code": c, "args": [...]}`` for argv of the form
    ``[python, -m, m, *args]`` / ``[python, -c, c, *args]``; None for anything else."""
    if len(argv) >= 3 and argv[0] == sys.executable and argv[1] in ("-m", "-c"):
        return {"module" if argv[1] == "-m" else "code": argv[2], "args": list(argv[3:])}
    return None


class ZygoteLost(OSError):
    """A request reached the zygote but no answer came back: a supervisor may have been
    forked, so this run must not start a second child (it ends as a sandbox error)."""


class _Proc:
    """The supervisor forked by a zygote, seen through a pidfd (the parts of ``Popen`` the
    sandbox uses: ``poll``, ``kill``, ``wait``, ``returncode``)."""

    def __init__(self, pid: int, pidfd: int):
        self.pid, self.pidfd, self.returncode = pid, pidfd, None

    def _ended(self, timeout: float) -> bool:
        import select

        if self.returncode is None and select.select([self.pidfd], [], [], timeout)[0]:
            self.returncode = 0  # ended; its exit status belongs to the zygote (its parent)
            os.close(self.pidfd)
        return self.returncode is not None

    def poll(self):
        self._ended(0)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None):
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired("sandbox supervisor", timeout)
        return self.returncode

    def __del__(self):
        if self.returncode is None:
            os.close(self.pidfd)


class _Zygote:
    def __init__(self, warm: Sequence[str], env: dict, ro_paths: Sequence[str]):
        self.lock, self.owner = threading.Lock(), os.getpid()
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        start = {"warm": list(warm), "ro_paths": list(ro_paths), "fd": theirs.fileno()}
        code = "import sys; from coursekit.grading.zygote import _main; _main(sys.argv[1])"
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(start)], env=env,
                                         cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.sock.settimeout(120)
        try:
            reply = json.loads(self.sock.recv(65536) or b'{"error": "the zygote ended"}')
        except (OSError, ValueError):
            reply = {"error": "no answer"}
        if not reply.get("ready"):
            self.close()
            raise RuntimeError(f"zygote refused: {reply.get('error')}")

    def spawn(self, cfg: dict, fds: dict) -> _Proc:
        """The forked supervisor; RuntimeError (nothing forked) or :class:`ZygoteLost`."""
        names = sorted(fds)
        msg = json.dumps({"cfg": cfg, "fds": names}).encode()
        with self.lock:
            try:
                socket.send_fds(self.sock, [msg], [fds[n] for n in names])
            except OSError as e:  # not sent (a SEQPACKET message goes whole or not at all)
                raise RuntimeError(f"zygote unreachable: {e}") from None
            try:
                data, got, _, _ = socket.recv_fds(self.sock, 65536, 1)
                reply = json.loads(data)
            except (OSError, ValueError) as e:
                raise ZygoteLost(f"the warm zygote stopped answering ({e})") from None
        if "pid" not in reply or len(got) != 1:
            for fd in got:
                os.close(fd)
            raise RuntimeError(f"zygote could not fork: {reply.get('error')}")
        return _Proc(reply["pid"], got[0])

    def close(self) -> None:
        with self.lock:  # a request in flight gets its answer first
            self.sock.close()  # EOF: the zygote exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def spawn(cfg: dict, fds: dict, warm: Sequence[str]) -> _Proc | None:
    """Fork a supervisor for ``cfg`` from the zygote that imported ``warm`` (started on first
    use); ``fds``: {"stdin"|"stdout"|"stderr"|"result"|"status"|"control": fd}. None when no
    zygote can serve this run (it then starts cold)."""
    form = warm_form(cfg["argv"])
    if form is None or not hasattr(os, "pidfd_open"):
        return None
    cfg = dict(cfg, warm=form)
    if len(json.dumps(cfg)) > _MAX_CFG:
        return None
    # one zygote per grading process (a forked copy of the grader never shares its socket)
    key = json.dumps([os.getpid(), list(warm), cfg["env"], cfg["ro_paths"]], sort_keys=True)
    evicted = []
    with _registry_lock:
        if key in _zygotes:
            _zygotes[key] = _zygotes.pop(key)  # most recently used last
        else:
            if not _zygotes:
                atexit.register(shutdown)
            live = [k for k, v in _zygotes.items() if v is not None and v.owner == os.getpid()]
            evicted = [_zygotes.pop(k) for k in live[:max(0, len(live) + 1 - _MAX_LIVE)]]
            try:
                _zygotes[key] = _Zygote(warm, cfg["env"], cfg["ro_paths"])
            except (OSError, RuntimeError, ValueError):
                _zygotes[key] = None
        z = _zygotes[key]
    for old in evicted:
        old.close()  # after its runs in flight were forked (their supervisors do not need it)
    if z is None:
        return None
    try:
        return z.spawn(cfg, fds)
    except (RuntimeError, ZygoteLost) as e:
        with _registry_lock:
            if _zygotes.get(key) is z:
                _zygotes[key] = None  # later runs start cold
        z.close()
        if isinstance(e, ZygoteLost):
            raise
        return None


def shutdown() -> None:
    """Stop every zygote of this process (they also stop when it exits)."""
    with _registry_lock:
        zs = [z for z in _zygotes.values() if z is not None and z.owner == os.getpid()]
        _zygotes.clear()
    for z in zs:
        z.close()


# --------------------------------------------------------------------------- zygote side
def _main(arg: str) -> None:
    start = json.loads(arg)
    sock = socket.socket(fileno=start["fd"])
    try:
        for name in ["coursekit.grading.sandbox", *start["warm"]]:
            __import__(name)
        problem = _unfit(start["ro_paths"])
    except BaseException as e:  # noqa: BLE001 - refuse, the grader starts runs cold
        problem = f"{type(e).__name__}: {e}"
    if problem:
        sock.send(json.dumps({"error": problem}).encode())
        return
    import gc

    gc.collect()
    gc.freeze()  # forks share the imported modules' pages instead of touching them in a GC pass
    sock.send(b'{"ready": true}')
    _serve(sock)


def _unfit(ro_paths: Sequence[str]) -> str:
    """Why this interpreter may not be forked into children ('' when it may)."""
    if len(os.listdir("/proc/self/task")) != 1 or threading.active_count() != 1:
        return "the imports started threads"
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError as e:
        return f"no pidfd support ({e})"
    roots = [os.path.realpath(p) for p in ro_paths]
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        real = os.path.realpath(f) if isinstance(f, str) and os.path.isabs(f) else None
        if real and not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
            return f"module {name} ({f}) is outside the child's view"
    return ""


def _serve(sock: socket.socket) -> None:
    import select

    from coursekit.grading.sandbox import _reap_ended

    while True:
        ready = select.select([sock], [], [], 1.0)[0]
        _reap_ended()
        if not ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, _MAX_CFG + 4096, 8)
        except OSError:
            data, fds = b"", []
        if not data:
            _reap_ended()  # the grader closed the socket (or died): its CPU time counts in ours
            return
        pid = None
        try:
            req = json.loads(data)
            pid = _fork_supervisor(sock, req["cfg"], dict(zip(req["fds"], fds)))
            pidfd = os.pidfd_open(pid)
            try:
                socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])
            finally:
                os.close(pidfd)
        except Exception as e:  # noqa: BLE001 - answer "nothing runs" (and make it true)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            try:
                sock.send(json.dumps({"error": f"{type(e).__name__}: {e}"}).encode())
            except OSError:
                return
        finally:
            for fd in fds:
                os.close(fd)
            del data, fds


def _fork_supervisor(sock: socket.socket, cfg: dict, fds: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        sock.close()
        for fd, target in ((fds["stdin"], 0), (fds["stdout"], 1), (fds["stderr"], 2)):
            os.dup2(fd, target)
        from coursekit.grading import sandbox

        cfg["fds"] = {k: fds[k] for k in ("result", "status", "control")}
        for k in ("stdin", "stdout", "stderr"):
            os.close(fds[k])
        code = sandbox._supervisor_main(cfg)
    except BaseException:  # noqa: BLE001 - the grader sees no status and reports it
        pass
    os._exit(code)


# --------------------------------------------------------------------------- child side
def run_warm(cfg: dict) -> int:
    """In the sandboxed child, after the chroot, uid, rlimits and fds are in place: run
    ``cfg["warm"]`` as ``python -m module`` / ``python -c code`` would; return the exit code."""
    import importlib
    import runpy
    import types

    form = cfg["warm"]
    if sys.platform.startswith("linux"):
        # setuid() without an exec left the process undumpable (its /proc/self owned by root);
        # an exec'd child is dumpable: be the same
        from coursekit.grading.sandbox import _prctl

        _prctl(4, 1)  # PR_SET_DUMPABLE
    os.environ.clear()
    os.environ.update(cfg["env"])
    for sig, how in ((signal.SIGPIPE, signal.SIG_IGN), (signal.SIGXFSZ, signal.SIG_IGN),
                     (signal.SIGINT, signal.default_int_handler)):
        signal.signal(sig, how)  # as a fresh interpreter sets them
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed()
    try:
        if "module" in form:
            sys.argv = ["-m", *form["args"]]
            sys.path[0] = os.getcwd()
            runpy.run_module(form["module"], run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *form["args"]]
            main = types.ModuleType("__main__")
            main.__builtins__ = __builtins__
            sys.modules["__main__"] = main
            exec(compile(form["code"], "<string>", "exec"), main.__dict__)
        code = 0
    except SystemExit as e:
        code = _exit_code(e.code)
    except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught exception
        sys.excepthook(*sys.exc_info())
        code = 1
    return _finish(code)


def _exit_code(value) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    try:
        print(value, file=sys.stderr)
    except Exception:  # noqa: BLE001
        pass
    return 1


def _finish(code: int) -> int:
    """What interpreter shutdown does before exiting: wait for non-daemon threads, run atexit
    handlers, flush the standard streams."""
    import atexit

    try:
        threading._shutdown()
    except BaseException:  # noqa: BLE001
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    return code
