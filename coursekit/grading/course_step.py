"""The assignments step of ``make course`` (``coursekit course``).

For each assignment: verify that ``assignments/`` is exactly what nbgrader generates from
``solutions/``; autograde with ``coursekit autograde`` (trusted runner) the solution, the blank
release and the buggy samples under ``tests/submissions/<assignment>/``; compare each score
with the one it deserves (``tests/submissions/expected_scores.json``); write feedback HTML
(``build/grading/feedback/``) and export the grades to ``build/grades.csv`` with ``nbgrader export``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import samples
from .autograde import autograde
from .release import available, course_root, verify_releases

HEADER = ("assignment", "max points", "solution", "blank", "buggy", "seconds", "status")


def expected_scores(root: Path) -> dict:
    path = Path(root) / "tests" / "submissions" / "expected_scores.json"
    return json.loads(path.read_text()) if path.exists() else {}


def stage_submissions(root: Path, name: str, submitted: Path) -> list[str]:
    """Write solution, blank and buggy samples as students; returns the student ids."""
    samples.write_submission(samples.solution_notebook(root, name), submitted, "solution", name)
    samples.write_submission(samples.release_notebook(root, name), submitted, "blank", name)
    students = ["solution", "blank"]
    for p in sorted((Path(root) / "tests" / "submissions" / name).glob("*.ipynb")):
        samples.write_submission(p.read_bytes(), submitted, p.stem, name)
        students.append(p.stem)
    return students


def export_csv(grading_dir: Path, dest: Path) -> subprocess.CompletedProcess:
    """``nbgrader export`` (CSV) of the gradebook in ``grading_dir`` to ``dest``."""
    env = dict(os.environ, COURSEKIT_GRADING_DIR=str(Path(grading_dir).resolve()))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    nbgrader = Path(sys.executable).parent / "nbgrader"
    cmd = [str(nbgrader)] if nbgrader.exists() else [sys.executable, "-m", "nbgrader"]
    return subprocess.run(cmd + ["export", "--to", str(Path(dest).resolve())], cwd=str(course_root()),
                          env=env, capture_output=True, text=True)


def assignments_step(out: Path, fast: bool, only: str):
    """Verify, autograde and summarise every assignment (one row each)."""
    root = course_root()
    grading = Path(out) / "grading"
    if grading.exists():
        shutil.rmtree(grading)  # build output of an earlier run
    grading.mkdir(parents=True)
    expected = expected_scores(root)
    rows = []
    names = [a for a in available(root) if only in a] if only else available(root)
    print(f"verifying the release of {len(names)} assignment(s) ...", flush=True)
    differences = verify_releases(root, names)  # one scratch gradebook for all
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] assignment {name}: autograde samples ...", flush=True)
        problems = differences[name]
        submitted = grading / "submitted"
        stage_submissions(root, name, submitted)
        report = autograde(name, root=root, grading_dir=grading, submitted_dir=submitted, fast=fast,
                           progress=False)
        res = report.results
        want = expected.get(name, {})
        mismatches = [f"{s}: {r.score:g} != {want[s]:g}" for s, r in sorted(res.items())
                      if s in want and abs(r.score - float(want[s])) > 1e-6]
        errors = [f"{s}: {r.status}" for s, r in sorted(res.items()) if r.status != "graded"]
        buggy = ", ".join(f"{s[len('buggy_'):] if s.startswith('buggy_') else s} {r.score:g}"
                          for s, r in sorted(res.items()) if s not in ("solution", "blank"))
        max_pts = res["solution"].max_score
        status = "ok"
        if problems:
            status = "release differs: " + problems[0]
        elif errors:
            status = "; ".join(errors)
        elif mismatches:
            status = "unexpected score " + "; ".join(mismatches)
        elif res["solution"].score != max_pts or res["blank"].score > 0.1 * max_pts:
            status = "solution below max or blank above 10%"
        rows.append((name, f"{max_pts:g}", f"{res['solution'].score:g}", f"{res['blank'].score:g}", buggy,
                     f"{report.seconds:.1f}", status))
    if names:
        done = export_csv(grading, Path(out) / "grades.csv")
        if done.returncode != 0:
            rows.append(("nbgrader export", "", "", "", "", "", f"failed: {done.stderr.strip()[-200:]}"))
    return HEADER, rows
