"""Feedback off the single writer, a light feedback page, and the child of the checkout under
test (issues 19 and 22).

The batch tests replace the sandboxed grading of each submission with a stand-in that
returns full marks after a short sleep (the sandbox has its own tests): what is tested
here is the batch machinery around it — which thread writes what, one gradebook row per
student, resume after SIGKILL with feedback on and ``--parallel 2``. The clone test runs
the real sandbox from a copy of the package whose child marks its results.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grading_corpus import A1, code_cell, honest, insert, make_course, markdown_cell, write

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("grading_throughput")


# ------------------------------------------------------------------ the light feedback page
def _result(a, student="s", score_all=True):
    from coursekit.grading.runner import SubmissionResult, score_tests

    r = SubmissionResult(student, a.name, "graded", max_score=a.max_score)
    outs = {i: {"values": a.expected[i]} for i in range(len(a.cases))} if score_all else {}
    r.tests = score_tests(a, outs, reason="" if score_all else "no result")
    r.score = round(sum(t.score for t in r.tests), 2)
    return r


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """a1 prepared once (its reference outputs come from one sandboxed run), and a gradebook
    that knows it (creating one runs nbgrader's alembic: seconds)."""
    from coursekit.grading import gradebook
    from coursekit.grading.runner import prepare

    tmp = tmp_path_factory.mktemp("prep")
    course = make_course(tmp / "course")
    (tmp / "grading").mkdir()
    gradebook.ensure_assignment(tmp / "grading", course, A1)
    return prepare(A1, course, tmp / "grading", fast=True, seed=5), course


def _grading_dir(prepared, tmp_path) -> Path:
    """A grading folder holding a copy of the module's gradebook."""
    a, course = prepared
    grading = tmp_path / "grading"
    grading.mkdir()
    src = next(p for p in Path(course).parent.glob("grading/gradebook.db"))
    shutil.copy(src, grading / "gradebook.db")
    return grading


ATTACKS = [
    '<script>alert("x")</script>', '<img src=x onerror="alert(1)">', "[a](javascript:alert(2))",
    "[b](JaVaScRiPt&#58;alert(3))", "[c](jav&#x61;script:alert(4))", "<javascript:alert(5)>",
    "![d](data:text/html;base64,PHNjcmlwdD4=)", "[e]( \tvbscript:msgbox(6))",
    '<a href="javascript:alert(7)">f</a>', "<svg onload=alert(8)>", "<iframe src=//evil>",
]


def test_feedback_page_is_script_free_readable_and_hides_hidden_tests(prepared):
    from coursekit.grading import feedback
    from coursekit.grading.notebook import parse_notebook

    a, course = prepared
    nb = insert(honest(course), [markdown_cell("# My notes\n\nx < y & z\n\n" + "\n\n".join(ATTACKS)),
                                 code_cell("x = '<script>alert(9)</script>'")], "end")
    cells = parse_notebook(json.dumps(nb).encode())
    result = _result(a)
    page = feedback.to_html(feedback.feedback_notebook(result, a.release, cells))
    low = page.lower()
    assert "<script" not in low and "<iframe" not in low and "<svg" not in low
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+\s*=", low), "an event-handler attribute survived"
    for m in re.finditer(r'(?:href|src)\s*=\s*"([^"]*)"', page):
        url = re.sub(r"[\x00-\x20]", "", __import__("html").unescape(m.group(1))).lower()
        assert not url.startswith(("javascript:", "vbscript:", "data:")), m.group(0)
    assert "script-src" not in page and "default-src 'none'" in page  # CSP: no script at all
    assert "<h1>My notes</h1>" in page and "&lt;script&gt;alert(9)" in page  # rendered, escaped
    assert "x &lt; y &amp; z" in page and "&amp;gt;" not in page and "&amp;lt;" not in page  # escaped once
    hidden = [t for t in result.tests if t.hidden]
    assert hidden and page.count("hidden test:") >= len(hidden)  # one line each (and the summary)
    for src in (c.source for c in a.source if c.is_test and "HIDDEN" in c.source):
        for line in src.splitlines():
            if "assert" in line or "==" in line:
                assert line.strip() not in page, line  # no hidden test code
    visible = [t for t in result.tests if not t.hidden]
    assert all(f"visible test {t.grade_id}: passed" in page for t in visible)


def test_feedback_page_of_a_hostile_notebook_is_bounded_in_time_and_size(prepared):
    from coursekit.grading import feedback
    from coursekit.grading.notebook import Cell

    a, _ = prepared
    slow = "*[_`" * 5000                  # 20,000 characters mistune handles slowly
    cells = [Cell("markdown", slow, {}) for _ in range(3000)] + [Cell("code", "y = 1\n" * 5000, {})]
    t0 = time.perf_counter()
    page = feedback.to_html(feedback.feedback_notebook(_result(a), a.release, cells))
    seconds = time.perf_counter() - t0
    assert seconds < 10, f"{seconds:.1f} s"  # ~0.5 s on a quiet core
    assert len(page) < 3 * feedback.MAX_TOTAL_CHARS
    assert "more cells of your notebook are not shown" in page


# ------------------------------------------------------------------ the batch around grading
def _fake_grade(delay: float):
    def grade(a, student, folder, batch):
        from coursekit.grading.autograde import _checksum

        r = _result(a, student)
        r.checksum, r.batch = _checksum(folder), batch
        time.sleep(delay)
        return r
    return grade


def test_feedback_is_written_by_the_workers_and_the_gradebook_by_one_thread(prepared, tmp_path, monkeypatch):
    from coursekit.grading import autograde as ag
    from coursekit.grading import feedback, gradebook

    a, course = prepared
    for i in range(6):
        write(tmp_path / "submitted", f"s{i}", honest(course))
    threads = {"feedback": set(), "gradebook": set()}
    real_fb, real_gb = feedback.write, gradebook.Writer.write_scores

    def fb(*args, **kw):
        threads["feedback"].add(threading.current_thread().name)
        time.sleep(0.2)  # a slow page must not hold up the writer
        return real_fb(*args, **kw)

    def gb(self, *args, **kw):
        threads["gradebook"].add(threading.current_thread().name)
        return real_gb(self, *args, **kw)

    monkeypatch.setattr(ag, "prepare", lambda *args, **kw: a)
    monkeypatch.setattr(ag, "_safe_grade", _fake_grade(0.05))
    monkeypatch.setattr(feedback, "write", fb)
    monkeypatch.setattr(gradebook.Writer, "write_scores", gb)
    grading = _grading_dir(prepared, tmp_path)
    report = ag.autograde(A1, root=course, grading_dir=grading, submitted_dir=tmp_path / "submitted",
                          parallel=2, seed=5, progress=False, fast=True, html=True)
    assert threads["gradebook"] == {threading.current_thread().name}
    assert threads["feedback"] and threading.current_thread().name not in threads["feedback"]
    assert {s: r.status for s, r in report.results.items()} == {f"s{i}": "graded" for i in range(6)}
    assert gradebook.scores(grading, A1) == {f"s{i}": a.max_score for i in range(6)}
    for i in range(6):
        assert (grading / "feedback" / f"s{i}" / A1 / f"{A1}.html").is_file()
        assert (grading / "autograded" / f"s{i}" / A1 / f"{A1}.ipynb").is_file()
    assert set(report.phases) == {"grade", "feedback", "gradebook"}


def test_sigkill_with_feedback_on_and_two_workers_loses_and_duplicates_nothing(prepared, tmp_path,
                                                                             monkeypatch):
    """Killed mid-batch (a forked copy of this process grading with two workers, feedback
    on), then resumed: every student has exactly one gradebook row, its journal, feedback
    and autograded notebook; the ones graded before the kill are kept, not re-graded."""
    import sqlite3

    from coursekit.grading import autograde as ag
    from coursekit.grading import gradebook

    a, course = prepared
    n = 12
    for i in range(n):
        write(tmp_path / "submitted", f"s{i:02d}", honest(course))
    grading = _grading_dir(prepared, tmp_path)
    monkeypatch.setattr(ag, "prepare", lambda *args, **kw: a)
    monkeypatch.setattr(ag, "_safe_grade", _fake_grade(0.3))
    kw = dict(root=course, grading_dir=grading, submitted_dir=tmp_path / "submitted", parallel=2, seed=5,
              progress=False, fast=True, html=True)
    pid = os.fork()
    if pid == 0:  # the batch that gets killed
        try:
            ag.autograde(A1, **kw)
        finally:
            os._exit(0)
    journals = grading / "autograde" / A1
    deadline = time.time() + 120
    while time.time() < deadline:
        if journals.is_dir() and len(list(journals.glob("*.json"))) >= 3:
            break
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    first = {p.stem: p.stat().st_mtime_ns for p in journals.glob("*.json")}
    assert 3 <= len(first) < n, sorted(first)
    report = ag.autograde(A1, resume=True, **kw)
    everyone = {f"s{i:02d}" for i in range(n)}
    assert set(report.resumed) == set(first) and set(report.graded) == everyone - set(first)
    for s, mtime in first.items():
        assert ag.journal_path(grading, A1, s).stat().st_mtime_ns == mtime
    assert gradebook.scores(grading, A1) == {s: a.max_score for s in everyone}
    with sqlite3.connect(grading / "gradebook.db") as db:
        rows = db.execute("select student_id, count(*) from submitted_assignment "
                          "group by student_id").fetchall()
    assert sorted(rows) == [(s, 1) for s in sorted(everyone)]
    for s in everyone:
        assert (grading / "feedback" / s / A1 / f"{A1}.html").is_file()


# ------------------------------------------------------------------ warm children (issue 19)
@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0),
                    reason="warm children are forked in root mode (CI runs as root)")
def test_graded_children_are_forked_from_one_warm_zygote(prepared, tmp_path):
    """Root mode: grading starts (or finds) a zygote holding the child's modules, and the next
    submission forks from the same one (no new zygote), with the honest full score."""
    from coursekit.grading import zygote
    from coursekit.grading.runner import WARM, grade_submission

    a, course = prepared
    write(tmp_path / "submitted", "bob", honest(course))
    scores = []
    for _ in range(2):
        r = grade_submission(a, "bob", tmp_path / "submitted" / "bob" / A1)
        scores.append((r.status, r.score))
        live = {k: z for k, z in zygote._zygotes.items() if z is not None and z.proc.poll() is None}
        assert live, "no warm zygote serves the grader's children"
        if len(scores) == 1:
            first = live
    assert scores == [("graded", a.max_score)] * 2
    assert live == first and "numpy" in WARM


# ------------------------------------------------------------------ the child of the checkout (issue 22)
@pytest.mark.slow
def test_the_child_is_the_one_of_the_checkout_that_grades(tmp_path):
    """A second copy of the package, under a 0700 directory, whose child marks its cells
    frame: grading from that copy shows the mark (the sandboxed child, running as an
    unprivileged uid in root mode, imported the copy's code, not the installed coursekit)."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    clone = private / "clone"
    shutil.copytree(ROOT / "coursekit", clone / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    child = clone / "coursekit" / "grading" / "child.py"
    src = child.read_text()
    old = '_send(fd, {"kind": "cells", "errors": errors,'
    assert src.count(old) == 1
    child.write_text(src.replace(old, '_send(fd, {"kind": "cells", "errors": errors + [{"cell": 0, '
                                      '"error": "MARK: graded by the clone\'s child"}],'))
    course = make_course(tmp_path / "course")
    write(tmp_path / "submitted", "alice", honest(course))
    driver = textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(clone)!r})
        from pathlib import Path
        import coursekit
        assert coursekit.__file__.startswith({str(clone)!r}), coursekit.__file__
        from coursekit.grading.runner import grade_submission, prepare
        a = prepare({A1!r}, Path({str(course)!r}), Path({str(tmp_path / "grading")!r}), fast=True, seed=5)
        r = grade_submission(a, "alice", Path({str(tmp_path / "submitted" / "alice" / A1)!r}))
        print(json.dumps([r.status, r.score, r.max_score, r.cell_errors]))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", driver], cwd=str(tmp_path), env=env, capture_output=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    status, score, max_score, errors = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert (status, score) == ("graded", max_score), (status, errors)
    assert any("MARK: graded by the clone's child" in e["error"] for e in errors), errors
    assert oct(private.stat().st_mode & 0o777) == "0o700"
