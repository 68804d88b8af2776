"""``coursekit report ASSIGNMENT``: what the class got wrong, and which answers look copied.

Reads only what grading already wrote: the journal records ``<grading dir>/autograde/<A>/*.json``
(every test's score for every submission) and the submitted notebooks. Writes, under
``<grading dir>/reports/<A>/``, ``index.html`` (item analysis tables and plots),
``scores.png``, ``pass_rates.png`` and ``similarity.html``; prints a plain-text table.
The report is for the instructor: it names hidden tests, so it never goes to students.
"""
from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .runner import SubmissionResult


class ReportError(ValueError):
    """The report cannot be made (unknown assignment, nothing graded, ...)."""


@dataclass
class ItemStats:
    """One test across the class (over submissions whose status is ``graded``)."""

    grade_id: str
    hidden: bool
    points: float
    n: int
    pass_rate: float           # share with full points on this test
    mean_credit: float         # mean score / points
    only_failure: float        # share whose only failed test is this one
    discrimination: float      # point-biserial r of passing vs the rest of the score (nan if undefined)
    common_failure: str        # most common failure message (visible tests only)
    common_families: str = ""  # hidden tests: the most common set of failed case families


def load_results(grading_dir: Path, assignment: str) -> list[SubmissionResult]:
    """Every journal record of ``assignment`` (one per graded submission), by student."""
    folder = Path(grading_dir) / "autograde" / assignment
    if not folder.is_dir():
        raise ReportError(f"no grading records for '{assignment}' in {folder}: run "
                          f"`coursekit autograde {assignment}` first (or check --grading-dir)")
    results = []
    for p in sorted(folder.glob("*.json")):
        try:
            results.append(SubmissionResult.from_dict(json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError) as e:
            raise ReportError(f"unreadable grading record {p}: {e}") from e
    if not results:
        raise ReportError(f"no graded submissions of '{assignment}' in {folder}")
    return sorted(results, key=lambda r: r.student)


def _point_biserial(passed: list[int], rest: list[float]) -> float:
    n = len(passed)
    if n < 2:
        return math.nan
    mp, mr = sum(passed) / n, sum(rest) / n
    sp = math.sqrt(sum((p - mp) ** 2 for p in passed) / n)
    sr = math.sqrt(sum((r - mr) ** 2 for r in rest) / n)
    if sp == 0 or sr == 0:
        return math.nan
    return sum((p - mp) * (r - mr) for p, r in zip(passed, rest)) / (n * sp * sr)


def _full(t) -> bool:
    return t.score >= t.points - 1e-9


def _cut(text: str, n: int) -> str:
    return text[:n] + "…" if len(text) > n else text


def _failed_families(t) -> str:
    """The case families a hidden test failed, as feedback words them ("failed on: ...")."""
    failed = [str(f) for f, ok in (getattr(t, "families", None) or []) if not ok]
    return f"failed on: {', '.join(failed)}" if failed else ""


def item_analysis(results: list[SubmissionResult]) -> list[ItemStats]:
    """Per test: pass rate, mean partial credit, only-failure share, discrimination and the
    most common failure message, over the submissions that were graded."""
    graded = [r for r in results if r.status == "graded" and r.tests]
    if not graded:
        return []
    order = [t.grade_id for t in graded[0].tests]
    stats = []
    for gid in order:
        rows = [(r, next((t for t in r.tests if t.grade_id == gid), None)) for r in graded]
        rows = [(r, t) for r, t in rows if t is not None]
        tests = [t for _, t in rows]
        passed = [int(_full(t)) for t in tests]
        only = sum(1 for r, t in rows if not _full(t) and all(_full(u) for u in r.tests if u.grade_id != gid))
        rest = [r.score - t.score for r, t in rows]
        messages = Counter(m for t in tests if not t.hidden and not _full(t) for m in t.messages[:1])
        families = Counter(m for t in tests if t.hidden and not _full(t) for m in [_failed_families(t)] if m)
        points = tests[0].points if tests else 0.0
        stats.append(ItemStats(
            gid, tests[0].hidden, points, len(tests), sum(passed) / len(tests),
            sum(t.score / t.points if t.points else 1.0 for t in tests) / len(tests),
            only / len(tests), _point_biserial(passed, rest),
            messages.most_common(1)[0][0] if messages else "",
            families.most_common(1)[0][0] if families else ""))
    return stats


def status_counts(results: list[SubmissionResult]) -> dict[str, int]:
    """How many submissions ended in each status (``error: ...`` details folded into ``error``)."""
    return dict(Counter(r.status.split(":", 1)[0] for r in results))


def text_table(stats: list[ItemStats]) -> str:
    """The item analysis as a plain-text table for the terminal."""
    from coursekit.course import format_table

    rows = [(s.grade_id, "hidden" if s.hidden else "visible", f"{s.points:g}", f"{s.pass_rate:.0%}",
             f"{s.mean_credit:.0%}", f"{s.only_failure:.0%}",
             "—" if math.isnan(s.discrimination) else f"{s.discrimination:+.2f}",
             _cut(s.common_failure or s.common_families, 60))
            for s in stats]
    return format_table(("test", "kind", "points", "pass", "credit", "only failure", "discrim.",
                         "most common failure"), rows)


def _plots(results, stats, out: Path, assignment: str) -> None:
    """scores.png and pass_rates.png, drawn on bare Figures (no pyplot: the caller's
    matplotlib backend, e.g. a notebook's inline one, is left alone)."""
    from matplotlib.figure import Figure

    scores = [r.score for r in results]
    top = max((r.max_score for r in results), default=1.0) or 1.0
    fig = Figure(figsize=(6, 3.2), dpi=120)
    ax = fig.subplots()
    ax.hist(scores, bins=min(20, max(5, int(top))), range=(0, top), color="#4477aa", edgecolor="white")
    ax.set(title=f"{assignment}: scores of {len(scores)} submissions", xlabel="score (points)",
           ylabel="submissions")
    fig.tight_layout()
    fig.savefig(out / "scores.png")
    fig = Figure(figsize=(6, 0.4 * len(stats) + 1.2), dpi=120)
    ax = fig.subplots()
    names = [s.grade_id + (" (hidden)" if s.hidden else "") for s in stats]
    ax.barh(names[::-1], [100 * s.pass_rate for s in stats][::-1], color="#228833")
    ax.set(title=f"{assignment}: share passing each test", xlabel="pass rate (%)", xlim=(0, 100))
    fig.tight_layout()
    fig.savefig(out / "pass_rates.png")


def _index_html(assignment, results, stats, counts, pairs) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(s.grade_id)}</td><td>{'hidden' if s.hidden else 'visible'}</td>"
        f"<td>{s.points:g}</td><td>{s.pass_rate:.0%}</td><td>{s.mean_credit:.0%}</td>"
        f"<td>{s.only_failure:.0%}</td><td>{'—' if math.isnan(s.discrimination) else f'{s.discrimination:+.2f}'}</td>"
        f"<td>{html.escape(s.common_failure or s.common_families)}</td></tr>" for s in stats)
    status = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in sorted(counts.items()))
    return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(assignment)} report</title>"
            "<style>body{font-family:sans-serif;max-width:1000px}td,th{border:1px solid #ccc;padding:3px 6px}"
            "table{border-collapse:collapse}</style>"
            f"<h1>{html.escape(assignment)}: item analysis (instructor only: names hidden tests)</h1>"
            f"<p>{len(results)} submissions.</p><ul>{status}</ul>"
            "<img src='scores.png' alt='score histogram'> <img src='pass_rates.png' alt='pass rates'>"
            "<table><tr><th>test</th><th>kind</th><th>points</th><th>pass rate</th><th>mean credit</th>"
            "<th>only failure</th><th>discrimination</th><th>most common failure</th></tr>"
            f"{rows}</table>"
            "<p><i>Discrimination</i>: point-biserial correlation between passing the test and the "
            "rest of the score; near 0 or negative means the test does not separate strong from weak "
            "submissions. <i>Only failure</i>: share of students who lost points on this test alone.</p>"
            f"<p><a href='similarity.html'>Similarity report</a>: {len(pairs)} pair(s) above the threshold.</p>")


def make_report(assignment: str, grading_dir: Path, root: Path, submitted_dir: Path | None = None,
                threshold: float = 0.6, log=print) -> Path:
    """Write the item analysis and similarity report of ``assignment``; return its folder."""
    from .notebook import read_cells
    from .release import available
    from .similarity import SOLUTION, class_fingerprints, pairs_html, similar_pairs

    if assignment not in available(root):
        raise ReportError(f"unknown assignment '{assignment}': expected one of {', '.join(available(root))}")
    grading_dir = Path(grading_dir)
    results = load_results(grading_dir, assignment)
    stats = item_analysis(results)
    counts = status_counts(results)
    out = grading_dir / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    _plots(results, stats, out, assignment)
    release = read_cells(Path(root) / "assignments" / assignment / f"{assignment}.ipynb")
    solution = read_cells(Path(root) / "solutions" / assignment / f"{assignment}.ipynb")
    subs = class_fingerprints(Path(submitted_dir or grading_dir / "submitted"), assignment, release, solution)
    pairs = similar_pairs(subs, threshold=threshold)
    ungraded = sorted({s.student for s in subs} - {r.student for r in results} - {SOLUTION})
    (out / "similarity.html").write_text(
        pairs_html(pairs, {s.student: s for s in subs}, f"{assignment}: similar answer code"), encoding="utf-8")
    (out / "index.html").write_text(_index_html(assignment, results, stats, counts, pairs), encoding="utf-8")
    log(f"{assignment}: {len(results)} submissions; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if ungraded:
        log(f"not graded yet ({len(ungraded)}): {', '.join(ungraded[:20])}{' …' if len(ungraded) > 20 else ''}"
            f" — run `coursekit autograde {assignment}` to include them")
    log(text_table(stats))
    log(f"\nsimilar answer code (>= {threshold:.0%}; {SOLUTION} included):")
    for p in pairs[:20]:
        log(f"  {p.similarity:4.0%}  {p.a}  <->  {p.b}")
    if not pairs:
        log("  none")
    log(f"\nreport: {out / 'index.html'}")
    return out
