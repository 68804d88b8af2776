"""The scores the samples deserve, DERIVED from the spec rather than recorded (issue 22).

For each NumPy assignment (a1-a3) the spec's cases are drawn (any seed: hidden inputs come in
fixed families, so the share of failed cases does not depend on it), and each sample's cells
and the instructor's solution are executed here, in-process, outside the grader (no sandbox,
no child, no wire): a case passes when the sample's return values compare with the
solution's under the spec's own comparison. A test's score is ``points x share of its cases
passed``. These derived scores must equal ``tests/submissions/expected_scores.json`` (which
test_grading_assignments checks against the real grader), for several seeds.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursekit.grading import samples
from coursekit.grading.spec import load_spec, make_tests
from coursekit.grading.child import _resolve  # the child's own Ref resolution (plumbing, not scoring)

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = json.loads((ROOT / "tests" / "submissions" / "expected_scores.json").read_text())
NUMPY_ASSIGNMENTS = ["a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout"]
SEEDS = (1, 2026)


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def namespace(nb) -> dict:
    """Run the notebook's code cells (not its test cells) in a fresh namespace."""
    ns: dict = {"__name__": "__sample__"}
    for cell in nb.cells:
        if cell.cell_type != "code" or _is_test(cell):
            continue
        src = "\n".join(line for line in cell.source.split("\n")
                        if not re.match(r"\s*[%!]", line))      # IPython magics / shell lines
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                exec(compile(src, "<cell>", "exec"), ns)
            except Exception:  # noqa: BLE001 - a blank answer raises; its functions then fail
                pass
    return ns


def returns(ns: dict, case):
    """The case's return values computed in ``ns`` (None when a call raises)."""
    results = []
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for step in case.steps:
                args = _resolve(tuple(step.args), results)
                kwargs = _resolve(dict(step.kwargs), results)
                results.append(ns[step.fn](*_copy(args), **_copy(kwargs)))
    except Exception:  # noqa: BLE001
        return None
    out = []
    for path in case.returns:
        v = results[path[0]]
        for p in path[1:]:
            v = v[p]
        out.append(v)
    return out


def _copy(x):
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, tuple)):
        return type(x)(_copy(v) for v in x)
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    return x


def derived_scores(name: str, seed: int) -> dict:
    """{sample: score} for the solution, blank and buggy samples of ``name``."""
    tests = make_tests(load_spec(ROOT, name), name, seed, fast=True)
    notebooks = {"solution": samples.solution_notebook(ROOT, name),
                 "blank": samples.release_notebook(ROOT, name)}
    for p in sorted((ROOT / "tests" / "submissions" / name).glob("*.ipynb")):
        notebooks[p.stem] = nbformat.read(str(p), as_version=4)
    ref = namespace(notebooks["solution"])
    expected = {}
    for ti, t in enumerate(tests):
        for ci, c in enumerate(t.cases):
            expected[ti, ci] = list(c.expected) if not c.needs_reference else returns(ref, c)
            assert expected[ti, ci] is not None, f"the solution fails {c.label}"
    scores = {"max": float(sum(t.points for t in tests))}
    received = {}
    for student, nb in notebooks.items():
        ns = ref if student == "solution" else namespace(nb)
        total = 0.0
        for ti, t in enumerate(tests):
            passed = 0.0
            for ci, c in enumerate(t.cases):
                got = received[student, ti, ci] = returns(ns, c)
                if got is not None:
                    passed += t.compare.score(expected[ti, ci], got)[0]
            total += round(t.points * passed / len(t.cases), 2)
        scores[student] = round(total, 2)
    return scores, {"tests": tests, "expected": expected, "received": received}


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_recorded_scores_are_the_derived_ones(name):
    recorded = {k: float(v) for k, v in EXPECTED[name].items()}
    for seed in SEEDS:
        derived, _ = derived_scores(name, seed)
        assert derived == recorded, f"seed {seed}: derived {derived} vs recorded {recorded}"


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_the_graders_scoring_gives_the_derived_scores(name):
    """``runner.score_tests`` on the same received values (as the child would send them)."""
    from types import SimpleNamespace

    from coursekit.grading.runner import score_tests

    derived, run = derived_scores(name, SEEDS[0])
    tests = run["tests"]
    flat = [(ti, ci) for ti, t in enumerate(tests) for ci in range(len(t.cases))]
    a = SimpleNamespace(tests=tests, cases=[(ti, tests[ti].cases[ci]) for ti, ci in flat],
                        expected=[run["expected"][k] for k in flat])
    for student, score in derived.items():
        if student == "max":
            continue
        outputs = {i: ({"values": run["received"][(student,) + k]} if run["received"][(student,) + k]
                       is not None else {"error": "raised"}) for i, k in enumerate(flat)}
        results = score_tests(a, outputs)
        assert round(sum(r.score for r in results), 2) == score, student


def test_check_estimate_for_buggy_dilation_is_derived(tmp_path):
    """`coursekit check` on buggy_dilation gives, per visible test, the derived score (points x
    share of its cases passed: the grader's rule, not "the cell raised no error"), and the
    spec's visible and hidden totals."""
    from coursekit.grading.check import check_notebook

    name = "a1_conv_arithmetic"
    _, run = derived_scores(name, SEEDS[0])
    tests = run["tests"]
    derived = {}
    for ti, t in enumerate(tests):
        if not t.hidden:
            got = [run["received"]["buggy_dilation", ti, ci] for ci in range(len(t.cases))]
            share = sum(t.compare.score(run["expected"][ti, ci], g)[0] for ci, g in enumerate(got)
                        if g is not None) / len(t.cases)
            derived[t.grade_id] = round(t.points * share, 2)
    path = tmp_path / f"{name}.ipynb"
    path.write_bytes((ROOT / "tests" / "submissions" / name / "buggy_dilation.ipynb").read_bytes())
    checked = check_notebook(path)
    assert {t.grade_id: t.got for t in checked.tests if not t.hidden} == derived
    assert any(0 < v < t.points for t in tests for k, v in derived.items() if k == t.grade_id)
    assert (checked.visible_points, checked.hidden_points) == (
        sum(t.points for t in tests if not t.hidden), sum(t.points for t in tests if t.hidden))
