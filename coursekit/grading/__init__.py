"""Grading: trusted scoring of nbgrader assignments, sandbox, gradebook writer.

Light to import (the untrusted child imports this package): heavy parts load lazily.

- ``autograde(assignment, parallel=N, students=[...], resume=True)`` -> BatchReport
- ``check_notebook(path)`` -> per-test report of a student's visible tests
- ``assert_close`` / ``assert_equal`` for visible tests in notebooks
"""
_LAZY = {
    "autograde": ("autograde", "autograde"),
    "BatchReport": ("autograde", "BatchReport"),
    "SubmissionResult": ("runner", "SubmissionResult"),
    "TestResult": ("runner", "TestResult"),
    "check_notebook": ("check", "check_notebook"),
    "assert_close": ("compare", "assert_close"),
    "assert_equal": ("compare", "assert_equal"),
    "release": ("release", "release"),
    "verify_release": ("release", "verify_release"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
