"""A class on JupyterHub: the step between ``coursekit autograde`` and nbgrader's
``release_feedback`` when the submissions came through nbgrader's exchange.

``nbgrader collect`` leaves, beside each submission, ``timestamp.txt`` (when the student
submitted) and ``submission_secret.txt`` (the key of the hash under which the student's
``nbgrader fetch_feedback`` looks for feedback). ``coursekit autograde`` grades the notebook
and writes the feedback; this step carries the two files over, as nbgrader's own autograde and
generate_feedback do:

- the submission time goes into the gradebook, so formgrader and ``nbgrader export`` show
  a late submission as late (against the assignment's due date, ``nbgrader db assignment add
  A --duedate=...``);
- both files go beside ``autograded/<s>/<a>/`` and ``feedback/<s>/<a>/``, which ``nbgrader
  release_feedback`` needs to file each student's feedback where only they find it.

Idempotent: run it after every ``coursekit autograde``.

    python -m coursekit.hub a1_conv_arithmetic [a2_numpy_conv ...] [--grading-dir D]
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

CARRIED = ("timestamp.txt", "submission_secret.txt")


def submissions(grading_dir: Path, assignment: str) -> dict[str, Path]:
    """student id -> ``submitted/<student>/<assignment>/`` for each collected submission."""
    root = Path(grading_dir) / "submitted"
    if not root.is_dir():
        return {}
    return {d.name: d / assignment for d in sorted(root.iterdir()) if (d / assignment).is_dir()}


def carry_over(grading_dir: Path, assignment: str) -> dict[str, str | None]:
    """Copy ``timestamp.txt`` and ``submission_secret.txt`` of each collected submission next
    to its autograded notebook and its feedback, and store its time in the gradebook.
    Returns student id -> submission time (None when the submission has no timestamp.txt)."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    from .grading.autograde import gradebook_id, safe_name
    from .grading.gradebook import db_url, ensure_tools_on_path

    grading_dir = Path(grading_dir)
    times: dict[str, str | None] = {}
    ensure_tools_on_path()
    with Gradebook(db_url(grading_dir)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for student, folder in submissions(grading_dir, assignment).items():
            for kind in ("autograded", "feedback"):
                dest = grading_dir / kind / safe_name(student) / assignment
                if dest.is_dir():
                    for name in CARRIED:
                        if (folder / name).is_file():
                            shutil.copyfile(folder / name, dest / name)
            stamp = folder / "timestamp.txt"
            times[student] = stamp.read_text().strip() if stamp.is_file() else None
            if times[student] is None:
                continue
            try:
                sub = gb.find_submission(assignment, gradebook_id(student))
            except MissingEntry:
                continue  # not graded yet: coursekit autograde creates the submission
            sub.timestamp = parse_utc(times[student])
        gb.db.commit()
    return times


def main(argv: list[str] | None = None) -> int:
    from .config import grading_dir

    p = argparse.ArgumentParser(prog="python -m coursekit.hub", description=__doc__.splitlines()[0])
    p.add_argument("assignment", nargs="+")
    p.add_argument("--grading-dir", default=None,
                   help="gradebook + submitted/autograded/feedback folder (default: $COURSEKIT_GRADING_DIR "
                        "or ~/.cache/coursekit/grading)")
    args = p.parse_args(argv)
    gdir = Path(args.grading_dir) if args.grading_dir else grading_dir()
    for a in args.assignment:
        times = carry_over(gdir, a)
        print(f"{a}: {len(times)} submission(s) carried over "
              f"({sum(t is None for t in times.values())} without a timestamp)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
