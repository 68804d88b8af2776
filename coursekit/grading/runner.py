"""The TRUSTED grader: scores one submission without ever running student code itself.

For each submission: parse and merge the notebook with the release (no test cell is run),
start :mod:`coursekit.grading.child` in the sandbox on a scratch directory holding only the
merged cells, send the spec's inputs, read back plain data, and compare it here with the
reference outputs (computed once per batch by running the instructor's solution the same
way). Hidden inputs exist in the child only as arguments of the calls being graded;
reference outputs and hidden test code never leave this process.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import wire
from .notebook import InvalidNotebook, Merged, clean_text, folder_checksum, merge, parse_notebook, read_cells
from .limits import OUTPUT_KEPT_BYTES, GradingLimits
from .sandbox import Limits, run_sandboxed
from .spec import Test, grading_seed, load_spec, make_tests

# what the child imports before any cell runs: loaded once in a warm zygote (root mode), each
# submission's child is forked from it (see coursekit.grading.zygote)
WARM = ("numpy", "traitlets.config", "IPython.core.interactiveshell", "IPython.core.magics",
        "IPython.core.completer", "IPython.core.application", "stack_data", "timeit",
        "pygments.formatters.terminal256", "coursekit.grading.wire")


@dataclass
class TestResult:
    """Score of one test (one nbgrader grade cell). ``messages`` stay instructor-side for
    hidden tests: feedback shows only the points and, per case family, passed or failed.

    ``families``: ``[[label, passed], ...]`` in the spec's fixed order (a family passes when
    every case in it earned full credit); empty for tests whose cases carry no family."""

    grade_id: str
    points: float
    score: float
    hidden: bool
    passed: int
    total: int
    messages: list = field(default_factory=list)
    description: str = ""
    families: list = field(default_factory=list)


@dataclass
class SubmissionResult:
    """One submission's transaction record."""

    student: str
    assignment: str
    status: str                      # graded | timeout | error: ...
    score: float = 0.0
    max_score: float = 0.0
    tests: list = field(default_factory=list)
    tampered: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    checksum: str = ""
    seconds: float = 0.0
    notebook: str = ""
    batch: str = ""                  # id of the batch (its hidden inputs) that graded it
    detail: str = ""                 # instructor-only (journal, autograded notebook): raw sandbox status

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SubmissionResult":
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in dict(d).items() if k in names}
        d["tests"] = [TestResult(**t) for t in d.get("tests", [])]
        return cls(**d)


@dataclass
class Assignment:
    """Everything the trusted side prepares once per batch."""

    name: str
    root: Path
    release: list            # release cells (student-facing structure)
    source: list             # instructor cells (with solutions and hidden tests)
    tests: list              # spec Tests with hidden inputs drawn
    cases: list              # flattened [(test_index, Case)]
    expected: list           # expected values per flattened case
    requests: list           # request frames: visible cases, then hidden cases
    limits: Limits
    cell_timeout: float
    fast: bool
    package: tuple = ()      # parts of coursekit/ the child may import
    visible_idx: list = field(default_factory=list)
    hidden_idx: list = field(default_factory=list)
    policy: GradingLimits = field(default_factory=GradingLimits)

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests))


def notebook_settings(root: Path, name: str) -> dict:
    """``metadata["coursekit"]`` of the instructor notebook (cell_timeout, total_timeout, ...)."""
    nb = json.loads((Path(root) / "solutions" / name / f"{name}.ipynb").read_text())
    return dict(nb.get("metadata", {}).get("coursekit", {}))


def prepare(name: str, root: Path, grading_dir: Path, *, fast: bool, seed: int | None = None) -> Assignment:
    """Load release, source and spec; draw hidden inputs; compute reference outputs."""
    root = Path(root)
    src_path = root / "solutions" / name / f"{name}.ipynb"
    rel_path = root / "assignments" / name / f"{name}.ipynb"
    for p in (src_path, rel_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found (is {name!r} an assignment? regenerate the release "
                                    f"with `coursekit release {name}`)")
    source, release = read_cells(src_path), read_cells(rel_path)
    module = load_spec(root, name)
    seed = grading_seed(grading_dir) if seed is None else seed
    tests = make_tests(module, name, seed, fast)
    _check_spec_matches(name, tests, source)
    return fill_references(assemble(name, root, release, source, tests, notebook_settings(root, name), fast))


def assemble(name: str, root: Path, release: list, source: list, tests: list, settings: dict, fast: bool,
             expected: list | None = None) -> Assignment:
    """The :class:`Assignment` of ``tests`` under the limits of ``settings``: their cases
    flattened, sent to the child as one request per part (the visible cases, then the hidden
    ones). ``expected``: per flattened case (default: the spec's, None where
    :func:`fill_references` computes it)."""
    policy = GradingLimits.from_settings(settings, fast)
    cases = [(ti, c) for ti, t in enumerate(tests) for c in t.cases]
    if expected is None:
        expected = [None if c.needs_reference else list(c.expected) for _, c in cases]
    parts, split = [], {}
    for hidden in (False, True):
        idx = [i for i, (ti, _) in enumerate(cases) if tests[ti].hidden == hidden]
        split[hidden] = idx
        if idx:
            wired = [dict(cases[i][1].to_wire(), test=tests[cases[i][0]].grade_id) for i in idx]
            parts.append(wire.frame(wire.pack({"indices": idx, "cases": wired})))
    return Assignment(name, Path(root), release, source, tests, cases, expected, parts, sandbox_limits(policy),
                      policy.cell_timeout, fast, child_package(settings), split[False], split[True], policy)


def fill_references(a: Assignment) -> Assignment:
    """``a`` with the expected values of the cases that need them computed: the reference
    solution's outputs (``a.source``'s cells but its tests, and the cases, run in the sandboxed
    child)."""
    need = [i for i, (_, c) in enumerate(a.cases) if c.needs_reference]
    if need:
        run = run_child(a, [c.source for c in a.source if c.cell_type == "code" and not c.is_test])
        for i in need:
            out = run["cases"].get(i)
            if out is None or "values" not in out:
                why = out.get("error") if out else run["status"]
                raise RuntimeError(f"{a.name}: the reference solution failed on case {i} "
                                   f"({a.cases[i][1].label}): {why}; cell errors: {run['cell_errors']}"
                                   f"\n{run['stderr'][-2000:]}")
            a.expected[i] = out["values"]
    return a


def child_package(settings: dict) -> tuple:
    """The parts of coursekit/ the child may import (:attr:`Assignment.package`) under the
    assignment's ``settings``: the grading code and its ``coursekit_modules``."""
    return tuple(["__init__.py", "config.py", "grading"] + list(settings.get("coursekit_modules", [])))


def sandbox_limits(policy: GradingLimits) -> Limits:
    """The sandbox limits that enforce ``policy`` (see :mod:`coursekit.grading.limits`)."""
    wall = policy.wall_s
    # one process meets RLIMIT_DATA first (a MemoryError in its cell, the notebook goes on);
    # the resident poll (all processes, shared library pages included) has a margin above it
    return Limits(wall_s=wall, cpu_s=int(wall * 2) + 5, memory_mb=policy.address_space_mb,
                  data_mb=policy.memory_mb, total_memory_mb=policy.memory_mb + 256,
                  output_bytes=OUTPUT_KEPT_BYTES, output_kill_bytes=1 << 50)


def _check_spec_matches(name: str, tests: list[Test], source: list) -> None:
    cells = {c.grade_id: c for c in source if c.is_test}
    ids = {t.grade_id for t in tests}
    if ids != set(cells):
        raise ValueError(f"{name}: spec tests {sorted(ids)} do not match the notebook's test cells "
                         f"{sorted(cells)}")
    for t in tests:
        pts = float(cells[t.grade_id].nbgrader.get("points", 0))
        if pts != float(t.points):
            raise ValueError(f"{name}: test {t.grade_id!r} is worth {t.points} in the spec but {pts} "
                             f"in the notebook")


class Conversation:
    """Feeds the child its requests, in an order that makes forged protocol frames useless.

    The visible request goes out after the FIRST ``cells`` frame; the hidden request only once
    a result for EVERY visible case has come back (first come counts, as in :func:`run_child`)
    and a ``part_done`` followed; stdin closes once every hidden result is back. So visible
    results and the cell errors shown in feedback are fixed before hidden inputs exist in the
    child, whatever frames the student's code forges.
    """

    def __init__(self, requests: list[bytes], visible: list[int], hidden: list[int],
                 max_bytes: int = Limits.result_bytes):
        self.max_bytes = max_bytes  # a frame declaring more can never be read: the stream is corrupt
        self.pending = list(requests)
        self.visible, self.hidden = set(visible), set(hidden)
        self.seen: set = set()
        self.stage = "cells"
        self.cells_frames = 0
        self.first = None
        self.buffer = b""
        self.pos = 0
        self.cell = None          # index of the cell running (while cells run)

    def _on(self, msg: dict) -> bytes | None:
        kind = msg.get("kind")
        if kind == "case" and type(msg.get("index")) is int:
            self.seen.add(msg["index"])
            return b""
        if kind == "cell" and self.stage == "cells" and type(msg.get("index")) is int:
            self.cell = msg["index"]
            return b""
        if kind == "cells":
            self.cells_frames += 1
            if self.stage == "cells":
                self.stage = "visible" if self.visible else "hidden"
                self.first = self.pending.pop(0) if self.pending else None
                return self.first
            if self.cells_frames == 2 and self.first is not None and self.stage == "visible":
                # a forged first "cells" frame let the cells swallow the visible request:
                # send it once more for the real reader (visible inputs are public anyway)
                return self.first
        if kind == "part_done":
            if self.stage == "visible" and self.visible <= self.seen:
                self.stage = "hidden"
                return self.pending.pop(0) if self.pending else None
            if self.stage == "hidden" and self.hidden <= self.seen:
                self.stage = "closed"
                return None
        return b""

    def __call__(self, chunk: bytes) -> bytes | None:
        import struct

        self.buffer += chunk
        out = b""
        while len(self.buffer) - self.pos >= 12:
            if self.buffer[self.pos:self.pos + 4] != wire.MAGIC:
                return None  # corrupt stream: close stdin
            (n,) = struct.unpack(">Q", self.buffer[self.pos + 4:self.pos + 12])
            if n > self.max_bytes:
                return None  # forged length: no later frame is readable, close stdin now
            if len(self.buffer) - self.pos - 12 < n:
                break
            payload = self.buffer[self.pos + 12:self.pos + 12 + n]
            self.pos += 12 + n
            try:
                msg = wire.unpack(payload)
            except wire.WireError:
                continue
            if isinstance(msg, dict):
                more = self._on(msg)
                if more is None:
                    return out or None
                out += more
        if self.pos > 1 << 16:  # keep the buffer small
            self.buffer, self.pos = self.buffer[self.pos:], 0
        return out


def warm_modules(a: Assignment) -> tuple:
    """:data:`WARM` plus what the release's own code cells import (the instructor's release,
    trusted; never the student's cells): torch for a4/a5 is then imported once per batch, not
    once per submission. coursekit modules outside the child's ``package`` are left out (the
    zygote refuses to hold what the child may not see)."""
    import ast

    parts = {Path(p).parts[0].removesuffix(".py") for p in a.package} if a.package else None
    names = []
    for c in a.release:
        if c.cell_type != "code" or c.is_test:
            continue
        try:
            body = ast.parse(c.source).body
        except (SyntaxError, ValueError):
            continue
        for node in body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.append(node.module)
    top = [n for n in names if n.split(".")[0] != "coursekit" or n == "coursekit"
           or parts is None or n.split(".")[1] in parts]
    return tuple(dict.fromkeys(WARM + tuple(top)))


def run_child(a: Assignment, cells: list[str], merged: Merged | None = None) -> dict:
    """Run cells + cases in the sandbox; returns status, cell errors, case outputs, stderr.

    Student-facing statuses never carry an exit code or a signal number (chosen by the
    student's code after hidden inputs arrived, they would be a covert channel): those go to
    ``detail`` (instructor-only)."""
    p = a.policy
    job = {"cells": cells, "cell_timeout": p.cell_timeout, "scratch_budget": p.scratch_budget,
           "memory_mb": p.memory_mb}
    if merged is not None:
        job.update(kinds=merged.kinds, checkpoints=merged.checkpoints)
    env = {"COURSEKIT_FAST": "1" if a.fast else "0"}
    talk = Conversation(a.requests, a.visible_idx, a.hidden_idx, a.limits.result_bytes)
    res = run_sandboxed([sys.executable, "-m", "coursekit.grading.child", "job.json"],
                        files={"job.json": json.dumps(job).encode()}, stdin=talk, env=env,
                        limits=a.limits, package=a.package or None, warm=warm_modules(a))
    frames, _complete = wire.read_frames(res.result or b"")
    cases, cell_errors, done, got_cells = {}, [], False, False
    for payload in frames:
        try:
            msg = wire.unpack(payload)
        except wire.WireError as e:
            cell_errors.append({"cell": -1, "error": f"unreadable result frame: {e}"})
            continue
        if not isinstance(msg, dict):
            continue
        kind = msg.get("kind")
        if kind == "cells" and not got_cells:  # only the first one: sent before any input
            got_cells = True
            errors = msg.get("errors")
            cell_errors = [_clean_error(e) for e in errors if isinstance(e, dict)][:200] \
                if isinstance(errors, list) else []
        elif kind == "case" and type(msg.get("index")) is int and msg["index"] not in cases:
            vals = msg.get("values")
            cases[msg["index"]] = ({"values": vals} if isinstance(vals, list)
                                   else {"error": clean_text(str(msg.get("error", "no result"))[:500])})
        elif kind == "done":
            done = True
    where = _where(talk, merged)
    if done:
        status = "graded"
    elif res.status == "timeout":
        status = "timeout"
    elif res.status == "error: memory limit":
        used = f", about {res.max_rss_mb:.0f} MiB in use" if talk.stage == "cells" else ""
        status = f"error: memory limit ({p.memory_mb} MiB) exceeded {where}{used}"
    elif res.status.startswith(("error: exit code", "error: killed by signal")) or res.status == "ok":
        status = f"error: kernel died {where}"
    elif res.status.startswith("error: sandbox"):
        status = res.status
    else:
        status = f"{res.status} {where}"
    return {"status": status, "sandbox": res.status, "cases": cases, "cell_errors": cell_errors,
            "stderr": res.stderr.decode("utf-8", "replace"), "seconds": res.seconds}


def _clean_error(e: dict) -> dict:
    """A cell error from the child as plain, encodable data."""
    cell = e.get("cell")
    out = {"cell": cell if type(cell) is int else -1, "error": clean_text(str(e.get("error", "")))[:600]}
    if e.get("skipped") is True:
        out["skipped"] = True
    return out


def _where(talk: Conversation, merged: Merged | None) -> str:
    """Where the child was when it stopped: a cell (before any input existed) or the calls."""
    if talk.stage != "cells":
        return "while your functions were being graded"
    if talk.cell is None:
        return "before the first cell ran"
    origin = None
    if merged is not None and 0 <= talk.cell < len(merged.origins):
        origin = merged.origins[talk.cell]
    return f"in cell {origin + 1} of your notebook" if origin is not None else "in a set-up cell"


def score_tests(a: Assignment, outputs: dict, reason: str = "") -> list[TestResult]:
    """Compare outputs (case index -> {'values'|'error'}) with the expected values."""
    results = []
    for ti, test in enumerate(a.tests):
        fractions, messages, family_ok = [], [], {}
        for i, (tj, case) in enumerate(a.cases):
            if tj != ti:
                continue
            n_before = len(fractions)
            out = outputs.get(i)
            if out is None:
                fractions.append(0.0)
                messages.append(f"{case.label}: not graded ({reason or 'no result'})")
            elif "error" in out:
                fractions.append(0.0)
                messages.append(f"{case.label}: {out['error']}")
            else:
                frac, msg = test.compare.score(a.expected[i], out["values"])
                fractions.append(frac)
                if msg:
                    messages.append(f"{case.label}: {msg}")
            if case.family:
                ok = fractions[n_before] >= 1
                family_ok[case.family] = family_ok.get(case.family, True) and ok
        mean = sum(fractions) / len(fractions) if fractions else 0.0
        results.append(TestResult(test.grade_id, float(test.points), round(test.points * mean, 2),
                                  test.hidden, sum(1 for f in fractions if f >= 1), len(fractions),
                                  messages[:20], test.description,
                                  [[name, ok] for name, ok in family_ok.items()]))
    return results


def _is_link(path: Path) -> bool:
    return os.path.islink(path)


def find_notebook(folder: Path, name: str) -> tuple[Path | None, str]:
    """The submission's notebook (tolerating a single renamed one) and a note. Symbolic
    links are returned as they are (grade_submission refuses them)."""
    expected = folder / f"{name}.ipynb"
    if _is_link(expected) or expected.is_file():
        return expected, ""
    others = sorted(p for p in folder.glob("*.ipynb") if _is_link(p) or p.is_file()) if folder.is_dir() else []
    if len(others) == 1:
        return others[0], f"notebook was renamed to {others[0].name}"
    return None, ""


def read_regular_file(path: Path, folder: Path, cap: int = 64 << 20) -> bytes:
    """Bytes of a submitted file that is a regular file reached without any symbolic link
    (submission folder, student folder and file itself); :class:`InvalidNotebook` otherwise."""
    for p in (folder.parent, folder, path):
        if _is_link(p):
            raise InvalidNotebook(f"symbolic link {p.name!r} in the submission")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        raise InvalidNotebook(f"cannot open {path.name} ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InvalidNotebook(f"{path.name} is not a regular file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise InvalidNotebook(f"{path.name} is larger than {cap >> 20} MiB")
    return data


def _skipped_note(cell_errors: list, merged: Merged) -> list[str]:
    skipped = [e.get("cell") for e in cell_errors if e.get("skipped")]
    if not skipped:
        return []
    nums = [merged.origins[i] + 1 for i in skipped
            if type(i) is int and 0 <= i < len(merged.origins) and merged.origins[i] is not None]
    return [f"extra cell(s) {', '.join(map(str, nums[:10]))} ran past the time for cells outside the "
            "answer cells and were stopped (no points lost)"]


def grade_submission(a: Assignment, student: str, folder: Path) -> SubmissionResult:
    """Grade one submission folder (never modified); always returns a result."""
    t0 = time.perf_counter()
    res = SubmissionResult(student, a.name, "error: not graded", max_score=a.max_score)
    res.checksum = folder_checksum(folder)
    path, note = find_notebook(folder, a.name)
    if note:
        res.notes.append(note)
    if path is None:
        res.status = f"error: missing notebook ({a.name}.ipynb not submitted)"
    else:
        res.notebook = path.name
        try:
            cells = parse_notebook(read_regular_file(path, folder))
        except InvalidNotebook as e:
            res.status = f"error: invalid notebook ({e})"
            cells = None
        if cells is not None:
            merged: Merged = merge(a.release, cells)
            res.tampered, res.notes = merged.tampered, res.notes + merged.notes
            run = run_child(a, merged.cells, merged)
            res.status, res.detail = run["status"], run["sandbox"]
            res.notes += _skipped_note(run["cell_errors"], merged)
            res.cell_errors = run["cell_errors"]
            res.tests = score_tests(a, run["cases"], reason=res.status)
    if not res.tests:
        res.tests = score_tests(a, {}, reason=res.status)
    res.score = round(sum(t.score for t in res.tests), 2)
    after = folder_checksum(folder)
    if after != res.checksum:
        res.status = "error: submission changed during grading"
        res.notes.append(f"checksum before {res.checksum[:12]}, after {after[:12]}")
    res.seconds = round(time.perf_counter() - t0, 3)
    return res
