"""Throughput of ``coursekit autograde``: honest submissions of a1-a3, serial vs --parallel 2.

    .venv/bin/python benchmarks/autograde.py [--n 50] [--no-feedback]

Prints, per setting: submissions per minute (whole batch, preparation included), seconds per
submission, and the per-submission overhead = wall time of one sandboxed child that runs an
empty notebook and no case (interpreter + IPython + NumPy start-up, sandbox set-up/tear-down)
plus the gradebook/feedback/journal write. Target (issues 9, 14): >= 28 submissions/minute on
2 cores, measured on a quiet machine: the load average is printed before and after.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coursekit.grading import samples  # noqa: E402
from coursekit.grading.autograde import autograde  # noqa: E402
from coursekit.grading.runner import prepare, run_child  # noqa: E402

ASSIGNMENTS = ("a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout")


def stage(grading: Path, n: int) -> dict[str, int]:
    """n honest submissions spread over a1-a3 (solution answers, release structure)."""
    counts = {a: n // len(ASSIGNMENTS) + (1 if i < n % len(ASSIGNMENTS) else 0) for i, a in enumerate(ASSIGNMENTS)}
    for name, k in counts.items():
        nb = samples.solution_notebook(ROOT, name)
        for i in range(k):
            samples.write_submission(nb, grading / "submitted", f"student{i:03d}", name)
    return counts


def run(n: int, parallel: int, html: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        grading = Path(tmp)
        counts = stage(grading, n)
        t0 = time.perf_counter()
        per_sub, prep, scores = [], 0.0, []
        for name in ASSIGNMENTS:
            rep = autograde(name, root=ROOT, grading_dir=grading, parallel=parallel, seed=1, progress=False,
                            html=html, fast=True)
            prep += rep.prepare_seconds
            per_sub += [r.seconds for r in rep.results.values()]
            scores += [(r.score, r.max_score, r.status) for r in rep.results.values()]
        total = time.perf_counter() - t0
    bad = [s for s in scores if s[0] != s[1] or s[2] != "graded"]
    return {"n": sum(counts.values()), "seconds": total, "prepare": prep, "per_sub": per_sub, "bad": bad}


def empty_child_seconds(repeat: int = 5) -> float:
    """Wall time of a sandboxed child running no cell and no case (the fixed cost)."""
    with tempfile.TemporaryDirectory() as tmp:
        a = prepare("a1_conv_arithmetic", ROOT, Path(tmp), fast=True, seed=1)
        a.requests = []  # no case: the child runs nothing and exits
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            run_child(a, [])
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=50, help="honest submissions in total (spread over a1-a3)")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    args = p.parse_args()
    import os

    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
          + f"; {os.cpu_count()} cores")
    fixed = empty_child_seconds()
    print(f"fixed cost of one sandboxed child (start-up + tear-down, no work): {fixed:.2f} s")
    results = {}
    for parallel in (1, 2):
        r = run(args.n, parallel, html=not args.no_feedback)
        results[parallel] = r
        rate = 60 * r["n"] / r["seconds"]
        print(f"--parallel {parallel}: {r['n']} submissions in {r['seconds']:.1f} s "
              f"(preparation {r['prepare']:.1f} s) -> {rate:.1f} submissions/minute; "
              f"median {statistics.median(r['per_sub']):.2f} s per submission in its worker; "
              f"{len(r['bad'])} not at full marks")
    s1, s2 = results[1]["seconds"], results[2]["seconds"]
    print(f"speed-up of --parallel 2 over serial: {s1 / s2:.2f}x")
    print(f"per-submission overhead (serial, batch time / n minus nothing): {s1 / results[1]['n']:.2f} s; "
          f"of which fixed child cost {fixed:.2f} s")
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if not results[1]["bad"] and not results[2]["bad"] else 1


if __name__ == "__main__":
    sys.exit(main())
