"""Grading specs: which functions each test cell calls, on which inputs, worth how much.

Each assignment has an instructor-only ``solutions/<a>/spec.py`` (never released) defining

    def tests(hidden_rng: np.random.Generator, fast: bool) -> list[Test]

Visible tests use fixed inputs (the same ones the notebook's visible test cells use);
hidden tests draw theirs from ``hidden_rng``, seeded at grading time from the instructor's
secret seed (``COURSEKIT_GRADING_SEED`` or ``<grading dir>/seed``), so committing the spec
to a public repository reveals how hidden inputs are made, never which ones are used.

A :class:`Test` matches one nbgrader grade cell (same ``grade_id`` and points). Its score is
``points * mean(case scores)`` (partial credit per case), rounded to 2 decimals.

Every case of a hidden test carries a ``family``: a short label the instructor writes for the
kind of input it is ("padding = 0", "overlapping windows", ...). Feedback names, per hidden
test, the families that failed and passed and nothing else about the cases, so a family is a
hint a TA would give. Families come from fixed loops in the spec, never from the seed: their
order and count are the same for every grading seed (:func:`families` and :func:`make_tests`
check it).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .compare import Close, Exact  # noqa: F401  (re-exported for specs)
from .wire import Ref  # noqa: F401

_UNSET = object()


@dataclass
class Step:
    """One call ``fn(*args, **kwargs)`` made in the child; args may hold :class:`Ref`."""

    fn: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class Case:
    """Calls made in the child and the results sent back (``returns``: paths into the
    steps' results, e.g. ``(0,)`` = step 0's result, ``(0, 1)`` = its item 1).

    ``expected`` (a list, one entry per return) is compared with what comes back; when
    left unset it is the reference solution's output on the same calls.
    """

    steps: list
    returns: list
    expected: Any = _UNSET
    label: str = ""
    family: str = ""

    @property
    def needs_reference(self) -> bool:
        return self.expected is _UNSET

    def to_wire(self) -> dict:
        return {"steps": [{"fn": s.fn, "args": tuple(s.args), "kwargs": dict(s.kwargs)}
                          for s in self.steps],
                "returns": [list(r) for r in self.returns]}


def call(fn: str, *args, pick: int | None = None, label: str = "", expected=_UNSET,
         family: str = "", **kwargs) -> Case:
    """A one-call case returning ``fn(*args, **kwargs)`` (or its item ``pick``)."""
    path = (0,) if pick is None else (0, pick)
    return Case([Step(fn, args, kwargs)], [path], expected=expected,
                label=label or f"{fn}{_arg_label(args, kwargs)}", family=family)


def chain(*steps: Step, returns: list, label: str = "", expected=_UNSET, family: str = "") -> Case:
    """A multi-call case, e.g. forward then backward with the student's own cache."""
    return Case(list(steps), [tuple(r) for r in returns], expected=expected,
                label=label or " -> ".join(s.fn for s in steps), family=family)


def labelled(family: str, cases: list) -> list:
    """``cases`` with their family set to ``family`` (returns the same list)."""
    for c in cases:
        c.family = family
    return cases


def _arg_label(args, kwargs) -> str:
    def one(a):
        if isinstance(a, np.ndarray):
            return f"array{a.shape}"
        return repr(a)
    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    s = "(" + ", ".join(parts) + ")"
    return s if len(s) <= 90 else s[:87] + "...)"


@dataclass
class Test:
    """One graded test = one nbgrader grade cell."""

    grade_id: str
    points: float
    cases: list
    hidden: bool = False
    compare: Any = field(default_factory=Close)
    description: str = ""

    @property
    def families(self) -> list[str]:
        """The distinct case families, in the order they first appear."""
        return families(self.cases)


_FAMILY = re.compile(r"[A-Za-z0-9 _=<>!().+*/'-]{1,60}")


def families(cases: list) -> list[str]:
    """Distinct ``case.family`` values in order of first appearance."""
    return list(dict.fromkeys(c.family for c in cases))


def check_families(test: Test) -> None:
    """A hidden test's cases all carry a family label that fits in a feedback line (at most 60
    characters; letters, digits, spaces and ``=<>!()+-*/._'``: no ``,`` or ``;``, which
    separate families in feedback)."""
    for c in test.cases:
        if not c.family:
            raise ValueError(f"hidden test {test.grade_id!r}: case {c.label!r} has no family label")
        if not _FAMILY.fullmatch(c.family):
            raise ValueError(f"hidden test {test.grade_id!r}: family label {c.family!r} is not a short "
                             "plain label (letters, digits, spaces, = < > ( ) + - * / ' . _ only)")


def spec_path(root: Path, assignment: str) -> Path:
    return Path(root) / "solutions" / assignment / "spec.py"


def load_spec(root: Path, assignment: str):
    """Import ``solutions/<assignment>/spec.py`` (instructor code, trusted)."""
    path = spec_path(root, assignment)
    if not path.is_file():
        raise FileNotFoundError(f"no grading spec for {assignment!r}: expected {path}")
    name = f"_coursekit_spec_{assignment}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, "tests", None)):
        raise TypeError(f"{path} must define tests(hidden_rng, fast) -> list[Test]")
    return module


def grading_seed(grading_dir: Path) -> int:
    """The instructor's secret seed: ``$COURSEKIT_GRADING_SEED`` or ``<grading_dir>/seed``
    (created with 128 random bits, mode 0600, on first use)."""
    env = os.environ.get("COURSEKIT_GRADING_SEED", "").strip()
    if env:
        return int(hashlib.sha256(env.encode()).hexdigest()[:16], 16)
    path = Path(grading_dir) / "seed"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")
    return int(hashlib.sha256(path.read_text().strip().encode()).hexdigest()[:16], 16)


def make_tests(module, assignment: str, seed: int, fast: bool) -> list[Test]:
    """The spec's tests with hidden inputs drawn from ``seed`` (per assignment)."""
    sub = int(hashlib.sha256(assignment.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng([seed, sub])
    tests = module.tests(rng, fast)
    ids = [t.grade_id for t in tests]
    if len(set(ids)) != len(ids):
        raise ValueError(f"spec for {assignment}: duplicate grade_id in {ids}")
    for t in tests:
        if t.hidden:
            check_families(t)
    return tests


def notebook_literal(spec_file: str | Path, grade_id: str, var: str = "cases"):
    """The literal assigned to ``var`` in test cell ``grade_id`` of the source notebook next
    to ``spec_file`` — so a visible test's cases are written once, in the notebook."""
    import ast
    from .notebook import read_cells

    folder = Path(spec_file).resolve().parent
    cells = read_cells(folder / f"{folder.name}.ipynb")
    for cell in cells:
        if cell.grade_id == grade_id:
            for node in ast.parse(cell.source).body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name) and node.targets[0].id == var):
                    return ast.literal_eval(node.value)
            raise ValueError(f"test cell {grade_id!r} has no literal `{var} = ...`")
    raise ValueError(f"no cell with grade_id {grade_id!r} in {folder.name}.ipynb")
