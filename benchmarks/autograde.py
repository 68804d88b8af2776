"""Throughput of ``coursekit autograde``: honest submissions of a1-a3, feedback on and off,
serial vs ``--parallel 2``.

    .venv/bin/python benchmarks/autograde.py [--students 50] [--feedback on|off|both]
                                             [--start warm|cold|both]

Prints, per setting: submissions per minute (whole batches, preparation included: the
reference runs and the warm zygote's start; the gradebook is created before the clock starts,
as a class's exists before its batches: creating one runs nbgrader's alembic, seconds), the CPU
seconds spent (this process and its children: the sandboxed runs, the zygotes), and
the speed-up of ``--parallel 2`` over serial. Then a projection: CPU seconds per submission
and submissions/min per core, and where the time goes per submission (thread CPU and wall of
the grading phases: child = the sandboxed run; compare = scoring against the references;
parent = the rest of grading in the worker (parse, merge, checksums, sandbox set-up);
feedback = page + autograded notebook, in the worker; gradebook = gradebook + journal, the
single writer). ``--start cold`` starts every child as two fresh interpreters (as before the
warm zygote of :mod:`coursekit.grading.zygote`), to compare. Targets (issue 19, 2 cores,
feedback on): >= 180 submissions/min with ``--parallel 2`` and ``--parallel 2`` >= 1.7x
serial, on a quiet machine: the load average is printed before and after; on a loaded one,
compare the CPU seconds.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coursekit.grading import autograde as autograde_mod  # noqa: E402
from coursekit.grading import gradebook, runner, samples, zygote  # noqa: E402
from coursekit.grading.autograde import autograde  # noqa: E402

ASSIGNMENTS = ("a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout")
_LOCK = threading.Lock()
_PHASES: dict = {}
_PREPARING = threading.local()


def _timed(fn, phase: str):
    """Wrap a runner function so its wall and thread CPU seconds add up under ``phase`` (under
    "reference" for the reference runs of a batch's preparation)."""
    def wrapper(*args, **kw):
        phase_now = "reference" if getattr(_PREPARING, "on", False) else phase
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kw)
        finally:
            with _LOCK:
                w, c, n = _PHASES.get(phase_now, (0.0, 0.0, 0))
                _PHASES[phase_now] = (w + time.perf_counter() - t0, c + time.thread_time() - c0, n + 1)
    return wrapper


def _preparing(fn):
    def wrapper(*args, **kw):
        _PREPARING.on = True
        try:
            return fn(*args, **kw)
        finally:
            _PREPARING.on = False
    return wrapper


runner.run_child = _timed(runner.run_child, "child")
runner.score_tests = _timed(runner.score_tests, "compare")
autograde_mod.prepare = _preparing(autograde_mod.prepare)


def stage(grading: Path, n: int) -> dict[str, int]:
    """n honest submissions spread over a1-a3 (solution answers, release structure)."""
    counts = {a: n // len(ASSIGNMENTS) + (1 if i < n % len(ASSIGNMENTS) else 0) for i, a in enumerate(ASSIGNMENTS)}
    for name, k in counts.items():
        nb = samples.solution_notebook(ROOT, name)
        for i in range(k):
            samples.write_submission(nb, grading / "submitted", f"student{i:03d}", name)
    return counts


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def run(n: int, parallel: int, html: bool) -> dict:
    _PHASES.clear()
    with tempfile.TemporaryDirectory() as tmp:
        grading = Path(tmp)
        counts = stage(grading, n)
        t_book = time.perf_counter()
        for name in ASSIGNMENTS:  # a class's gradebook exists before its batches (nbgrader db)
            gradebook.ensure_assignment(grading, ROOT, name)
        book_s = time.perf_counter() - t_book
        c0 = _cpu()
        t0 = time.perf_counter()
        prep, scores, phases, child_cpu = 0.0, [], {}, 0.0
        for name in ASSIGNMENTS:
            rep = autograde(name, root=ROOT, grading_dir=grading, parallel=parallel, seed=1, progress=False,
                            html=html, fast=True)
            prep += rep.prepare_seconds
            scores += [(r.score, r.max_score, r.status) for r in rep.results.values()]
            for k, (w, c) in rep.phases.items():
                pw, pc = phases.get(k, (0.0, 0.0))
                phases[k] = (pw + w, pc + c)
        total = time.perf_counter() - t0
        zygote.shutdown()  # reaps the zygotes: their CPU (and their children's) counts below
        c1 = _cpu()
    bad = [s for s in scores if s[0] != s[1] or s[2] != "graded"]
    return {"n": sum(counts.values()), "seconds": total, "prepare": prep, "gradebook_setup": book_s,
            "bad": bad, "phases": phases, "runner": dict(_PHASES), "cpu_self": c1[0] - c0[0], "cpu_children": c1[1] - c0[1]}


def report_line(parallel: int, html: bool, r: dict) -> str:
    rate = 60 * r["n"] / r["seconds"]
    return (f"feedback {'on ' if html else 'off'} --parallel {parallel}: {r['n']} submissions in "
            f"{r['seconds']:.1f} s (preparation {r['prepare']:.1f} s) -> {rate:.1f} submissions/min; CPU "
            f"{r['cpu_self']:.1f} s grader + {r['cpu_children']:.1f} s children; "
            f"{len(r['bad'])} not at full marks")


def projection(r: dict) -> list[str]:
    """CPU per submission, submissions/min per core, and per-phase costs (one run's figures)."""
    n = r["n"]
    cpu = r["cpu_self"] + r["cpu_children"]
    ph, rn = r["phases"], r["runner"]
    child_w, child_c, runs = rn.get("child", (0.0, 0.0, 1))
    comp_w, comp_c, _ = rn.get("compare", (0.0, 0.0, 0))
    grade_w, grade_c = ph.get("grade", (0.0, 0.0))
    per_run_w, per_run_c = child_w / max(runs, 1), child_c / max(runs, 1)  # runs: n (no references)
    rows = [
        ("child: one sandboxed run", per_run_w, r["cpu_children"] / n,
         "CPU of all sandbox processes and zygotes over n: reference runs and zygote starts included"),
        ("grader CPU while a child runs (pipes, /proc polls)", None, per_run_c, ""),
        ("compare (scoring against the references)", comp_w / n, comp_c / n, ""),
        ("parse, merge, checksums", (grade_w - comp_w) / n - per_run_w, (grade_c - comp_c) / n - per_run_c, ""),
        ("feedback page + autograded notebook (in the worker)", *(x / n for x in ph.get("feedback", (0, 0))), ""),
        ("gradebook + journal (the single writer)", *(x / n for x in ph.get("gradebook", (0, 0))), ""),
        ("preparation (3 batches: references, zygote start, hidden inputs)", r["prepare"] / n, None,
         f"gradebook created beforehand in {r['gradebook_setup']:.1f} s, not counted"),
    ]
    lines = [f"projection: {cpu / n:.2f} CPU s per submission, all included (preparation amortised over "
             f"{n}) -> {60 * n / cpu:.0f} submissions/min per core on an idle core, "
             f"{120 * n / cpu:.0f} on 2 cores if they scale perfectly; per submission:"]
    for what, w, c, note in rows:
        parts = ([f"wall {w:.3f} s"] if w is not None else []) + ([f"CPU {c:.3f} s"] if c is not None else [])
        lines.append(f"  {what}: {', '.join(parts)}" + (f" ({note})" if note else ""))
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", "--n", type=int, default=50, dest="students",
                   help="honest submissions in total (spread over a1-a3)")
    p.add_argument("--feedback", choices=("on", "off", "both"), default="both")
    p.add_argument("--no-feedback", action="store_true", help="same as --feedback off")
    p.add_argument("--start", choices=("warm", "cold", "both"), default="warm",
                   help="children forked from a warm zygote (the default) or started cold")
    args = p.parse_args()
    feedback = "off" if args.no_feedback else args.feedback
    settings = [True, False] if feedback == "both" else [feedback == "on"]
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
          + f"; {os.cpu_count()} cores; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    ok = True
    warm_modules = runner.warm_modules
    for start in (("warm", "cold") if args.start == "both" else (args.start,)):
        runner.warm_modules = warm_modules if start == "warm" else (lambda a: ())
        for html in settings:
            results = {}
            for parallel in (1, 2):
                r = run(args.students, parallel, html)
                results[parallel] = r
                ok = ok and not r["bad"]
                print(f"[{start}] " + report_line(parallel, html, r), flush=True)
            s1, s2 = results[1]["seconds"], results[2]["seconds"]
            print(f"[{start}] feedback {'on' if html else 'off'}: speed-up of --parallel 2 over serial "
                  f"{s1 / s2:.2f}x (load average now {os.getloadavg()[0]:.2f})")
            print("\n".join(projection(results[1])), flush=True)
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
