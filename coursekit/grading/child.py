"""The UNTRUSTED side of grading: runs a student's code cells, then calls graded functions.

Started by the trusted runner inside the sandbox as
``python -m coursekit.grading.child job.json`` in a scratch directory holding only
``job.json`` (the cells to run: the student's answers plus the release's locked set-up
cells; never any test cell). Protocol:

1. execute every cell in an IPython shell (errors, ``sys.exit`` and timeouts are recorded and
   execution goes on with the next cell, as in a notebook run with errors allowed);
2. report that to the grader (a ``cells`` frame on the file descriptor ``$COURSEKIT_RESULT_FD``),
   which only then sends the first request (visible cases) on stdin, and the next one (hidden
   cases) only after all visible results came back (``part_done``): the cells never see any
   input, and hidden inputs cannot influence the results of visible tests;
3. call the student's functions and stream one frame per case back (plain data only: see
   :mod:`coursekit.grading.wire`); EOF on stdin ends the run.

Nothing here is trusted: the student's code can change any of it, which only changes the
values sent back; scoring happens in the parent against the reference outputs it keeps.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

_write = os.write


def _detach_stdin() -> int:
    """Move the request pipe off fd 0 and give student code a kernel's stdin: ``/dev/null`` on
    fd 0, and ``input()`` raising at once the error a notebook kernel without a frontend
    raises (``StdinNotImplementedError``), instead of blocking on the grader's pipe until
    the time limit. Returns the fd the requests now arrive on (kept in no module global)."""
    import builtins

    requests = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    def no_input(prompt=""):
        from IPython.core.error import StdinNotImplementedError

        raise StdinNotImplementedError("input() was called, but a graded notebook has no one to type "
                                       "the answer: remove input() from your code (it is never graded)")

    builtins.input = no_input
    try:
        import getpass
        getpass.getpass = no_input
    except Exception:  # noqa: BLE001
        pass
    return requests


class CellTimeout(BaseException):
    """A cell or graded call ran past its time limit. A ``BaseException``, like the
    ``KeyboardInterrupt`` a notebook's stop button raises, so that an ``except Exception``
    (the student's, or a library's such as torch's import) cannot swallow it."""


IMPORT_POLL_S = 0.05
IMPORT_GRACE_S = 30.0   # the longest a time limit waits for an import (torch on a busy machine: ~10 s)


def _importing(frame) -> bool:
    """Whether ``frame`` runs inside an import (its stack passes through importlib)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _alarm(seconds: float):
    """Raise :class:`CellTimeout` in the main thread after ``seconds``, but never inside an
    import in progress: an import stopped half-way (torch's, whose C extension registers
    itself in steps) leaves modules that can crash the interpreter when touched again, and
    the child would die with the student's functions undefined. The timeout then waits until
    the import returns (polled every :data:`IMPORT_POLL_S`), at most :data:`IMPORT_GRACE_S`
    more seconds; the sandbox's wall clock still bounds everything."""
    hard = time.monotonic() + float(seconds) + IMPORT_GRACE_S

    def handler(signum, frame):
        if _importing(frame) and time.monotonic() < hard:
            signal.setitimer(signal.ITIMER_REAL, IMPORT_POLL_S)
            return
        raise CellTimeout(f"ran longer than {seconds:g} s")
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.001))


def _cancel_alarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:500]
    except Exception:  # noqa: BLE001 - student exception with a broken __str__
        return "exception with an unprintable message"


def _send(fd: int, obj) -> None:
    from coursekit.grading import wire

    data = wire.frame(wire.pack(obj))
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int, _read=os.read) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = _read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes | None:
    """The next request frame on stdin (magic, 8-byte length, payload); None at EOF."""
    import struct

    head = _read_exact(fd, 12)
    if head is None or head[:4] != b"CKR1":
        return None
    (n,) = struct.unpack(">Q", head[4:])
    return _read_exact(fd, n)


def _make_shell():
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(config=cfg)
    _kernel_like(shell)
    return shell


def _kernel_like(shell) -> None:
    """Make the plain shell behave like a notebook kernel for the magics students use.

    ``%matplotlib inline/widget/...`` and ``%pylab`` keep the headless Agg backend (plots
    never cost points); ``%timeit`` runs its statement once (timing is not graded);
    ``!cmd``, ``%pip`` and ``%conda`` are skipped (nothing to install or inspect here);
    ``%load_ext autoreload`` works as in a kernel. A note goes to stderr, never an error.
    """
    import sys as _sys

    def note(what):
        print(f"[coursekit grading] {what}: skipped while grading", file=_sys.stderr)

    def matplotlib_magic(line=""):
        note(f"%matplotlib {line}".strip())

    def skipped(name):
        def magic(line="", cell=None):
            note(f"%{name} {line}".strip())
        return magic

    original_line, original_cell = shell.find_line_magic("timeit"), shell.find_cell_magic("timeit")

    def timeit_magic(line="", cell=None):
        import re

        line = "-n1 -r1 -q " + re.sub(r"(^|\s)-[nr]\s*\d+", " ", line).strip()
        return original_line(line) if cell is None else original_cell(line, cell)

    shell.register_magic_function(matplotlib_magic, "line", "matplotlib")
    shell.register_magic_function(matplotlib_magic, "line", "pylab")
    for name in ("pip", "conda", "mamba"):
        shell.register_magic_function(skipped(name), "line", name)
    shell.register_magic_function(timeit_magic, "line_cell", "timeit")
    shell.enable_gui = lambda gui=None: None
    shell.system = lambda cmd: note(f"!{cmd}")

    def getoutput(cmd, split=True, depth=0):
        from IPython.utils.text import SList

        note(f"!{cmd}")
        return SList([])

    shell.getoutput = getoutput


def run_cells(shell, cells: list[str], cell_timeout: float, kinds: list | None = None,
              scratch_budget: float | None = None, checkpoints: dict | None = None,
              on_cell=None, memory_mb: int | None = None) -> tuple[list[dict], dict]:
    """Execute each cell; return ([{'cell': i, 'error': '...'}], snapshots).

    ``kinds[i]`` is "answer", "locked" or "extra": answer and set-up cells get ``cell_timeout``
    each; the student's extra (scratch) cells share ``scratch_budget`` seconds (each at most
    ``cell_timeout``, and at least 2 s once the budget is spent, so quick helper cells still
    run); an extra cell that overruns is interrupted and noted (``"skipped": True``), never
    fatal. ``checkpoints`` ({test id: number of cells before that test}) names where the
    namespace is snapshot for each test (see :func:`snapshot`). ``on_cell(i)`` is called
    before cell ``i`` runs.
    """
    errors = []
    kinds = kinds or ["answer"] * len(cells)
    budget = float(scratch_budget if scratch_budget is not None else cell_timeout)
    at: dict = {}
    for gid, pos in (checkpoints or {}).items():
        at.setdefault(min(int(pos), len(cells)), []).append(gid)
    snaps: dict = {}
    for i, source in enumerate(cells):
        for gid in at.get(i, ()):
            snaps[gid] = snapshot(shell.user_ns)
        if on_cell is not None:
            on_cell(i)
        scratch = kinds[i] == "extra"
        limit = min(cell_timeout, max(budget, 2.0)) if scratch else cell_timeout
        err = None
        t0 = time.perf_counter()
        try:
            _alarm(limit)
            result = shell.run_cell(source, store_history=False, silent=False)
            err = result.error_before_exec or result.error_in_exec
        except BaseException as e:  # noqa: BLE001 - includes SystemExit and CellTimeout
            err = e
        finally:
            _cancel_alarm()
        if scratch:
            budget -= time.perf_counter() - t0
        if err is not None:
            entry = {"cell": i, "error": _describe(err)}
            if memory_mb and _is_memory_error(err):
                entry["error"] = (f"{entry['error']} (memory limit: {memory_mb} MiB; the cell's "
                                  "allocation failed, the notebook went on)")[:600]
            if scratch and isinstance(err, CellTimeout):
                entry = {"cell": i, "skipped": True,
                         "error": f"scratch cell stopped after {limit:g} s (the time for cells outside "
                                  "the answer cells is limited; it costs no points)"}
            errors.append(entry)
    for gid in at.get(len(cells), ()):
        snaps[gid] = shell.user_ns
    return errors, snaps


def _is_memory_error(err: BaseException) -> bool:
    text = _describe(err)
    return isinstance(err, MemoryError) or "can't allocate memory" in text or "Unable to allocate" in text


def snapshot(user_ns: dict) -> dict:
    """A copy of the namespace in which the functions defined so far look up their globals
    in the copy: a graded function then sees its helpers as they were at that point of the
    notebook (a later cell reusing a helper's name changes nothing), as when each test runs
    right after its answer cell."""
    import types

    ns = dict(user_ns)
    for k, v in list(ns.items()):
        if type(v) is types.FunctionType and v.__globals__ is user_ns:
            f = types.FunctionType(v.__code__, ns, v.__name__, v.__defaults__, v.__closure__)
            f.__kwdefaults__ = v.__kwdefaults__
            f.__dict__.update(v.__dict__)
            f.__qualname__, f.__doc__, f.__module__ = v.__qualname__, v.__doc__, v.__module__
            ns[k] = f
    return ns


def _resolve(value, results):
    from coursekit.grading.wire import Ref

    if isinstance(value, Ref):
        out = results[value.path[0]]
        for p in value.path[1:]:
            out = out[p]
        return out
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, results) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    return value


def run_case(namespace: dict, case: dict, call_timeout: float) -> dict:
    """Run one case's steps in ``namespace``; return {'values': [...]} or {'error': ...}."""
    results = []
    try:
        for step in case["steps"]:
            fn = namespace.get(step["fn"])
            if not callable(fn):
                return {"error": f"NameError: {step['fn']!r} is not defined (or not a function)"}
            args = _resolve(step["args"], results)
            kwargs = _resolve(step["kwargs"], results)
            _alarm(call_timeout)
            try:
                results.append(fn(*args, **kwargs))
            finally:
                _cancel_alarm()
        values = []
        for path in case["returns"]:
            out = results[path[0]]
            for p in path[1:]:
                out = out[p]
            values.append(out)
        return {"values": values}
    except BaseException as e:  # noqa: BLE001
        return {"error": _describe(e)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    fd = int(os.environ["COURSEKIT_RESULT_FD"])
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    cell_timeout = float(job.get("cell_timeout", 60))
    t0 = time.perf_counter()
    requests = _detach_stdin()
    shell = _make_shell()
    errors, snaps = run_cells(shell, job["cells"], cell_timeout, job.get("kinds"),
                              job.get("scratch_budget"), job.get("checkpoints"),
                              on_cell=lambda i: _send(fd, {"kind": "cell", "index": i}),
                              memory_mb=job.get("memory_mb"))
    _send(fd, {"kind": "cells", "errors": errors, "seconds": time.perf_counter() - t0})

    from coursekit.grading import wire

    namespace = shell.user_ns
    call_timeout = float(job.get("call_timeout", cell_timeout))
    while True:  # one request per part (visible cases, then hidden cases); EOF ends
        request = _read_frame(requests)
        if request is None:
            break
        request = wire.unpack(request, allow_refs=True)
        for index, case in zip(request["indices"], request["cases"]):
            out = run_case(snaps.get(case.get("test"), namespace), case, call_timeout)
            out.update(kind="case", index=index)
            try:
                _send(fd, out)
            except BaseException as e:  # noqa: BLE001 - unencodable student value
                _send(fd, {"kind": "case", "index": index, "error": f"could not send result: {_describe(e)}"})
        _send(fd, {"kind": "part_done"})
    _send(fd, {"kind": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
