"""Hidden-test families (issue 20): each hidden test's cases carry an instructor label, and
feedback shows per hidden test only its points and the families that failed and passed.

In-process and cheap (no sandbox): the specs are drawn for several seeds, the samples' cells
run here (as in test_grading_expected_scores), and the grader's own scoring (``runner.score_tests``)
and feedback line (``feedback.hidden_line``) turn the results into text. The same lines from
the real grader are checked in test_grading_assignments (the samples' round trip).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from coursekit.grading import samples
from coursekit.grading.check import CheckReport, CheckedTest
from coursekit.grading.feedback import hidden_line
from coursekit.grading.limits import GradingLimits
from coursekit.grading.runner import TestResult as Result, score_tests
from coursekit.grading.spec import Test as SpecTest, call, load_spec, make_tests
from test_grading_expected_scores import namespace, returns

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = json.loads((ROOT / "tests" / "submissions" / "expected_families.json").read_text())
ASSIGNMENTS = ("a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout", "a4_train_a_cnn",
               "a5_visualization")
NUMPY = ASSIGNMENTS[:3]
SEEDS = (1, 2026, 99)


def _tests(name: str, seed: int) -> list[SpecTest]:
    return make_tests(load_spec(ROOT, name), name, seed, fast=True)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_hidden_case_has_a_family_and_families_do_not_depend_on_the_seed(name):
    seeds = SEEDS if name in NUMPY else SEEDS[:2]   # a4/a5 draw data or check maps: slower
    drawn = []
    for seed in seeds:
        tests = _tests(name, seed)
        assert all(c.family for t in tests if t.hidden for c in t.cases)
        drawn.append([(t.grade_id, [c.family for c in t.cases]) for t in tests if t.hidden])
        for t in tests:
            if t.hidden:
                assert len(t.families) >= 1 and all(", " not in f and ";" not in f for f in t.families)
    assert all(d == drawn[0] for d in drawn), "family order or count changed with the seed"


def _lines(name: str, seed: int) -> dict:
    """{sample: {hidden grade_id: feedback line}}, scored by the grader's own score_tests."""
    tests = _tests(name, seed)
    notebooks = {p.stem: nbformat.read(str(p), as_version=4)
                 for p in sorted((ROOT / "tests" / "submissions" / name).glob("*.ipynb"))}
    notebooks["solution"] = samples.solution_notebook(ROOT, name)
    ref = namespace(notebooks["solution"])
    cases = [(ti, c) for ti, t in enumerate(tests) for c in t.cases]
    expected = [list(c.expected) if not c.needs_reference else returns(ref, c) for _, c in cases]
    a = SimpleNamespace(tests=tests, cases=cases, expected=expected)
    out = {}
    for student, nb in notebooks.items():
        ns = ref if student == "solution" else namespace(nb)
        outputs = {}
        for i, (_, c) in enumerate(cases):
            got = returns(ns, c)
            outputs[i] = {"values": got} if got is not None else {"error": "raised"}
        out[student] = {r.grade_id: hidden_line(r) for r in score_tests(a, outputs) if r.hidden}
    return out


@pytest.mark.parametrize("name", NUMPY)
def test_buggy_samples_name_the_failing_families_for_every_seed(name):
    for seed in SEEDS[:2]:
        lines = _lines(name, seed)
        for student, expected in FAMILIES[name].items():
            assert lines[student] == expected, (seed, student)
        assert all(" — passed: " in line and "failed" not in line for line in lines["solution"].values())


def _result(families, score=1.0, points=3.0):
    return Result("hidden_x", points, score, True, 0, 3, ["secret message"], "", families)


def test_hidden_line_shows_points_and_families_only():
    t = _result([["padding = 0", False], ["padding > 0", True], ["stride > 1", True]])
    assert hidden_line(t) == ("hidden test: 1 of 3 points — failed on: padding = 0; "
                              "passed: padding > 0, stride > 1")
    assert hidden_line(_result([["a", True]], score=3.0)) == "hidden test: 3 of 3 points — passed: a"
    assert hidden_line(_result([["a", False], ["b", False]], score=0.0)) == \
        "hidden test: 0 of 3 points — failed on: a, b"
    old = Result("hidden_x", 2.0, 0.5, True, 1, 4)          # a journal record from before families
    assert hidden_line(old) == "hidden test: 0.5 of 2 points"


def test_score_tests_marks_a_family_failed_when_any_of_its_cases_fails():
    cases = [call("f", 1, expected=[1], family="A"), call("f", 2, expected=[2], family="B"),
             call("f", 3, expected=[3], family="A"), call("f", 4, expected=[4], family="C")]
    test = SpecTest("hidden_f", 4, cases, hidden=True)
    a = SimpleNamespace(tests=[test], cases=[(0, c) for c in cases], expected=[[1], [2], [3], [4]])
    (r,) = score_tests(a, {0: {"values": [1]}, 1: {"values": [2]}, 2: {"values": [0]}})  # 3 wrong, 4 missing
    assert r.score == 2.0 and r.families == [["A", False], ["B", True], ["C", False]]


def test_a_hidden_case_without_family_or_with_a_separator_in_its_label_is_refused():
    def spec(family):
        return SimpleNamespace(tests=lambda rng, fast: [SpecTest("hidden_f", 1, [call("f", 1, family=family)],
                                                             hidden=True)])
    with pytest.raises(ValueError, match="no family"):
        make_tests(spec(""), "x", 0, True)
    with pytest.raises(ValueError, match="not a short"):
        make_tests(spec("a, b"), "x", 0, True)
    assert make_tests(spec("padding = 0"), "x", 0, True)[0].families == ["padding = 0"]


def _intro(name: str) -> str:
    nb = json.loads((ROOT / "assignments" / name / f"{name}.ipynb").read_text())
    first = nb["cells"][0]
    return "".join(first["source"]) if isinstance(first["source"], list) else first["source"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_released_intro_lists_each_hidden_test_families_and_the_limits(name):
    intro = _intro(name)
    assert "Hidden tests report families" in intro
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (`.*?`) \| (.*?) \|$", intro, re.M)}
    tests = _tests(name, 0) if name in NUMPY else _tests(name, 1)
    listed = sorted(rows.values())
    assert listed == sorted("; ".join(t.families) for t in tests if t.hidden)
    settings = json.loads((ROOT / "assignments" / name / f"{name}.ipynb").read_text())["metadata"]["coursekit"]
    for line in GradingLimits.from_settings(settings).describe():
        assert f"- {line}" in intro, line


def test_check_says_that_hidden_tests_report_families():
    report = CheckReport("a.ipynb", 1.0, [CheckedTest("test_a", 1, False, True),
                                           CheckedTest("hidden_a", 2, True, None)])
    text = report.format()
    assert "families" in text and "1 hidden test(s) worth 2 points" in text


# the mistakes students really make (found in public cs231n code), each made on the solution:
# (assignment, answer cell, old text, new text, hidden test, the only family it must fail)
MISTAKES = [
    ("a1_conv_arithmetic", "conv_output_size", "return (size + 2 * padding - effective) // stride + 1",
     "return round((size + 2 * padding - effective) / stride) + 1",
     "hidden_conv_output_size", "stride > 1"),
    ("a2_numpy_conv", "conv_backward_naive", "dx = dxp[:, :, padding:padding + H, padding:padding + W]",
     "dx = dxp[:, :, padding:-padding, padding:-padding]", "hidden_conv_backward_naive", "padding = 0"),
    ("a2_numpy_conv", "conv_forward_naive", "Wo = (W + 2 * padding - WW) // stride + 1",
     "Wo = (W + 2 * padding - HH) // stride + 1", "hidden_conv_forward_naive", "non-square input and kernel"),
    ("a2_numpy_conv", "maxpool", "dx[n, c, i * stride + a, j * stride + bb] += dout[n, c, i, j]",
     "dx[n, c, i * stride + a, j * stride + bb] = dout[n, c, i, j]", "hidden_maxpool_backward_naive",
     "overlapping windows (stride < kernel size)"),
]


@pytest.mark.parametrize("name, cell, old, new, grade_id, family", MISTAKES,
                         ids=[m[4] + ": " + m[5] for m in MISTAKES])
def test_a_real_mistake_fails_exactly_its_family(name, cell, old, new, grade_id, family):
    answers = samples.solution_answers(ROOT, name)
    assert old in answers[cell]
    answers[cell] = answers[cell].replace(old, new)
    ns, ref = namespace(samples.with_answers(ROOT, name, answers)), namespace(samples.solution_notebook(ROOT, name))
    for seed in SEEDS:
        (test,) = [t for t in _tests(name, seed) if t.grade_id == grade_id]
        cases = [(0, c) for c in test.cases]
        a = SimpleNamespace(tests=[test], cases=cases, expected=[returns(ref, c) for _, c in cases])
        outputs = {i: ({"values": v} if (v := returns(ns, c)) is not None else {"error": "raised"})
                   for i, (_, c) in enumerate(cases)}
        (r,) = score_tests(a, outputs)
        assert [f for f, ok in r.families if not ok] == [family], (seed, hidden_line(r))


def test_report_shows_a_hidden_test_most_common_failed_families_never_its_messages():
    from coursekit.grading.report import item_analysis, text_table
    from coursekit.grading.runner import SubmissionResult

    def sub(name, fams, score):
        return SubmissionResult(name, "a1", "graded", score, 3.0,
                                [Result("hidden_x", 3.0, score, True, 1, 2, ["case(3, 4): secret"], "", fams)])

    results = [sub("s1", [["A", False], ["B", True]], 1.5), sub("s2", [["A", False], ["B", True]], 1.5),
               sub("s3", [["A", True], ["B", False]], 1.5), sub("s4", [["A", True], ["B", True]], 3.0)]
    (s,) = item_analysis(results)
    assert (s.common_failure, s.common_families) == ("", "failed on: A")
    table = text_table([s])
    assert "failed on: A" in table and "secret" not in table
