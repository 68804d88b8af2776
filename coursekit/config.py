"""Run-time settings read from the environment.

- ``COURSEKIT_FAST=1``: fast mode. Lessons shrink data sets and epochs so that every
  notebook runs in well under a minute on a 2-core laptop (the tests use it).
- ``COURSEKIT_DATA``: where downloaded data sets and weights are cached
  (default: ``~/.cache/coursekit``).
- ``COURSEKIT_GRADING_DIR``: the grading folder (gradebook, submissions, feedback; default
  ``~/.cache/coursekit/grading``).
"""
from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}

# Where the course is published: the lessons' set-up cell installs coursekit from here, and the
# README's "Open in Colab" links point here. A fork changes these two lines, then runs
# `python -m coursekit.lessons` to rewrite the set-up cells and the README's link table.
COURSE_REPO = "github.com/coursekit/coursekit"
COURSE_REF = "v0.1.0"                     # the tag of this version of the course


def fast_mode() -> bool:
    """True when ``COURSEKIT_FAST`` is set to 1/true/yes/on."""
    return os.environ.get("COURSEKIT_FAST", "").strip().lower() in _TRUE


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (e.g. ``epochs = pick(10, 1)``)."""
    return fast if fast_mode() else full


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def data_dir() -> Path:
    """The cache directory for downloaded data (``COURSEKIT_DATA`` or ``~/.cache/coursekit``)."""
    env = os.environ.get("COURSEKIT_DATA")
    if env:
        return Path(env).expanduser()
    return _cache_home() / "coursekit"


def grading_dir() -> Path:
    """The gradebook and submitted/autograded/feedback folders, outside the repository:
    ``COURSEKIT_GRADING_DIR``, else ``$XDG_CACHE_HOME/coursekit/grading`` (default
    ``~/.cache/coursekit/grading``); absolute. Read by ``nbgrader_config.py`` and the grader."""
    env = os.environ.get("COURSEKIT_GRADING_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (_cache_home() / "coursekit" / "grading").resolve()


def repo_root() -> Path | None:
    """The course checkout this package was installed from (editable install), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "notebooks").is_dir() else None
