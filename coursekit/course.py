"""``make course``: execute the lectures into build/ and print a summary table.

Steps are functions ``step(out: Path, fast: bool, only: str) -> (header, rows)`` collected
in :data:`STEPS`; each returns a summary table whose last column is a status, and the build
fails if any row's status is not ``ok``.
"""
from __future__ import annotations

import os
from concurrent.futures import as_completed
from pathlib import Path

from .lessons import _env, execute, lesson_paths


_RUNS: list = []  # the lesson runs of this build, read by claims_step


def exclusive_reason(path: Path) -> str:
    """Why a lesson must run alone (it times CPU threads), from its metadata
    ``{"coursekit": {"exclusive": "<why>"}}``; ``""`` when it may share the machine."""
    import json

    meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return str(meta.get("coursekit", {}).get("exclusive", ""))


def course_jobs() -> int:
    """Lessons executed at once: ``COURSEKIT_JOBS``, else one per CPU core (at most 4)."""
    value = os.environ.get("COURSEKIT_JOBS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"COURSEKIT_JOBS={value!r}: expected a whole number >= 1 (e.g. COURSEKIT_JOBS=2)")
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


def _execute_sharing(path: Path, out_dir: Path, fast: bool):
    """:func:`execute` with the kernel on one OpenMP thread, as every lesson that may share the
    machine runs (alone or side by side: its numbers do not depend on ``COURSEKIT_JOBS``)."""
    with _env(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"):
        return execute(path, out_dir, fast=fast, html=True)


def lectures_step(out: Path, fast: bool, only: str):
    """Execute every lecture notebook into ``out/notebooks`` (ipynb + HTML).

    Lessons that time CPU threads (metadata ``coursekit.exclusive``) run alone, first; the
    others run :func:`course_jobs` at a time, each kernel on one thread (also when run one by
    one). Rows keep lesson order.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _RUNS.clear()
    paths = [p for p in lesson_paths() if only in p.name]
    reasons = {p: exclusive_reason(p) for p in paths}
    alone = [p for p in paths if reasons[p]]
    shared = [p for p in paths if not reasons[p]]
    jobs = min(course_jobs(), len(shared)) or 1
    runs, counter = {}, iter(range(1, len(paths) + 1))
    for path in alone:
        print(f"[{next(counter)}/{len(paths)}] executing {path.name} (alone: {reasons[path]}) ...", flush=True)
        runs[path] = execute(path, out / "notebooks", fast=fast, html=True)
    if jobs == 1:
        for path in shared:
            print(f"[{next(counter)}/{len(paths)}] executing {path.name} ...", flush=True)
            runs[path] = _execute_sharing(path, out / "notebooks", fast)
    elif shared:
        print(f"executing {len(shared)} lessons, {jobs} at a time (one thread each) ...", flush=True)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_execute_sharing, p, out / "notebooks", fast): p for p in shared}
            for future in as_completed(futures):
                runs[futures[future]] = run = future.result()
                print(f"[{next(counter)}/{len(paths)}] {run.name}: {run.status} ({run.seconds:.0f} s)", flush=True)
    _RUNS.extend(runs[p] for p in paths)
    rows = [(run.name, f"{run.seconds:.1f}", run.status) for run in _RUNS]
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
