"""``make course``: execute the lectures into build/ and print a summary table.

Steps are functions ``step(out: Path, fast: bool, only: str) -> (header, rows)`` collected
in :data:`STEPS`; each returns a summary table whose last column is a status, and the build
fails if any row's status is not ``ok``.
"""
from __future__ import annotations

from pathlib import Path

from .lessons import execute, lesson_paths


_RUNS: list = []  # the lesson runs of this build, read by claims_step


def lectures_step(out: Path, fast: bool, only: str):
    """Execute every lecture notebook into ``out/notebooks`` (ipynb + HTML)."""
    rows = []
    _RUNS.clear()
    paths = [p for p in lesson_paths() if only in p.name]
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] executing {path.name} ...", flush=True)
        run = execute(path, out / "notebooks", fast=fast, html=True)
        _RUNS.append(run)
        rows.append((run.name, f"{run.seconds:.1f}", run.status))
    return ("notebook", "seconds", "status"), rows


def claims_step(out: Path, fast: bool, only: str):
    """One row per lesson: its claims, how many held, how many were not checked (fast mode).

    A lesson whose claim failed stopped at that claim (its status says which); the row is
    not ``ok`` then. Lessons that state no claim are listed too, so a missing check shows.
    """
    from .claims import FAILED, HELD, NOT_CHECKED

    rows = []
    for run in _RUNS:
        n = len(run.claims)
        held = sum(c["status"] == HELD for c in run.claims)
        unchecked = sum(c["status"] == NOT_CHECKED for c in run.claims)
        failed = [c["text"] for c in run.claims if c["status"] == FAILED]
        status = "ok" if run.ok and not failed else ("failed: " + failed[0] if failed else "lesson failed")
        rows.append((run.name, n, held, unchecked, status))
    return ("lesson", "claims", "held", "not checked", "status"), rows


def figures_step(out: Path, fast: bool, only: str):
    """One row per lesson: the figures it drew and whether each meets the figure style contract
    (``coursekit.viz.style``, checked by ``coursekit.figure_audit``); the problems are printed."""
    rows = []
    for run in _RUNS:
        problems = list(run.figure_problems)
        for p in problems:
            print(f"  {run.name}: {p}")
        status = "ok" if not problems else f"{len(problems)} problem(s): {problems[0]}"[:160]
        rows.append((run.name, run.figures, status if run.ok else "lesson failed"))
    return ("lesson", "figures", "status"), rows


def assignments_step(out: Path, fast: bool, only: str):
    """Verify the release, autograde solution/blank/buggy samples, feedback + grades CSV."""
    from .grading.course_step import assignments_step as step

    return step(out, fast, only)


STEPS = [("lecture notebooks", lectures_step), ("claims", claims_step), ("figures", figures_step),
         ("assignments", assignments_step)]


def format_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A plain-text table with aligned columns."""
    cells = [tuple(map(str, header))] + [tuple(map(str, r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def build_course(out: str = "build", fast: bool = False, only: str = "") -> int:
    """Run every step, print one summary table per step; return the exit code."""
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    failed = 0
    summaries = []
    for title, step in STEPS:
        header, rows = step(out_path, fast, only)
        failed += sum(1 for r in rows if r[-1] != "ok")
        summaries.append((title, header, rows))
    for title, header, rows in summaries:
        print(f"\n== {title} ==")
        print(format_table(header, rows))
    print(f"\n{'FAILED' if failed else 'OK'}: outputs in {out_path.resolve()}")
    return 1 if failed else 0
