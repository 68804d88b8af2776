"""One fast-mode execution per lesson per test session, shared by the tests that read it.

``tests/test_notebooks.py`` (the lesson runs) and ``tests/test_figures.py`` (its figures meet the
style contract) both ask :func:`fast_run`; the lesson is executed once, by whichever asks first.
Their parameters carry ``xdist_group`` marks (:func:`lesson_params`) so that under
``pytest -n 2 --dist loadgroup`` both tests of a lesson run in the same worker.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.lessons import LessonRun, execute, lesson_paths

from conftest import ROOT

_RUNS: dict[Path, LessonRun] = {}


def lesson_params(marks=()):
    """One ``pytest.param`` per lesson, id the notebook's stem, grouped by lesson for xdist."""
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.xdist_group(p.stem), *marks])
            for p in lesson_paths(ROOT)]


def fast_run(path: Path, out_dir: Path) -> LessonRun:
    """The fast-mode run of lesson ``path`` (executed copy in ``out_dir``), executed at most once."""
    if path not in _RUNS:
        _RUNS[path] = execute(path, out_dir, fast=True, cell_timeout=600)
    return _RUNS[path]
