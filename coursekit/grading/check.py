"""``coursekit check NOTEBOOK``: a student runs the visible tests of an assignment.

The notebook runs top to bottom in a fresh kernel on the student's own machine (a copy: the
file is never modified), so each visible test cell shows its own error, as in the notebook;
warnings, stderr and prints never fail a test. Hidden tests are listed with their points only:
they run when the instructor grades, and the feedback then names the families of cases each
one failed and passed (the families are listed in the assignment's introduction).

Visible points are the grader's: the visible cases are run and scored by the code
``coursekit autograde`` uses (:func:`coursekit.grading.runner.grade_submission` of the grader's
assignment with the visible cases only, hence :func:`~coursekit.grading.runner.score_tests`
with partial credit per case): a test passes when all its cases do, and the estimate equals
autograde's visible points. That assignment comes from the visible-case pack
(:mod:`coursekit.grading.visible`): built from the spec where it is at hand (a course
checkout), else read from ``<assignment>.visible`` beside the notebook (a student's own copy:
nbgrader's fetch, ``coursekit lessons``, Colab), else from the course's ``assignments/`` (the
checkout or the installed wheel). The student's own machine needs no isolation: without root
or namespaces (macOS) the sandbox runs in its basic mode, same child, same protocol. Where the
pack is missing, unreadable or belongs to another release, or the sandbox cannot run at all
(Windows), a test passes, in full, when its cell raised no error, and the report says why.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

from .notebook import normalize


@dataclass
class CheckedTest:
    grade_id: str
    points: float
    hidden: bool
    passed: bool | None      # None for hidden tests (not run here)
    message: str = ""
    score: float | None = None   # the grader's points (None: not scored by the grader)
    cases: str = ""              # "k of n cases passed" (grader)

    @property
    def got(self) -> float:
        if self.score is not None:
            return self.score
        return self.points if self.passed else 0.0


@dataclass
class CheckReport:
    notebook: str
    seconds: float
    tests: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    limits: list = field(default_factory=list)   # the grading limits, in words
    graded: bool = False                          # visible points computed by the grader's code
    note: str = ""                                # why they were not, when the grader failed
    status: str = ""                              # the grader's status of this notebook ("graded", ...)
    advice: str = ""                              # what that status means and what to do

    @property
    def visible_points(self) -> float:
        return sum(t.points for t in self.tests if not t.hidden)

    @property
    def estimate(self) -> float:
        return round(sum(t.got for t in self.tests if not t.hidden), 2)

    @property
    def hidden_points(self) -> float:
        return sum(t.points for t in self.tests if t.hidden)

    def format(self) -> str:
        lines = [f"coursekit check: {self.notebook} (ran in {self.seconds:.1f} s)"]
        width = max([len(t.grade_id) for t in self.tests] + [10])
        for t in self.tests:
            if t.hidden:
                continue
            word = "PASS" if t.passed else "FAIL"
            line = f"  {word}  {t.grade_id:<{width}}  {t.got:g} / {t.points:g}"
            if t.cases and not t.passed:
                line += f"   ({t.cases})"
            if not t.passed and t.message:
                line += f"   {t.message}"
            lines.append(line)
        n_hidden = sum(1 for t in self.tests if t.hidden)
        if n_hidden:
            lines.append(f"  ....  {n_hidden} hidden test(s) worth {self.hidden_points:g} points run only "
                         f"when your notebook is graded; your feedback then names, for each one, the "
                         f"families of cases it failed and passed (listed in the assignment's "
                         f"introduction), never its inputs")
        for e in self.cell_errors[:5]:   # cells counted from 1, as the grader's statuses count them
            lines.append(f"  note: cell {e[0] + 1}: {e[1]}")
        lines.append(f"Points estimate: {self.estimate:g} / {self.visible_points:g} visible points "
                     f"({self.visible_points + self.hidden_points:g} in total with the hidden tests)")
        lines.append("  (scored as the grader scores them: partial credit per case)" if self.graded else
                     "  (a test counts in full when its cell ran without error; the grader gives partial "
                     "credit per case)")
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.status and self.status != "graded":
            lines.append(f"Graded as it is now, your notebook would end with: {self.status}")
            if self.advice:
                lines.append(f"  {self.advice}")
        if self.limits:
            lines.append("Limits when your notebook is graded:")
            lines += [f"  - {x}" for x in self.limits]
        return "\n".join(lines)


def _is_hidden(source: str) -> bool:
    """A release test cell whose hidden part was stripped: nothing but comments left."""
    code = [line for line in normalize(source).split("\n") if line.strip() and not line.strip().startswith("#")]
    return not code


def _error_text(outputs) -> str | None:
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()[:300]
    return None


def _release(path: Path, root: Path | None = None) -> tuple[dict, dict]:
    """({normalized source: nbgrader metadata} of the release's test cells, the release's
    ``metadata["coursekit"]``) for the assignment named like ``path``: from the course's
    release notebook, else from the visible-case pack; empty when unknown."""
    import json

    from .notebook import read_cells
    from .release import course_root
    from .visible import PackError, find_pack, read_pack

    try:
        rel = Path(root or course_root()) / "assignments" / path.stem / f"{path.stem}.ipynb"
        if rel.is_file():
            settings = json.loads(rel.read_text()).get("metadata", {}).get("coursekit", {})
            return {normalize(c.source): c.nbgrader for c in read_cells(rel) if c.is_test}, settings
    except (FileNotFoundError, OSError, ValueError):
        pass
    try:
        found = find_pack(path, root=root)
        pack = read_pack(found) if found else None
        if pack is None:
            return {}, {}
        tests = {normalize(c["source"]): c["nbgrader"] for c in pack["release"]
                 if "source" in c and c["nbgrader"].get("grade") and not c["nbgrader"].get("solution")}
        return tests, pack["settings"]
    except (PackError, KeyError, TypeError, AttributeError):
        return {}, {}


class PackUnusable(RuntimeError):
    """The visible-case pack is there but cannot serve this notebook (stale or unreadable)."""


def grader_scores(path: Path, root: Path | None = None) -> dict | None:
    """{grade_id: TestResult} of the visible tests, computed as ``coursekit autograde`` computes
    them (the sandboxed child runs a copy of the notebook, ``score_tests`` scores each case), or
    None where neither the assignment's spec nor its visible-case pack is at hand.
    ``root``: the course (default: the checkout, if any). :class:`PackUnusable` when the pack
    is stale or unreadable."""
    result = grader_result(path, root)
    return None if result is None else {t.grade_id: t for t in result.tests if not t.hidden}


def grader_result(path: Path, root: Path | None = None):
    """The grader's :class:`~coursekit.grading.runner.SubmissionResult` of a copy of the notebook,
    visible cases only (status, cell errors, visible tests), or None (see :func:`grader_scores`)."""
    import shutil
    import tempfile

    from .runner import grade_submission

    a = _assignment(Path(path), root)
    if a is None:
        return None
    with tempfile.TemporaryDirectory(prefix="coursekit-check-") as tmp:
        folder = Path(tmp) / "check" / a.name
        folder.mkdir(parents=True)
        shutil.copyfile(path, folder / f"{a.name}.ipynb")
        result = grade_submission(a, "check", folder)
    if result.status.startswith("error: sandbox"):  # this machine, not the notebook: the cells' rule
        raise RuntimeError(result.status)
    return result


def _assignment(path: Path, root: Path | None):
    """The grader's assignment of the visible tests (:func:`~coursekit.grading.visible.assignment_from_pack`)
    of a pack built from the spec (course checkout) or read from the ``.visible`` file."""
    from ..config import fast_mode
    from .notebook import InvalidNotebook, read_cells
    from .release import course_root
    from .spec import spec_path
    from .visible import PackError, assignment_from_pack, find_pack, read_pack, stale_reason

    name, fast = path.stem, fast_mode()
    try:
        student = read_cells(path)
    except (InvalidNotebook, OSError):
        student = []
    try:
        course = Path(root) if root is not None else course_root()
    except FileNotFoundError:
        course = None
    found = None
    try:
        if course is not None:
            sources = [spec_path(course, name), course / "solutions" / name / f"{name}.ipynb",
                       course / "assignments" / name / f"{name}.ipynb"]
            if all(p.is_file() for p in sources):
                pack = _spec_pack(str(course.resolve()), name, fast, tuple(p.stat().st_mtime_ns for p in sources))
                return assignment_from_pack(pack, fast, student, course)
        found = find_pack(path, root=root)
        if found is None:
            return None
        pack = read_pack(found)
        if found.stem != name:  # the only pack beside a renamed notebook
            name = found.stem
        why = stale_reason(pack, name, student)
        if why:
            raise PackError(f"stale: {why}")
        return assignment_from_pack(pack, fast, student, found.parent)
    except PackError as e:
        raise PackUnusable(f"{found.name if found else name}: {e}") from None


@functools.lru_cache(maxsize=8)
def _spec_pack(root: str, name: str, fast: bool, stamp: tuple) -> dict:
    """The pack :func:`~coursekit.grading.visible.build_pack` makes from the checkout's spec
    (this mode only), once per process and version of the sources (``stamp``)."""
    from .visible import build_pack

    return build_pack(Path(root), name, Path(root) / "assignments" / name / f"{name}.ipynb", fast=fast)


def check_notebook(path: str | Path, timeout: float | None = None, kernel_name: str = "python3",
                   root: str | Path | None = None) -> CheckReport:
    """Execute a copy of the notebook and report each test cell; visible points from
    :func:`grader_scores` where the spec or the visible-case pack is at hand (``root``: the
    course, default the checkout or the installed wheel)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass the path of your assignment notebook, e.g. "
                                "assignments/a1_conv_arithmetic/a1_conv_arithmetic.ipynb")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{path} is not a readable notebook ({type(e).__name__}: {e})") from None
    from .limits import GradingLimits

    release_tests, release_settings = _release(path, root)
    settings = nb.metadata.get("coursekit") or release_settings
    policy = GradingLimits.from_settings(settings if isinstance(settings, dict) else {})
    cell_timeout = timeout or policy.cell_timeout
    t0 = time.perf_counter()
    running = []   # index of the cell being run (the last one when the kernel dies)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name=kernel_name, allow_errors=True,
                            interrupt_on_timeout=True, on_cell_execute=lambda cell, cell_index: running.append(cell_index),
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    died = None
    try:
        client.execute()
    except DeadKernelError:  # os._exit(), a crash in a C library, the machine's memory: report it
        died = running[-1] if running else 0
    report = CheckReport(path.name, time.perf_counter() - t0, limits=policy.describe())
    if died is not None:
        report.cell_errors.append((died, "the kernel died while this cell ran (no error message); the cells "
                                         "after it did not run"))
    seen = set()
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if not (meta.get("grade") and not meta.get("solution")):
            # a test cell whose metadata another editor dropped counts as autograde counts it
            meta = release_tests.get(normalize(cell.source), meta)
        if meta.get("grade_id") in seen:
            continue
        err = _error_text(cell.get("outputs", []))
        if meta.get("grade") and not meta.get("solution"):
            seen.add(meta.get("grade_id"))
            hidden = _is_hidden(cell.source)
            report.tests.append(CheckedTest(meta.get("grade_id", f"cell {i}"), float(meta.get("points", 0)),
                                            hidden, None if hidden else err is None, err or ""))
        elif err:
            report.cell_errors.append((i, err))
    try:
        result = grader_result(path, root)
        graded = None if result is None else {t.grade_id: t for t in result.tests if not t.hidden}
        if result is not None:
            from .statuses import advice

            report.status, report.advice = result.status, advice(result.status, policy)
        if graded is None:
            report.note = (f"no visible-case pack ({path.stem}.visible) beside your notebook or in the course: "
                           "keep the file that came with the assignment next to it")
    except PackUnusable as e:
        graded, report.note = None, f"the visible-case pack cannot be used ({e})"[:300]
    except Exception as e:  # noqa: BLE001 - e.g. no sandbox on this system: the cells' rule
        graded, report.note = None, f"the grader's scoring could not run here ({type(e).__name__}: {e})"[:300]
    if graded is not None:
        report.graded = True
        for t in report.tests:
            r = graded.get(t.grade_id)
            if r is None or t.hidden:
                continue
            t.score, t.passed = r.score, r.score >= r.points
            t.cases = f"{r.passed} of {r.total} cases passed"
            if not t.passed and not t.message:
                t.message = "; ".join(r.messages[:2])
        listed = {t.grade_id for t in report.tests}
        for gid, r in graded.items():   # a visible test cell the student deleted still counts
            if gid not in listed:
                report.tests.append(CheckedTest(gid, r.points, False, r.score >= r.points,
                                                "test cell missing from your notebook (graded from the release)",
                                                r.score, f"{r.passed} of {r.total} cases passed"))
    report.seconds = time.perf_counter() - t0
    return report
