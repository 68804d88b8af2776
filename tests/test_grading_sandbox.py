"""Process-level attacks against coursekit.grading.sandbox.

Every bomb is bounded by small rlimits and a short wall clock; the only network traffic
attempted is to 127.0.0.1 and to the non-routable TEST-NET address 192.0.2.1.  Each test
checks the exact status and that the grader (this process) and the machine are fine after:
no process of the sandbox uid left, no scratch directory left.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from coursekit.grading import sandbox as sb
from coursekit.grading.sandbox import Limits, run_sandboxed

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent
IS_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="root-mode isolation needs root on Linux "
                                "(CI runs as root); basic mode is tested below")
SMALL = Limits(wall_s=10, cpu_s=10, memory_mb=512, nproc=16, fsize_mb=4,
               output_bytes=100_000, tmp_mb=8)


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Scratch and root dirs go under this test's tmp dir, so leftovers can be checked."""
    base = tmp_path / "sbxtmp"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    yield base
    assert sorted(os.listdir(base)) == [], "the sandbox left its scratch/root dirs behind"


def run(code: str, limits: Limits = SMALL, site: bool = False, warm: bool | tuple = False,
        **kw) -> sb.SandboxResult:
    """Run ``code`` in a sandboxed python; ``site=False`` skips site-packages (faster).
    ``warm``: fork it from a zygote that imported ``warm`` (True: ``json``), with site-packages;
    as root the run must have been warm."""
    flags = [] if site or warm else ["-I", "-S"]
    if warm:
        kw["warm"] = ("json",) if warm is True else warm
    res = run_sandboxed([PY, *flags, "-c", textwrap.dedent(code)], limits=limits, **kw)
    if warm and IS_ROOT and kw.get("mode", "auto") == "auto" and "mode" in res.isolation:
        assert res.isolation["warm"] is True, (res.isolation, res.status, res.stderr[-500:])
    uid = res.isolation.get("uid")
    if uid is not None:
        assert sb._pids_of_uid(uid) == [], f"processes of sandbox uid {uid} survived the run"
    return res


def assert_mode(res: sb.SandboxResult) -> None:
    if IS_ROOT:
        assert res.isolation["mode"] == "namespaces", res.isolation
        assert res.isolation["uid"] >= sb.UID_BASE
    else:
        assert res.isolation["mode"] == "basic", res.isolation


# ------------------------------------------------------------------ plain runs and statuses
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_ok_run_captures_streams_result_and_files(warm):
    res = run("""
        import os, sys
        print("out", open("in.txt").read())
        print("warn", file=sys.stderr)
        os.write(int(os.environ["COURSEKIT_RESULT_FD"]), b'{"score": 1}')
        open("answer.json", "w").write("42")
    """, files={"in.txt": b"hello", "sub/x.bin": b"\0"}, collect={"answer.json": 100, "missing": 10}, warm=warm)
    assert res.status == "ok" and res.returncode == 0
    assert res.stdout == b"out hello\n" and res.stderr == b"warn\n"
    assert res.result == b'{"score": 1}'
    assert res.files == {"answer.json": b"42"} and "missing" in res.collect_errors
    assert_mode(res)


@pytest.mark.parametrize("code, status, rc", [
    ("import sys; sys.exit(0)", "ok", 0),
    ("import sys; sys.exit(3)", "error: exit code 3", 3),
    ("raise SystemExit('bye')", "error: exit code 1", 1),
    ("import os; os._exit(7)", "error: exit code 7", 7),
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "error: killed by signal 9", -9),
    ("import os; os.abort()", "error: killed by signal 6", -6),
])
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_exit_paths(code, status, rc, warm):
    res = run(code, warm=warm)
    assert (res.status, res.returncode) == (status, rc)


def test_missing_interpreter_is_a_sandbox_error():
    res = run_sandboxed(["/nonexistent/python", "-c", "pass"], limits=SMALL)
    assert res.status.startswith("error: sandbox: cannot start '/nonexistent/python'"), res.status


def test_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match="absolute path"):
        run_sandboxed(["python", "-c", "pass"])
    with pytest.raises(ValueError, match="Limits.wall_s"):
        Limits(wall_s=0)
    with pytest.raises(ValueError, match="relative paths"):
        run_sandboxed([PY, "-c", "pass"], files={"../escape": b""})


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_environment_scrubbed_stdin_closed_umask(monkeypatch, warm):
    monkeypatch.setenv("COURSEKIT_TEST_SECRET", "s3cret")
    res = run("""
        import os, sys, stat
        assert "COURSEKIT_TEST_SECRET" not in os.environ, "secret leaked"
        assert os.environ["HOME"] == "/tmp", os.environ["HOME"]
        assert sys.stdin.read() == ""
        open("f", "w").close()
        print(oct(stat.S_IMODE(os.stat("f").st_mode)), os.environ.get("EXTRA"))
    """, env={"EXTRA": "yes"}, warm=warm)
    assert res.status == "ok", res.stderr
    assert res.stdout == b"0o600 yes\n"


def test_stdin_bytes_are_fed():
    res = run("import sys; print(sys.stdin.read()[::-1])", stdin=b"abc")
    assert res.status == "ok" and res.stdout == b"cba\n"


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_stdin_conversation_sends_data_only_when_asked(warm):
    """A feed callable answers the child's result-fd messages: nothing is on stdin before."""
    seen = []

    def feed(chunk: bytes):
        seen.append(chunk)
        if b"ready" in chunk:
            return b"hidden inputs"
        if b"bye" in chunk:
            return None
        return b""

    res = run("""
        import os, select
        fd = int(os.environ["COURSEKIT_RESULT_FD"])
        early = select.select([0], [], [], 0.3)[0]
        os.write(fd, b"ready")
        got = os.read(0, 100)
        os.write(fd, b"bye")
        print(early, got, os.read(0, 100))
    """, stdin=feed, warm=warm)
    assert res.status == "ok", res.stderr
    assert res.stdout == b"[] b'hidden inputs' b''\n"
    assert seen[0] == b"" and res.result == b"readybye"


# ------------------------------------------------------------------ bombs and limits
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_fork_bomb_is_bounded_by_nproc(warm):
    res = run("""
        import os, time
        n = 0
        for _ in range(200):
            try:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                n += 1
            except OSError:
                pass
        print(n)
    """, limits=Limits(wall_s=10, nproc=8, memory_mb=256), warm=warm)
    assert res.status == "ok", res.stderr
    n = int(res.stdout)
    if IS_ROOT:
        assert 1 <= n < 8, n  # the dedicated uid may own at most 8 processes
    else:
        assert n < 200
    # the sleeping children were killed with the run (checked in run())


def test_endless_fork_bomb_times_out_and_leaves_nothing():
    t0 = time.monotonic()
    res = run("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, limits=Limits(wall_s=2, cpu_s=10, nproc=8, memory_mb=256))
    assert res.status == "timeout"
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_memory_bomb_is_memory_limit(warm):
    res = run("""
        chunks = []
        while True:
            chunks.append(bytearray(16 * 1024 * 1024))
    """, limits=Limits(wall_s=10, memory_mb=128), warm=warm)
    assert res.status == "error: memory limit", (res.status, res.stderr[-300:])


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_forked_memory_bomb_is_bounded_in_total(warm):
    """RLIMIT_AS is per process; the sum over all processes is polled (root mode)."""
    res = run("""
        import os, time
        for _ in range(5):
            if os.fork() == 0:
                break
        block = bytearray(120 * 1024 * 1024)   # touched (zeroed): resident
        time.sleep(30)
    """, limits=Limits(wall_s=20, memory_mb=256, total_memory_mb=300, nproc=16), warm=warm)
    assert res.status == "error: memory limit", res.status
    assert res.seconds < 10 and 300 <= res.max_rss_mb < 1000


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_numpy_memory_bomb_is_memory_limit(warm):
    res = run("import numpy as np; a = np.ones((50_000, 50_000))", site=True,
              limits=Limits(wall_s=20, memory_mb=512), warm=warm and ("numpy",))
    assert res.status == "error: memory limit", (res.status, res.stderr[-300:])


def test_loop_ignoring_sigint_and_sigterm_times_out():
    t0 = time.monotonic()
    res = run("""
        import signal
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        print("looping", flush=True)
        while True:
            pass
    """, limits=Limits(wall_s=1.5, cpu_s=30))
    assert res.status == "timeout" and res.stdout == b"looping\n"
    assert 1.5 <= res.seconds < 8 and time.monotonic() - t0 < 10


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_cpu_limit(warm):
    res = run("while True: pass", limits=Limits(wall_s=20, cpu_s=1), warm=warm)
    assert res.status == "error: cpu limit", res.status
    assert res.seconds < 10


@pytest.mark.parametrize("kill_at", [None, 5_000_000])
def test_50mb_one_line_output_is_capped_without_buffering_it(kill_at):
    """Stray output never fails a run (it is kept up to output_bytes and dropped after);
    only output past output_kill_bytes kills it."""
    lim = Limits(wall_s=20, output_bytes=100_000, **({"output_kill_bytes": kill_at} if kill_at else {}))
    tracemalloc.start()
    try:
        res = run("""
            import sys
            sys.stdout.write("x" * 50_000_000)
            sys.stdout.flush()
            print("done", file=sys.stderr)
        """, limits=lim)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.status == ("ok" if kill_at is None else "error: output limit")
    assert res.stdout == b"x" * 100_000 and res.stdout_truncated
    assert res.stderr == (b"done\n" if kill_at is None else b"")
    assert peak < 5_000_000, f"the grader buffered {peak} bytes"


def test_50mb_on_stderr_is_capped():
    res = run("import sys; sys.stderr.write('e' * 50_000_000)", limits=Limits(wall_s=20, output_bytes=1000))
    assert res.status == "ok" and res.stderr == b"e" * 1000 and res.stderr_truncated


def test_endless_output_is_killed():
    res = run("while True: print('spam' * 1000)", limits=Limits(wall_s=20, output_kill_bytes=2_000_000))
    assert res.status == "error: output limit" and res.seconds < 10


def test_result_pipe_limit():
    res = run("import os; os.write(int(os.environ['COURSEKIT_RESULT_FD']), b'r' * 200_000)",
              limits=Limits(wall_s=10, result_bytes=1000))
    assert res.status == "error: result limit" and res.result is None


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_file_size_limit(warm):
    res = run("open('big', 'wb').write(b'0' * (3 * 1024 * 1024))", limits=Limits(wall_s=10, fsize_mb=1), warm=warm)
    assert res.status == "error: file size limit", (res.status, res.stderr[-200:])


# ------------------------------------------------------------------ escaping the run
def _detached_daemon_code() -> str:
    return """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:           # double fork: re-parented, own session
                for fd in (0, 1, 2):
                    os.close(fd)
                while True:
                    with open("tick", "a") as f:
                        f.write(".")
                    time.sleep(0.05)
            os._exit(0)
        t0 = time.time()                 # leave once the daemon runs (under load that takes a while)
        while not os.path.exists("tick") and time.time() - t0 < 5:
            time.sleep(0.01)
        time.sleep(0.2)
        print("parent leaves", flush=True)
    """


@pytest.mark.parametrize("mode", ["auto", "basic"])
def test_detached_double_fork_daemon_is_dead_after_the_run(tmp_path, mode):
    work = tmp_path / f"work_{mode}"
    work.mkdir()
    res = run(_detached_daemon_code(), workdir=work, mode=mode)
    assert res.status == "ok", res.stderr
    size = (work / "tick").stat().st_size
    assert size > 0
    assert work.stat().st_uid == (work / "tick").stat().st_uid == os.geteuid(), "workdir not given back"
    time.sleep(0.4)
    assert (work / "tick").stat().st_size == size, "the detached daemon survived the run"


def test_daemon_holding_stdout_does_not_hang_the_grader():
    res = run("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)                 # keeps stdout/stderr open
        print("bye")
    """, limits=Limits(wall_s=20))
    assert res.status == "ok" and res.stdout == b"bye\n" and res.seconds < 5


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_killing_the_parent_fails_and_the_grader_survives(warm):
    res = run("""
        import os, signal
        errors = []
        for pid in (os.getppid(), 1, int(os.environ["GRADER_PID"])):
            try:
                os.kill(pid, signal.SIGKILL)
                errors.append("killed %d" % pid)
            except (PermissionError, ProcessLookupError) as e:
                errors.append(type(e).__name__)
        print(os.getppid(), errors)
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        print(len(pids))
    """, env={"GRADER_PID": str(os.getpid())}, warm=warm)
    assert res.status == "ok", res.stderr
    first, second = res.stdout.decode().splitlines()
    assert "killed" not in first, first
    assert int(second) <= 3, "the child sees processes outside its pid namespace"


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_kill_minus_one_reaches_only_its_own_processes(warm):
    res = run("""
        import os, signal, time
        kid = os.fork()
        if kid == 0:
            time.sleep(30)
            os._exit(0)
        os.kill(-1, signal.SIGKILL)       # every process it may signal, except itself
        _, st = os.waitpid(kid, 0)
        print(os.WTERMSIG(st))
    """, warm=warm)
    assert res.status == "ok" and res.stdout == b"9\n", (res.status, res.stderr)


def test_basic_mode_child_killing_its_parent_does_not_stop_the_grader():
    """Basic mode: the child's parent is the supervisor, not the grader; killing it ends
    the run with a clear error, and the grader then kills the child's process group."""
    res = run("""
        import os, signal, time
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)
    """, mode="basic", limits=Limits(wall_s=20))
    assert res.status.startswith("error: sandbox: supervisor ended without a status"), res.status
    assert res.seconds < 5


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_files_outside_scratch_are_invisible_even_when_world_writable(tmp_path, warm):
    shared = Path(tempfile.mkdtemp(prefix="gradebook-", dir="/tmp"))  # NOT the private tmp
    try:
        os.chmod(shared, 0o777)
        gradebook = shared / "gradebook.db"
        gradebook.write_text("alice,10\n")
        os.chmod(gradebook, 0o666)
        secret = ROOT / "pyproject.toml"  # stands for the instructor source: world-readable
        res = run(f"""
            import os
            out = []
            for path in ({str(gradebook)!r}, {str(secret)!r}, "/root/.bash_history",
                         {str(ROOT / "tests" / "conftest.py")!r}):
                try:
                    open(path).read(); out.append("READ " + path)
                except OSError as e:
                    out.append(type(e).__name__)
            for act in (lambda: open({str(gradebook)!r}, "a").write("mallory,12\\n"),
                        lambda: os.remove({str(gradebook)!r}),
                        lambda: open({str(shared / "new.txt")!r}, "w").write("x"),
                        lambda: open({str(ROOT / "coursekit" / "evil.py")!r}, "w").write("x"),
                        lambda: open("/etc/evil", "w").write("x")):
                try:
                    act(); out.append("WROTE")
                except OSError as e:
                    out.append(type(e).__name__)
            print(out)
            print(sorted(os.listdir("/root")), sorted(os.listdir("/")))
        """, warm=warm)
        assert res.status == "ok", res.stderr
        lines = res.stdout.decode().splitlines()
        assert "READ" not in lines[0] and "WROTE" not in lines[0], lines[0]
        assert gradebook.read_text() == "alice,10\n" and os.listdir(shared) == ["gradebook.db"]
        assert not (ROOT / "coursekit" / "evil.py").exists() and not Path("/etc/evil").exists()
        # the checkout's top folder (holding the venv) is visible, root's home is not
        assert "'.bash_history'" not in lines[1] and repr(ROOT.parts[1]) in lines[1]
    finally:
        shutil.rmtree(shared)


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_package_hides_reference_implementations(warm):
    res = run("""
        import importlib, os, coursekit
        import coursekit.grading.wire
        out = []
        for mod in ("coursekit.nn", "coursekit.grading.wire"):
            try:
                importlib.import_module(mod); out.append("ok")
            except ImportError:
                out.append("hidden")
        print(out, sorted(os.listdir(os.path.dirname(coursekit.__file__))))
    """, site=True, package=("__init__.py", "config.py", "grading"), warm=warm and ("coursekit.grading.wire",))
    assert res.status == "ok", res.stderr[-2000:]
    assert res.stdout.decode().startswith("['hidden', 'ok'] ['__init__.py', 'config.py', 'grading']")
    with pytest.raises(ValueError, match="inside coursekit"):
        run_sandboxed([PY, "-c", "pass"], package=("../solutions",))


def test_basic_mode_is_reported_and_cannot_hide_files(tmp_path):
    """Documents the residual risk of basic mode (no root / no namespaces): the child has
    the grader's uid and file view.  Keep secrets unreadable for that uid."""
    target = tmp_path / "visible.txt"
    target.write_text("instructor")
    res = run(f"print(open({str(target)!r}).read())", mode="basic")
    assert res.status == "ok" and res.stdout == b"instructor\n"
    assert res.isolation["mode"] == "basic" and res.isolation["mountns"] is False


@needs_root
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_network_is_off(warm):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    try:
        res = run(f"""
            import socket
            out = []
            for addr in (("127.0.0.1", {port}), ("192.0.2.1", 80)):
                s = socket.socket(); s.settimeout(1)
                try:
                    s.connect(addr); out.append("CONNECTED")
                except OSError as e:
                    out.append(type(e).__name__)
            print(out)
        """, warm=warm)
        assert res.isolation["netns"] is True
        assert res.status == "ok" and b"CONNECTED" not in res.stdout, res.stdout
        with pytest.raises(socket.timeout):
            srv.accept()
    finally:
        srv.close()


# ------------------------------------------------------------------ reading results back safely
@needs_root
def test_collect_refuses_symlinks_fifos_and_big_files():
    res = run("""
        import os
        os.symlink("/etc/passwd", "link.json")
        os.mkfifo("fifo.json")
        open("big.json", "w").write("x" * 5000)
        os.mkdir("d"); os.symlink("/etc", "d/etc")
    """, collect={"link.json": 10_000, "fifo.json": 100, "big.json": 100, "d/etc/passwd": 10_000})
    assert res.status == "ok", res.stderr
    assert res.files == {}
    assert set(res.collect_errors) == {"link.json", "fifo.json", "big.json", "d/etc/passwd"}


# ------------------------------------------------------------------ parallel slots
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_parallel_runs_get_distinct_uids(warm):
    results = []

    def one():
        results.append(run("import os, time; time.sleep(0.3); print(os.getuid())", warm=warm))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == ["ok"] * 3
    uids = {int(r.stdout) for r in results}
    if IS_ROOT:
        assert len(uids) == 3 and min(uids) >= sb.UID_BASE


# ------------------------------------------------------------------ not root
@needs_root
def test_as_non_root_grader_basic_mode_still_cleans_up():
    """A grader started as an ordinary user (here: nobody, with the system python, the
    sandbox being stdlib only) runs in basic mode: same uid, subreaper clean-up."""
    py = shutil.which("python3", path="/usr/bin:/bin")
    if py is None or not shutil.which("setpriv"):
        pytest.skip("needs /usr/bin/python3 and setpriv to act as a non-root grader")
    work = Path(tempfile.mkdtemp(prefix="nobody-", dir="/tmp"))  # pytest's tmp is root-only
    os.chmod(work, 0o777)
    try:
        _run_as_nobody(py, work)
    finally:
        shutil.rmtree(work)


def _run_as_nobody(py: str, work: Path) -> None:
    # nobody must not need to read the checkout (CI clones under a 0700 directory): the
    # sandbox module (stdlib only) is copied next to the work it does
    module = work / "sandbox_copy.py"
    shutil.copy(sb.__file__, module)
    os.chmod(module, 0o644)
    driver = textwrap.dedent(f"""
        import importlib.util, json, sys, time, tempfile
        spec = importlib.util.spec_from_file_location("sb", {str(module)!r})
        sb = sys.modules["sb"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sb)
        tempfile.tempdir = {str(work)!r}
        code = {textwrap.dedent(_detached_daemon_code())!r}
        r = sb.run_sandboxed([{py!r}, "-I", "-S", "-c", code], workdir={str(work)!r},
                             limits=sb.Limits(wall_s=10))
        n = (__import__("os").stat({str(work / "tick")!r}).st_size)
        time.sleep(0.4)
        m = (__import__("os").stat({str(work / "tick")!r}).st_size)
        print(json.dumps([r.status, r.isolation, n, m]))
    """)
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", py,
                          "-I", "-c", driver], capture_output=True, timeout=60, cwd="/")
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    import json

    status, iso, n, m = json.loads(out.stdout)
    assert status == "ok" and iso["mode"] == "basic" and iso["subreaper"] is True
    assert n == m > 0, "the detached daemon survived in basic mode"


# ------------------------------------------------------------------ warm runs (zygote)
_VIEW_PROBE = """
    import json, os, resource, signal, socket, sys
    status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
    try:
        import coursekit.nn
        nn = "visible"
    except ImportError:
        nn = "hidden"
    print(json.dumps({
        "uid_is_sandbox": os.getuid() >= UID_BASE, "fds": sorted(os.listdir("/proc/self/fd")),
        "root": sorted(os.listdir("/")), "scratch": sorted(os.listdir(".")), "env": dict(os.environ),
        "argv": sys.argv, "path": sys.path, "main": __name__, "umask": os.umask(0o22),
        "rlimits": [resource.getrlimit(getattr(resource, r)) for r in
                    ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
                     "RLIMIT_CORE", "RLIMIT_DATA")],
        "status": [status[k].split() for k in ("Groups", "NoNewPrivs", "CapEff", "CapPrm")],
        "ids_own": [set(status["Uid"].split()) == {str(os.getuid())},
                    set(status["Gid"].split()) == {str(os.getgid())}, os.getuid() == os.getgid()],
        "hostname": socket.gethostname(), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
        "session_leader": os.getsid(0) == os.getpid(), "ppid": os.getppid(),
        "signals": [str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ,
                                                       signal.SIGTERM, signal.SIGCHLD)],
        "nn": nn, "nn_loaded": "coursekit.nn" in sys.modules,
        "proc_self_owned": os.stat("/proc/self/status").st_uid == os.getuid(),
    }))
    import random
    print(random.random(), __import__("numpy").random.rand())
""".replace("UID_BASE", str(sb.UID_BASE))


@needs_root
def test_a_warm_run_sees_exactly_what_a_cold_run_sees():
    """Forked from a zygote that imported numpy: the same uid, fds (no zygote socket), file
    view, environment, argv, sys.path, umask, rlimits, privileges, pid namespace and signal
    dispositions as a freshly started interpreter; random state re-seeded in each run."""
    pkg = ("__init__.py", "config.py", "grading")
    lim = Limits(wall_s=30, memory_mb=4096)
    cold = run(_VIEW_PROBE, site=True, package=pkg, limits=lim, env={"X": "1"})
    warm = [run(_VIEW_PROBE, warm=("numpy", "coursekit.grading.wire"), package=pkg, limits=lim,
                env={"X": "1"}) for _ in range(2)]
    assert cold.status == "ok" and cold.isolation["warm"] is False, cold.stderr[-2000:]
    view = json.loads(cold.stdout.splitlines()[0])
    assert view["uid_is_sandbox"] and view["nn"] == "hidden" and view["fds"] == ["0", "1", "2", "3", "4"]
    for w in warm:
        assert w.status == "ok" and w.isolation["warm"] is True, w.stderr[-2000:]
        assert json.loads(w.stdout.splitlines()[0]) == view
    assert warm[0].stdout.splitlines()[1] != warm[1].stdout.splitlines()[1], "random state not re-seeded"


@needs_root
def test_zygote_refuses_to_hold_a_module_the_child_may_not_see():
    """A zygote that imported a hidden part of coursekit would hand it to every child: it
    refuses, and the runs start cold (the reference implementation stays hidden)."""
    code = """if 1:
        import sys
        try:
            import coursekit.nn
            print("visible", "coursekit.nn" in sys.modules)
        except ImportError:
            print("hidden", "coursekit.nn" in sys.modules)
    """
    res = run_sandboxed([PY, "-c", code], package=("__init__.py", "config.py", "grading"),
                        limits=Limits(wall_s=30, memory_mb=4096), warm=("coursekit.nn",))
    assert res.status == "ok", res.stderr[-2000:]
    assert res.isolation["warm"] is False and res.stdout == b"hidden False\n"


@needs_root
def test_the_zygote_ends_with_its_grader():
    driver = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from coursekit.grading import sandbox, zygote
        r = sandbox.run_sandboxed([sys.executable, "-c", "pass"], warm=("json",))
        pids = [z.proc.pid for z in zygote._zygotes.values() if z is not None]
        print(r.status, r.isolation.get("warm"), *pids, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([PY, "-c", driver], capture_output=True, timeout=60)
    status, warm, pid = out.stdout.decode().split()
    assert (status, warm) == ("ok", "True"), out.stderr.decode()[-2000:]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the zygote outlived its grader")


@needs_root
def test_a_grader_keeps_a_bounded_number_of_zygotes():
    """Each set of warm modules (and environment, view) has its own zygote; past
    ``_MAX_LIVE`` the least recently used one is stopped, and its key starts again later."""
    from coursekit.grading import zygote

    zygote.shutdown()
    procs = []
    for i in range(zygote._MAX_LIVE + 1):
        res = run("pass", warm=("json",), env={"RUN": str(i)})
        assert res.status == "ok" and res.isolation["warm"] is True, res.stderr[-2000:]
        procs += [z.proc for z in zygote._zygotes.values() if z is not None and z.proc not in procs]
    live = [z for z in zygote._zygotes.values() if z is not None]
    assert len(live) == zygote._MAX_LIVE and len(procs) == zygote._MAX_LIVE + 1
    assert procs[0].poll() is not None and all(p.poll() is None for p in procs[1:])
    res = run("pass", warm=("json",), env={"RUN": "0"})
    assert res.status == "ok" and res.isolation["warm"] is True
    zygote.shutdown()
    assert all(p.poll() is not None for p in procs)
