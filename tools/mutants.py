"""Mutation check (issue 22): plant realistic one-line bugs, one at a time, in a temporary
copy of this checkout and run the tests that must catch each one.

    python tools/mutants.py            # every mutant (``make mutants``)
    python tools/mutants.py --list     # the mutants and the tests that must kill them
    python tools/mutants.py --only train-clip-ignored grading-feedback-prints-hidden

The copy holds the checkout's tracked and untracked (not ignored) files as they are on disk,
under a temporary folder; its tests run with ``PYTHONPATH`` set to the copy, so they import
the copy's ``coursekit`` (the grader's sandboxed child does too: it is given the package of
the checkout under test). First every selection of tests runs once unmutated (a baseline
that must pass, else nothing can be concluded); then each mutant is applied (its ``old`` text
must occur exactly once in its file, else the mutant is *stale* and must be updated), its
tests run, and the file is restored. A mutant is *killed* when its tests fail. The exit status
is 0 only when every mutant is killed.

Not part of ``make test`` (it takes minutes): run it before each release (README, maintainer
notes) and after changing any of the files or tests named below.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str          # file inside the checkout
    old: str           # text that occurs exactly once in it
    new: str           # its replacement (the bug)
    tests: tuple       # pytest arguments that must fail with the bug
    why: str = ""


MUTANTS = [
    # -- arithmetic
    Mutant("arithmetic-dilation-ignored", "coursekit/arithmetic.py",
           "    return (padded - span) // stride + 1",
           "    return (padded - _effective_kernel(kernel_size, 1)) // stride + 1",
           ("tests/test_arithmetic.py", "-k", "conv_output_size_sweep"), "output size computed as if dilation were 1"),
    # -- nn (NumPy layers)
    Mutant("nn-conv-bias-grad-averaged", "coursekit/nn/conv.py",
           "    db = d3.sum(axis=(0, 2))\n",
           "    db = d3.sum(axis=(0, 2)) / N\n",
           ("tests/test_nn_layers.py", "-k", "conv_matches_torch"), "bias gradient divided by the batch size"),
    Mutant("nn-dropout-scale-by-p", "coursekit/nn/dropout.py",
           'scale = 1.0 / q if mode == "inverted" else 1.0',
           'scale = 1.0 / p if mode == "inverted" else 1.0',
           ("tests/test_nn_dropout.py",), "inverted dropout divides by the drop probability"),
    # -- data
    Mutant("data-train-val-overlap-1000", "coursekit/data/torchvision_sets.py",
           'return (x[:-v], y[:-v]) if split == "train"',
           'return (x[:-v + 1000], y[:-v + 1000]) if split == "train"',
           ("tests/test_data_official_splits.py",), "official train/val split overlapping by 1,000 images"),
    Mutant("data-cifar-channels-last", "coursekit/data/torchvision_sets.py",
           'xs.append(np.asarray(batch["data"], np.uint8).reshape(-1, 3, 32, 32))',
           'xs.append(np.asarray(batch["data"], np.uint8).reshape(-1, 32, 32, 3).transpose(0, 3, 1, 2))',
           ("tests/test_data_official_splits.py",), "CIFAR-10 rows read as HWC"),
    # -- train
    Mutant("train-clip-ignored", "coursekit/train.py",
           "    if clip is not None:\n",
           "    if clip is not None and amp:\n",
           ("tests/test_fit_options.py", "-k", "clip"), "fit(clip_grad_norm=...) ignored without AMP"),
    Mutant("train-restore-best-ignored", "coursekit/train.py",
           "    if history.stopped_early and restore_best and best.get(\"state\") is not None:",
           "    if history.stopped_early and not restore_best and best.get(\"state\") is not None:",
           ("tests/test_fit_options.py", "-k", "restore_best"), "early stopping never reloads the best weights"),
    Mutant("train-overwrite-ignored", "coursekit/train.py",
           "        elif not overwrite:\n",
           "        elif not resume:\n",
           ("tests/test_fit_options.py", "-k", "overwrite"), "overwrite=True still refuses an existing checkpoint"),
    # -- viz
    Mutant("viz-limit-not-symmetric", "coursekit/viz/style.py",
           "np.nanmax(np.abs(np.asarray(a, dtype=float)))",
           "np.nanmax(np.asarray(a, dtype=float))",
           ("tests/test_viz_signed_limits.py",), "colour limits from the largest value, not magnitude"),
    # -- grading
    Mutant("grading-feedback-prints-hidden", "coursekit/grading/feedback.py",
           '        return [new_markdown_cell(f"**{hidden_line(t)}**")]',
           '        return [new_markdown_cell(f"**{hidden_line(t)}**" + "".join(f"\\n- {m}" for m in t.messages))]',
           ("tests/test_grading_confidentiality.py", "-k", "a1_conv and feedback"),
           "feedback prints each hidden case's label, expected and received values"),
    Mutant("grading-summary-prints-hidden-values", "coursekit/grading/feedback.py",
           "text = hidden_line(t) if t.hidden else visible_lines(t)[0]",
           'text = hidden_line(t) + " ".join(m.split(": ", 1)[-1] for m in t.messages) if t.hidden '
           "else visible_lines(t)[0]",
           ("tests/test_grading_confidentiality.py", "-k", "a1_conv and feedback"),
           "the feedback summary shows hidden cases' expected and received values (no labels)"),
    Mutant("grading-compare-reshapes", "coursekit/grading/compare.py",
           "    if rec.shape != exp.shape:\n        return (f\"{where}: expected shape",
           "    rec = rec.reshape(exp.shape) if rec.size == exp.size else rec\n"
           "    if rec.shape != exp.shape:\n        return (f\"{where}: expected shape",
           ("tests/test_grading_compare.py",), "a right-size array in the wrong layout accepted"),
    Mutant("grading-threshold-strict", "coursekit/grading/compare.py",
           "            if acc >= threshold:",
           "            if acc > threshold:",
           ("tests/test_grading_compare.py", "-k", "threshold"), "an accuracy exactly at a threshold loses its level"),
    Mutant("grading-all-or-nothing", "coursekit/grading/runner.py",
           "mean = sum(fractions) / len(fractions) if fractions else 0.0",
           "mean = min(fractions) if fractions else 0.0",
           ("tests/test_grading_expected_scores.py", "-k", "graders_scoring"), "partial credit per case lost"),
]


def copy_checkout(dest: Path) -> Path:
    """The checkout's tracked and untracked, not ignored files, as on disk, under ``dest``."""
    out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    repo = dest / ROOT.name
    for rel in filter(None, out.split("\0")):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            target = repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (dest / "shared").symlink_to(shared)       # real data files some tests read
    return repo


def run_tests(repo: Path, args: tuple, timeout: float) -> tuple[int, float, str]:
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1", COURSEKIT_FAST="1",
               MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
                            "-q", "-x", "--no-header", *args], cwd=repo, env=env, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, time.perf_counter() - t0, (p.stdout + p.stderr)[-1500:]
    except subprocess.TimeoutExpired:
        return -1, time.perf_counter() - t0, "timed out"


def apply(repo: Path, m: Mutant) -> str | None:
    """Plant ``m``; returns the original text (None when the mutant is stale)."""
    path = repo / m.path
    text = path.read_text()
    if text.count(m.old) != 1:
        return None
    path.write_text(text.replace(m.old, m.new))
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="mutant ids to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and their tests")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per test run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    a = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if not a.only or m.id in a.only]
    if a.only and len(chosen) != len(set(a.only)):
        ap.error(f"unknown mutant id(s): {sorted(set(a.only) - {m.id for m in MUTANTS})}")
    if a.list:
        for m in chosen:
            print(f"{m.id:38s} {m.path:36s} {' '.join(m.tests)}\n{'':38s} {m.why}")
        return 0
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coursekit-mutants-") as tmp:
        repo = copy_checkout(Path(tmp))
        check = subprocess.run([sys.executable, "-c", "import coursekit; print(coursekit.__file__)"],
                               cwd=tmp, env=dict(os.environ, PYTHONPATH=str(repo)),
                               capture_output=True, text=True)
        if not check.stdout.strip().startswith(str(repo)):
            print(f"the copy does not import its own coursekit: {check.stdout}{check.stderr}")
            return 2
        if not a.no_baseline:
            for args in dict.fromkeys(m.tests for m in chosen):
                rc, sec, out = run_tests(repo, args, a.timeout)
                print(f"baseline {' '.join(args)}: {'pass' if rc == 0 else 'FAIL'} ({sec:.0f} s)", flush=True)
                if rc != 0:
                    print(out)
                    return 2
        rows = []
        for m in chosen:
            original = apply(repo, m)
            if original is None:
                rows.append((m.id, "STALE", 0.0))
                print(f"{m.id}: STALE (its text is not exactly once in {m.path}: update the mutant)", flush=True)
                continue
            try:
                rc, sec, out = run_tests(repo, m.tests, a.timeout)
            finally:
                (repo / m.path).write_text(original)
            verdict = "killed" if rc == 1 else "SURVIVED" if rc == 0 else f"ERROR (rc {rc})"
            rows.append((m.id, verdict, sec))
            print(f"{m.id}: {verdict} by {' '.join(m.tests)} ({sec:.0f} s)", flush=True)
            if verdict != "killed":
                print(out)
    killed = sum(1 for _, v, _ in rows if v == "killed")
    print(f"\n{killed} of {len(rows)} mutants killed in {time.perf_counter() - t_all:.0f} s "
          f"(load {os.getloadavg()[0]:.1f})")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
