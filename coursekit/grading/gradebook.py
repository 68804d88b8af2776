"""Writing trusted scores into nbgrader's gradebook through nbgrader's own API.

``nbgrader export``, the formgrader and feedback then show coursekit's scores. Only
``auto_score`` of test cells is written: manual scores and extra credit are never touched
(they stay the instructor's), and a cell with an instructor's manual score keeps
``needs_manual_grade`` for review, as nbgrader does.
"""
from __future__ import annotations

import functools
import sqlite3
import time
from pathlib import Path

from .notebook import read_cells


def ensure_tools_on_path() -> None:
    """Before nbgrader creates a gradebook: it stamps a new one with its schema's newest
    revision, which it asks a separate ``alembic heads`` process for (5-20 s: alembic loads every
    migration script); :func:`alembic_head` reads the same answer from the scripts' text, once
    per process. The venv's bin folder is put on PATH too, so the ``alembic`` command is found
    (by nbgrader's fallback) when python was started by full path."""
    import os
    import sys

    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in parts if p])
    import nbgrader.api as api

    head = alembic_head()
    if head is not None and not getattr(api.get_alembic_version, "coursekit_head", None):
        def get_alembic_version() -> str:
            return head
        get_alembic_version.coursekit_head = head
        api.get_alembic_version = get_alembic_version


@functools.lru_cache(maxsize=1)
def alembic_head() -> str | None:
    """The newest revision of nbgrader's gradebook schema: the one ``revision = '...'`` of its
    migration scripts that no script names as its ``down_revision``. None unless there is
    exactly one (then nbgrader asks alembic itself)."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("nbgrader")   # its location, without importing it (seconds)
    if spec is None or not spec.submodule_search_locations:
        return None
    revs, downs = set(), set()
    for path in (Path(list(spec.submodule_search_locations)[0]) / "alembic" / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        rev = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if rev is None or down is None:  # a script this reader does not understand
            return None
        revs.add(rev.group(1))
        downs.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 and revs else None


def db_url(grading_dir: Path) -> str:
    return "sqlite:///" + str(Path(grading_dir).resolve() / "gradebook.db")


def backup(grading_dir: Path) -> Path | None:
    """Copy ``gradebook.db`` to ``backups/gradebook-<time>.db`` (sqlite online backup)."""
    src = Path(grading_dir) / "gradebook.db"
    if not src.exists():
        return None
    dest_dir = Path(grading_dir) / "backups"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / time.strftime("gradebook-%Y%m%d-%H%M%S.db")
    n = 1
    while dest.exists():
        dest = dest_dir / time.strftime(f"gradebook-%Y%m%d-%H%M%S-{n}.db")
        n += 1
    with sqlite3.connect(src) as s, sqlite3.connect(dest) as d:
        s.backup(d)
    return dest


def ensure_assignment(grading_dir: Path, root: Path, name: str) -> None:
    """Record the assignment, its notebook, grade cells (points) and answer cells in the
    gradebook, as ``nbgrader generate_assignment`` does (idempotent; updates points)."""
    import warnings

    from nbgrader.api import Gradebook

    cells = read_cells(Path(root) / "solutions" / name / f"{name}.ipynb")
    ensure_tools_on_path()
    with Gradebook(db_url(grading_dir)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(name)
        gb.update_or_create_notebook(name, name)
        for c in cells:
            if c.is_test:
                gb.update_or_create_grade_cell(c.grade_id, name, name, max_score=float(c.nbgrader.get("points", 0)),
                                               cell_type=c.cell_type)
            elif c.is_answer:
                gb.update_or_create_solution_cell(c.grade_id, name, name)


def write_scores(grading_dir: Path, result, timestamp=None,
                 student_id: str | None = None) -> None:
    """Store one SubmissionResult: student, submission (``timestamp``: when it was
    submitted, a UTC datetime, or None) and each test cell's auto_score (under
    ``student_id``, default the result's student)."""
    with Writer(grading_dir) as book:
        book.write_scores(result, timestamp, student_id)


class Writer:
    """The gradebook held open for a batch (opening it costs more than a write): each
    :meth:`write_scores` is one submission's own commit, rolled back if it fails.
    Single-threaded: only the batch's one writer thread uses it."""

    def __init__(self, grading_dir: Path):
        from nbgrader.api import Gradebook

        ensure_tools_on_path()
        self.gb = Gradebook(db_url(grading_dir))

    def write_scores(self, result, timestamp=None, student_id: str | None = None) -> None:
        import warnings

        gb = self.gb
        sid = student_id or result.student
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy autoflush warnings
                gb.update_or_create_student(sid)
                kwargs = {"timestamp": timestamp} if timestamp else {}
                gb.update_or_create_submission(result.assignment, sid, **kwargs)
                for t in result.tests:
                    grade = gb.find_grade(t.grade_id, result.assignment, result.assignment, sid)
                    grade.auto_score = float(t.score)
                    grade.needs_manual_grade = grade.manual_score is not None
                gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise

    def close(self) -> None:
        self.gb.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def scores(grading_dir: Path, name: str) -> dict[str, float]:
    """student -> total score of ``name`` as nbgrader computes it from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url(grading_dir)) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(name)}


def max_points(root: Path, name: str) -> float:
    cells = read_cells(Path(root) / "solutions" / name / f"{name}.ipynb")
    return float(sum(float(c.nbgrader.get("points", 0)) for c in cells if c.is_test))
