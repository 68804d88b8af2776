"""Grading works for an ordinary user, from a clone under a private (0700) folder (issue 14).

Run as root (CI), this test acts as that user: ``nobody`` gets a copy of the a1 course (the
package, the source, the release, two samples) in a 0700 folder of its own, and an interpreter
it can execute with the grading stack linked beside it (tests/hub_class.py's environment
builder: the checkout's own venv may sit under a folder ``nobody`` cannot read). As ``nobody``
it runs ``coursekit autograde`` (the sandbox in basic mode: no root, no namespaces) and
``coursekit check``: the exact expected scores, and check's estimate equals autograde's visible
points. Run as an ordinary user, the whole suite is the proof, and root-only isolation tests
skip with their reason.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import hub_class

ROOT = Path(__file__).resolve().parent.parent
A1 = "a1_conv_arithmetic"
NOBODY = 65534
# what the grader and check import (numpy for a1's answers); hard-linked, so cheap
PACKAGES = ("nbgrader", "ipykernel", "numpy", "mistune", "tqdm")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="acting as another user needs root on Linux; as an ordinary user the suite itself runs non-root")]


def _course(dest: Path) -> None:
    """The package and a1 (source, release, samples): what grading a1 reads from a clone."""
    shutil.copytree(ROOT / "coursekit", dest / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__", "course_files"))
    for sub in ("solutions", "assignments", "tests/submissions"):
        shutil.copytree(ROOT / sub / A1, dest / sub / A1)
    for f in ("nbgrader_config.py", "pyproject.toml", "tests/submissions/expected_scores.json"):
        shutil.copy(ROOT / f, dest / f)


DRIVER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from coursekit.grading import samples
    from coursekit.grading.autograde import autograde
    from coursekit.grading.check import check_notebook
    from coursekit.grading.sandbox import run_sandboxed

    root, name = Path(sys.argv[1]), sys.argv[2]
    submitted = root / "grading" / "submitted"
    samples.write_submission(samples.solution_notebook(root, name), submitted, "solution", name)
    sample = root / "tests" / "submissions" / name / "buggy_dilation.ipynb"
    samples.write_submission(sample.read_bytes(), submitted, "buggy_dilation", name)
    report = autograde(name, root=root, grading_dir=root / "grading", parallel=1, seed=3,
                       progress=False, fast=True, html=True)
    checked = check_notebook(submitted / "buggy_dilation" / name / f"{name}.ipynb", root=root)
    iso = run_sandboxed([sys.executable, "-c", "pass"]).isolation
    print(json.dumps({
        "results": {s: [r.status, r.score, sum(t.score for t in r.tests if not t.hidden)]
                    for s, r in report.results.items()},
        "check": [checked.graded, checked.estimate], "mode": iso["mode"]}))
""")


def test_an_ordinary_user_grades_from_a_private_clone():
    py = hub_class.student_python()
    if py is None or not shutil.which("setpriv"):
        pytest.skip("needs setpriv and a Python of this version that nobody can execute")
    work = Path(tempfile.mkdtemp(prefix="coursekit-nonroot-", dir="/tmp"))
    try:
        os.chmod(work, 0o755)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(hub_class, "SERVER_PACKAGES", PACKAGES)
            bindir = hub_class.build_env(work / "env")
        private = work / "private"
        clone = private / "clone"
        _course(clone)
        for p in [private, *private.rglob("*")]:
            os.lchown(p, NOBODY, NOBODY)
        os.chmod(private, 0o700)
        env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(private), "PYTHONPATH": str(clone),
               "COURSEKIT_FAST": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                              str(bindir / "python"), "-c", DRIVER, str(clone), A1],
                             capture_output=True, text=True, timeout=300, cwd=str(private), env=env)
        assert out.returncode == 0, out.stderr[-3000:]
        got = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    expected = json.loads((ROOT / "tests" / "submissions" / "expected_scores.json").read_text())[A1]
    assert got["mode"] == "basic"
    for student in ("solution", "buggy_dilation"):
        status, score, _ = got["results"][student]
        assert (status, score) == ("graded", expected[student]), (student, got)
    graded, estimate = got["check"]
    assert graded and estimate == got["results"]["buggy_dilation"][2]
