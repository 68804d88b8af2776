"""``coursekit check NOTEBOOK``: a student runs the visible tests of an assignment.

The notebook runs top to bottom in a fresh kernel on the student's own machine (a copy: the
file is never modified). Each visible test cell passes when it raises no error — warnings,
stderr and prints never fail a test. Hidden tests are listed with their points only: they
run when the instructor grades, and the feedback then names the families of cases each one
failed and passed (the families are listed in the assignment's introduction).
"""
from __future__ import annotations

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


@dataclass
class CheckReport:
    notebook: str
    seconds: float
    tests: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    limits: list = field(default_factory=list)   # the grading limits, in words

    @property
    def visible_points(self) -> float:
        return sum(t.points for t in self.tests if not t.hidden)

    @property
    def estimate(self) -> float:
        return sum(t.points for t in self.tests if t.passed)

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
            got = t.points if t.passed else 0
            line = f"  {word}  {t.grade_id:<{width}}  {got:g} / {t.points:g}"
            if not t.passed and t.message:
                line += f"   {t.message}"
            lines.append(line)
        n_hidden = sum(1 for t in self.tests if t.hidden)
        if n_hidden:
            lines.append(f"  ....  {n_hidden} hidden test(s) worth {self.hidden_points:g} points run only "
                         f"when your notebook is graded; your feedback then names, for each one, the "
                         f"families of cases it failed and passed (listed in the assignment's "
                         f"introduction), never its inputs")
        for e in self.cell_errors[:5]:
            lines.append(f"  note: cell {e[0]} raised {e[1]}")
        lines.append(f"Points estimate: {self.estimate:g} / {self.visible_points:g} visible points "
                     f"({self.visible_points + self.hidden_points:g} in total with the hidden tests)")
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


def _release(path: Path) -> tuple[dict, dict]:
    """({normalized source: nbgrader metadata} of the release's test cells, the release's
    ``metadata["coursekit"]``) for the assignment named like ``path``; empty when unknown."""
    import json

    from .notebook import read_cells
    from .release import course_root

    try:
        rel = course_root() / "assignments" / path.stem / f"{path.stem}.ipynb"
        if not rel.is_file():
            return {}, {}
        settings = json.loads(rel.read_text()).get("metadata", {}).get("coursekit", {})
        return {normalize(c.source): c.nbgrader for c in read_cells(rel) if c.is_test}, settings
    except (FileNotFoundError, OSError, ValueError):
        return {}, {}


def check_notebook(path: str | Path, timeout: float | None = None, kernel_name: str = "python3") -> CheckReport:
    """Execute a copy of the notebook and report each test cell."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass the path of your assignment notebook, e.g. "
                                "assignments/a1_conv_arithmetic/a1_conv_arithmetic.ipynb")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{path} is not a readable notebook ({type(e).__name__}: {e})") from None
    from .limits import GradingLimits

    release_tests, release_settings = _release(path)
    settings = nb.metadata.get("coursekit") or release_settings
    policy = GradingLimits.from_settings(settings if isinstance(settings, dict) else {})
    cell_timeout = timeout or policy.cell_timeout
    t0 = time.perf_counter()
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name=kernel_name, allow_errors=True,
                            interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    report = CheckReport(path.name, time.perf_counter() - t0, limits=policy.describe())
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
    return report
