"""Every status the grader can give tells the student what happened and what to do."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from coursekit.grading.limits import GradingLimits
from coursekit.grading.statuses import DEFAULT, advice

GRADING = Path(__file__).resolve().parent.parent / "coursekit" / "grading"


def _status_literals() -> set[str]:
    """The fixed start of every status string the grading code writes (``"error: ..."``
    literals and f-strings, up to the first placeholder), read from the source."""
    found = set()
    for path in GRADING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                text = str(node.values[0].value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if text.startswith("error: ") or text in ("timeout", "graded"):
                found.add(text)
    return found


def _fail_whats() -> set[str]:
    """``error: <what>: ...`` statuses written by autograde's ``_fail(result, "<what>", ...)``."""
    tree = ast.parse((GRADING / "autograde.py").read_text())
    return {f"error: {n.args[1].value}: x" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_fail"
            and len(n.args) > 1 and isinstance(n.args[1], ast.Constant)}


# the sandbox's raw statuses that runner.run_child turns into "error: kernel died <where>" (the
# student never sees an exit code or a signal: test_statuses_carry_no_exit_code_or_signal)
MAPPED = {"error: exit code", "error: killed by signal"}


def test_every_status_the_grader_writes_has_its_own_advice():
    statuses = _status_literals()
    assert {"timeout", "graded", "error: memory limit", "error: kernel died ", "error: "} <= statuses, statuses
    whats = _fail_whats()
    assert len(whats) >= 3, whats
    statuses = (statuses - {"error: "} | whats)
    generic = [s for s in statuses if s.strip() not in MAPPED and advice(s.rstrip(" (")) == DEFAULT]
    assert not generic, f"statuses without advice: {generic}"


def test_advice_says_what_to_do_and_quotes_the_assignments_limits():
    policy = GradingLimits(cell_timeout=45, scratch_budget=45, total_timeout=300, memory_mb=2048)
    text = advice("timeout", policy)
    assert "300 s" in text and "45 s" in text and "submit again" in text
    assert "2048 MiB" in advice("error: memory limit (2048 MiB) exceeded in cell 4 of your notebook, "
                                "about 2300 MiB in use", policy)
    assert "Restart & Run All" in advice("error: kernel died in cell 3 of your notebook")
    assert advice("graded") == ""
    # a status caused by the grading machine says there is nothing to fix
    for s in ("error: sandbox: cannot start supervisor: x", "error: grader failed (KeyError: 'x')",
              "error: could not write feedback: OSError: disk full"):
        assert "nothing to fix" in advice(s), s
    assert advice("error: something new") == DEFAULT


def test_feedback_shows_the_advice_under_the_status():
    from coursekit.grading.feedback import summary_markdown
    from coursekit.grading.runner import SubmissionResult

    r = SubmissionResult("s1", "a1_conv_arithmetic", "error: kernel died in cell 3 of your notebook",
                         max_score=20.0)
    text = summary_markdown(r, GradingLimits())
    assert re.search(r"\*\*What this status means:\*\* Python stopped", text), text
    ok = SubmissionResult("s1", "a1_conv_arithmetic", "graded", score=20.0, max_score=20.0)
    assert "What this status means" not in summary_markdown(ok)


def test_check_survives_a_dying_kernel_and_shows_the_graders_status_with_its_advice(tmp_path):
    """A notebook whose cell kills Python (os._exit): check reports that cell (counted from 1, as
    the grader counts) instead of a traceback, and prints the status autograde would give and
    what to do."""
    from coursekit.grading.check import check_notebook
    from grading_corpus import code_cell, honest, insert, make_course, write

    course = make_course(tmp_path / "course")
    nb = insert(honest(course), [code_cell("import os\nos._exit(3)")], "end")
    report = check_notebook(write(tmp_path / "submitted", "s", nb), root=course)
    n = len(nb["cells"])
    assert report.status == f"error: kernel died in cell {n} of your notebook", report.status
    text = report.format()
    assert f"note: cell {n}: the kernel died" in text, text
    assert report.advice in text and "Restart & Run All" in report.advice
