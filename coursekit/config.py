"""Run-time settings read from the environment.

- ``COURSEKIT_FAST=1``: fast mode. Lessons shrink data sets and epochs so that every
  notebook runs in well under a minute on a 2-core laptop (the tests use it).
- ``COURSEKIT_DATA``: where downloaded data sets and weights are cached
  (default: ``~/.cache/coursekit``).
"""
from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


def fast_mode() -> bool:
    """True when ``COURSEKIT_FAST`` is set to 1/true/yes/on."""
    return os.environ.get("COURSEKIT_FAST", "").strip().lower() in _TRUE


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (e.g. ``epochs = pick(10, 1)``)."""
    return fast if fast_mode() else full


def data_dir() -> Path:
    """The cache directory for downloaded data (``COURSEKIT_DATA`` or ``~/.cache/coursekit``)."""
    env = os.environ.get("COURSEKIT_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "coursekit"


def repo_root() -> Path | None:
    """The course checkout this package was installed from (editable install), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "notebooks").is_dir() else None
