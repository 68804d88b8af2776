"""The ``coursekit`` command line: ``coursekit course`` and friends.

Sub-commands register themselves in :data:`COMMANDS` (name -> (help, add_arguments, run)).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _course_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fast", action="store_true", help="fast mode (small data, few epochs)")
    p.add_argument("--only", default="", help="run only notebooks whose name contains this")
    p.add_argument("--out", default="build", help="output folder (default: build/)")


def _course_run(args: argparse.Namespace) -> int:
    from .course import build_course

    return build_course(out=args.out, fast=args.fast, only=args.only)


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", help="your assignment notebook, e.g. a2_numpy_conv.ipynb")
    p.add_argument("--timeout", type=float, default=None, help="seconds per cell (default: the assignment's)")


def _check_run(args: argparse.Namespace) -> int:
    from .grading.check import check_notebook

    try:
        report = check_notebook(args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError) as e:
        print(f"coursekit check: {e}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if all(t.passed for t in report.tests if not t.hidden) else 1


def _autograde_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("assignment", help="assignment name, e.g. a1_conv_arithmetic")
    p.add_argument("--parallel", type=int, default=None, help="submissions graded at once (default: cores)")
    p.add_argument("--student", action="append", default=None, help="grade only this student (repeatable)")
    p.add_argument("--resume", action="store_true", help="skip submissions already graded and unchanged")
    p.add_argument("--grading-dir", default=None,
                   help="gradebook + submitted/autograded/feedback folder (default: $COURSEKIT_GRADING_DIR "
                        "or ~/.cache/coursekit/grading)")
    p.add_argument("--submitted-dir", default=None, help="submissions folder (default: <grading dir>/submitted)")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--fast", action="store_true", help="fast mode (COURSEKIT_FAST=1) for the students' code")
    p.add_argument("--rotate-hidden-inputs", action="store_true",
                   help="draw new hidden inputs for this assignment (they are otherwise the same in every "
                        "batch, so a regrade gives the same scores); re-grades every submission")


def _autograde_run(args: argparse.Namespace) -> int:
    from .course import format_table
    from .grading.autograde import autograde

    report = autograde(args.assignment, grading_dir=args.grading_dir, submitted_dir=args.submitted_dir,
                       students=args.student, parallel=args.parallel,
                       resume=args.resume and not args.rotate_hidden_inputs,
                       fast=True if args.fast else None, html=not args.no_feedback,
                       rotate=args.rotate_hidden_inputs)
    printable = lambda x: str(x).encode("utf-8", "backslashreplace").decode("utf-8")  # noqa: E731
    rows = [tuple(printable(x) for x in row) for row in report.table()]
    print(format_table(("student", "status", "score", "max", "tampered"), rows))
    n = len(report.results)
    print(f"{n} submission(s): {len(report.graded)} graded now, {len(report.resumed)} resumed, "
          f"{report.seconds:.1f} s; gradebook backup: {report.backup}")
    return 0


def _release_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("assignment", nargs="*", help="assignments (default: all)")
    p.add_argument("--verify", action="store_true",
                   help="only check that assignments/ matches nbgrader's output and the visible-case packs")


def _release_run(args: argparse.Namespace) -> int:
    from .grading.release import available, course_root, release, verify_releases

    root = course_root()
    names = args.assignment or available(root)
    if not args.verify:
        for name in names:
            release(root, name)
    differences = verify_releases(root, names)  # one scratch gradebook for all
    for name in names:
        problems = differences[name]
        pack = root / "assignments" / name / f"{name}.visible"
        size = f" (visible-case pack {pack.stat().st_size / 1024:.0f} kB)" if pack.is_file() else ""
        print(f"{name}: " + (f"release ok{size}" if not problems else "\n  ".join(["DIFFERS"] + problems)))
    return 1 if any(differences.values()) else 0


def _grading_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grading-dir", default=None,
                   help="gradebook + submitted/autograded/feedback folder (default: $COURSEKIT_GRADING_DIR "
                        "or ~/.cache/coursekit/grading)")


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("assignment", help="assignment name, e.g. a2_numpy_conv")
    _grading_dir_arg(p)
    p.add_argument("--submitted-dir", default=None, help="submissions folder (default: <grading dir>/submitted)")
    p.add_argument("--threshold", type=float, default=0.6,
                   help="report answer pairs at least this similar (0..1, default 0.6)")


def _report_run(args: argparse.Namespace) -> int:
    from .grading.autograde import default_grading_dir
    from .grading.release import course_root
    from .grading.report import ReportError, make_report

    if not 0 < args.threshold <= 1:
        print(f"coursekit report: --threshold {args.threshold}: expected a share between 0 and 1, e.g. 0.6",
              file=sys.stderr)
        return 2
    try:
        make_report(args.assignment, Path(args.grading_dir) if args.grading_dir else default_grading_dir(),
                    course_root(), Path(args.submitted_dir) if args.submitted_dir else None, args.threshold)
    except (ReportError, FileNotFoundError) as e:
        print(f"coursekit report: {e}", file=sys.stderr)
        return 2
    return 0


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=("csv", "canvas", "moodle"), help="layout of the CSV file")
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.add_argument("assignment", nargs="*", help="assignments to export (default: all the course has)")
    _grading_dir_arg(p)
    p.add_argument("--map", default=None, help="CSV with student_id,lms_id[,name,section,email]")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def _export_run(args: argparse.Namespace) -> int:
    from .grading.autograde import default_grading_dir
    from .grading.lms import ExportError, export
    from .grading.release import available, course_root

    root = course_root()
    try:
        dest = export(args.format, Path(args.out), Path(args.grading_dir) if args.grading_dir else default_grading_dir(),
                      root, args.assignment or available(root), Path(args.map) if args.map else None, args.force)
    except ExportError as e:
        print(f"coursekit export: {e}", file=sys.stderr)
        return 2
    print(f"wrote {dest} ({args.format})")
    return 0


def _lessons_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="where to put the lessons and assignments, e.g. ~/cnn-course")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files that already exist there (your edits in them are lost)")


def _lessons_run(args: argparse.Namespace) -> int:
    from .lessons import copy_course

    try:
        report = copy_course(args.folder, overwrite=args.overwrite)
    except (FileNotFoundError, NotADirectoryError) as e:
        print(f"coursekit lessons: {e}", file=sys.stderr)
        return 2
    print(f"copied {len(report['copied'])} notebooks into {args.folder} (lessons/, assignments/)")
    if report["kept"]:
        print(f"kept {len(report['kept'])} that were already there (your work is untouched; "
              "--overwrite replaces them):")
        for p in report["kept"]:
            print(f"  {p}")
    return 0


COMMANDS = {
    "course": ("execute every lecture notebook, build and grade the course", _course_args, _course_run),
    "check": ("run the visible tests of your assignment notebook", _check_args, _check_run),
    "autograde": ("grade every submission of an assignment (trusted, sandboxed)", _autograde_args,
                  _autograde_run),
    "report": ("item analysis and similarity report of a graded assignment (instructor only)",
               _report_args, _report_run),
    "export": ("grades as CSV for Canvas, Moodle or a spreadsheet", _export_args, _export_run),
    "lessons": ("copy the lesson notebooks and the assignments into a folder for a student",
                _lessons_args, _lessons_run),
    "release": ("regenerate assignments/ (with the visible-case packs) from solutions/ and verify it", _release_args,
                _release_run),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
