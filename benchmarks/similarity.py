"""Speed of the similarity report: N submissions of a2 (default 500), fingerprinted and compared.

    .venv/bin/python benchmarks/similarity.py [--n 500]

Each synthetic student takes, per answer cell, one of four variants of the a2 solution, with
its local names renamed at random, comments added and spacing changed: many pairs share
fingerprints below the "common" cut, the costly case for the inverted index. Prints the seconds to read and
fingerprint the notebooks and to rank the pairs, and the CPU seconds. Target (issue 17):
500 submissions in <= 120 s on 2 cores. Pure Python, one thread.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coursekit.grading import samples  # noqa: E402
from coursekit.grading.notebook import read_cells  # noqa: E402
from coursekit.grading.similarity import class_fingerprints, similar_pairs  # noqa: E402

A2 = "a2_numpy_conv"


def variant(source: str, v: int) -> str:
    """One of four families of an answer: every 4th body line from offset ``v`` dropped, so
    about a quarter of the class shares each family (under the report's 30% "common" cut, so
    the pairs are really compared: the costly case)."""
    lines = source.splitlines()
    return "\n".join(ln for i, ln in enumerate(lines) if ln.lstrip().startswith("def ") or i % 4 != v)


def disguise(source: str, rng: random.Random) -> str:
    """Rename assigned local names, add comments, change spacing."""
    names = sorted(set(re.findall(r"^\s*([a-z_]\w*)\s*=", source, flags=re.M)))
    for old in names:
        source = re.sub(rf"\b{old}\b", f"{old}_{rng.randrange(1000)}", source)
    lines = []
    for line in source.splitlines():
        lines.append(line.replace(" = ", "=") if rng.random() < 0.5 else line)
        if rng.random() < 0.2 and line.strip():
            lines.append(" " * (len(line) - len(line.lstrip())) + "# note")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    args = ap.parse_args()
    answers = samples.solution_answers(ROOT, A2)
    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp) / "submitted"
        for i in range(args.n):
            rng = random.Random(i)
            nb = samples.with_answers(ROOT, A2, {k: disguise(variant(v, rng.randrange(4)), rng)
                                                     for k, v in answers.items()})
            samples.write_submission(nb, sub, f"student{i:04d}", A2)
        release = read_cells(ROOT / "assignments" / A2 / f"{A2}.ipynb")
        solution = read_cells(ROOT / "solutions" / A2 / f"{A2}.ipynb")
        t0, c0 = time.perf_counter(), time.process_time()
        subs = class_fingerprints(sub, A2, release, solution)
        t1 = time.perf_counter()
        pairs = similar_pairs(subs, threshold=0.6)
        t2, c2 = time.perf_counter(), time.process_time()
    load = os.getloadavg()[0]
    print(f"{args.n} submissions of {A2}: fingerprints {t1 - t0:.1f} s, pairs {t2 - t1:.1f} s, "
          f"total {t2 - t0:.1f} s wall, {c2 - c0:.1f} s CPU (load average {load:.1f}); "
          f"{len(pairs)} pairs >= 60%; target <= 120 s: {'met' if t2 - t0 <= 120 else 'MISSED'}")


if __name__ == "__main__":
    main()
