"""The ``coursekit`` command line: ``coursekit course`` and friends.

Sub-commands register themselves in :data:`COMMANDS` (name -> (help, add_arguments, run)).
"""
from __future__ import annotations

import argparse
import sys


def _course_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fast", action="store_true", help="fast mode (small data, few epochs)")
    p.add_argument("--only", default="", help="run only notebooks whose name contains this")
    p.add_argument("--out", default="build", help="output folder (default: build/)")


def _course_run(args: argparse.Namespace) -> int:
    from .course import build_course

    return build_course(out=args.out, fast=args.fast, only=args.only)


COMMANDS = {
    "course": ("execute every lecture notebook, build and grade the course", _course_args, _course_run),
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
