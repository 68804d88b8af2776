"""Confidentiality from what was actually drawn (issue 22).

A real batch is graded (a1: scalar inputs, a2: array inputs) for students who pass every
hidden test (solution), fail some (the buggy samples) and fail all of them with wrong answers
(``wrong``: every answer perturbed). The hidden cases of that
batch — labels, inputs and reference outputs — are taken from the batch itself (a test-only
hook keeps what the grader's ``prepare`` drew and computed), and none may appear, as text, repr or number sequence, in
anything a student gets back: the feedback files, the feedback notebook, and the output of
``coursekit check``. The autograded notebook and the journal are the instructor's and do
carry hidden messages (``test_grading_assignments`` checks that); they are not searched here.
"""
from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursekit.grading import autograde as autograde_mod
from coursekit.grading import samples
from coursekit.grading.autograde import autograde, load_journal
from coursekit.grading.course_step import stage_submissions
from coursekit.grading.feedback import feedback_notebook
from coursekit.grading.notebook import read_cells
from coursekit.grading.runner import prepare
from coursekit.grading.wire import Ref

ROOT = Path(__file__).resolve().parent.parent
SEED = 4242
# the a1 and a2 batches (module cache) are graded once: every test of this module on one worker
pytestmark = pytest.mark.xdist_group("confidentiality")
A1, A2 = "a1_conv_arithmetic", "a2_numpy_conv"

WRONG = '''

def _ck_perturb(r):
    import numpy as _np
    if isinstance(r, bool):
        return not r
    if isinstance(r, (int, float)):
        return r + 1
    if isinstance(r, _np.ndarray):
        return r * 1.5 + 0.25
    if isinstance(r, (tuple, list)):
        return type(r)(_ck_perturb(x) for x in r)
    if isinstance(r, dict):
        return {k: _ck_perturb(v) for k, v in r.items()}
    return r
'''


def wrong_notebook(name: str):
    """The solution with every graded function's result perturbed (fails every case)."""
    answers = samples.solution_answers(ROOT, name)
    out = {}
    for gid, src in answers.items():
        extra = WRONG
        for fn in re.findall(r"^def (\w+)\(", src, re.M):
            extra += (f"\n_ck_{fn} = {fn}\n"
                      f"def {fn}(*a, **k):\n    return _ck_perturb(_ck_{fn}(*a, **k))\n")
        out[gid] = src + extra
    return samples.with_answers(ROOT, name, out)


# ------------------------------------------------------------------ what was drawn
def _flat_numbers(x, out: list) -> list:
    """Every number in ``x`` (nested args, arrays), in order."""
    if isinstance(x, (bool, np.bool_)) or x is None or isinstance(x, (str, Ref)):
        return out
    if isinstance(x, (int, float, np.integer, np.floating)):
        out.append(float(x))
    elif isinstance(x, np.ndarray):
        out.extend(float(v) for v in x.ravel())
    elif isinstance(x, (list, tuple)):
        for v in x:
            _flat_numbers(v, out)
    elif isinstance(x, dict):
        for v in x.values():
            _flat_numbers(v, out)
    return out


def hidden_secrets(a) -> dict:
    """Labels, per-case input number sequences and float runs of inputs and outputs."""
    labels, sequences, floats = set(), set(), []
    for i in a.hidden_idx:
        _, case = a.cases[i]
        labels.add(case.label)
        args: list = []
        for step in case.steps:
            _flat_numbers(list(step.args) + list(step.kwargs.values()), args)
        expected = _flat_numbers(a.expected[i], [])
        # scalar cases: the inputs (and the reference output) in order
        if len(args) < 20:
            for seq in (tuple(args), tuple(args) + (tuple(expected) if len(expected) < 4 else ())):
                if len(seq) >= 4:
                    sequences.add(seq)
        # array cases: every non-integer value of the inputs and outputs
        for arr in (args, expected):
            if len(arr) >= 3:
                floats.append([v for v in arr])
    return {"labels": labels, "sequences": sequences, "floats": floats}


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def tokens(text: str) -> list[str]:
    return NUMBER.findall(text)


def visible_text(path_or_text) -> str:
    """What a reader sees: tags stripped, entities decoded (twice: HTML inside JSON/HTML)."""
    text = re.sub(r"(?is)<(style|script)\b.*?</\1\s*>", " ", path_or_text)
    text = re.sub(r"<[^>]+>", " ", text)
    return html.unescape(html.unescape(text)).replace('\\"', '"')


def _runs(seq: tuple, toks: list[float]) -> bool:
    n = len(seq)
    return any(tuple(toks[i:i + n]) == seq for i in range(len(toks) - n + 1))


def float_runs(arrays: list, decimals: int) -> set:
    """Every 3 consecutive values of each array, rounded to ``decimals``."""
    out = set()
    for arr in arrays:
        r = np.round(np.asarray(arr, dtype=float), decimals)
        out.update(zip(r[:-2], r[1:-1], r[2:]))
    return out


def leaks(text: str, secrets: dict, allowed: str) -> list[str]:
    """What of ``secrets`` appears in ``text`` (but not in ``allowed``, the release the
    student already has: a drawn input may coincide with a visible one)."""
    found = [f"label {lab!r}" for lab in secrets["labels"] if lab in text and lab not in allowed]
    lines = [[float(t) for t in tokens(line)] for line in text.splitlines()]
    base = [[float(t) for t in tokens(line)] for line in allowed.splitlines()]
    lines, base = [t for t in lines if len(t) >= 4], [t for t in base if len(t) >= 4]
    found += [f"inputs {seq}" for seq in secrets["sequences"]
              if any(_runs(seq, t) for t in lines) and not any(_runs(seq, t) for t in base)]
    strs = tokens(text)
    for d in range(3, 9):
        runs = None
        for i in range(len(strs) - 2):
            trio = strs[i:i + 3]
            if not all("." in t and len(t.split(".")[1].split("e")[0].split("E")[0]) == d for t in trio):
                continue
            runs = float_runs(secrets["floats"], d) if runs is None else runs
            key = tuple(round(float(t), d) for t in trio)
            if key in runs:
                found.append(f"values {trio}")
    return found


def message_phrases(text: str) -> set:
    return set(re.findall(r"expected [^,;]{1,80}, received [^;\n]{1,80}", text))


# ------------------------------------------------------------------ the batches
# who is graded (kept small: every child costs seconds): passing, buggy and wrong students
STUDENTS = {A1: ("solution", "buggy_dilation", "buggy_pool_params", "wrong"),
            A2: ("buggy_bias", "wrong")}


def _batch(name: str, tmp: Path) -> dict:
    grading = tmp / "grading"
    submitted = grading / "submitted"
    staged = tmp / "staged"
    stage_submissions(ROOT, name, staged)
    samples.write_submission(wrong_notebook(name), staged, "wrong", name)
    students = list(STUDENTS[name])
    for s in students:
        shutil.copytree(staged / s, submitted / s)
    drawn = []

    def spy(*args, **kw):          # test-only hook: keep the batch's own draw and references
        drawn.append(prepare(*args, **kw))
        return drawn[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(autograde_mod, "prepare", spy)
        report = autograde(name, root=ROOT, grading_dir=grading, submitted_dir=submitted, parallel=2,
                           seed=SEED, progress=False, fast=True, html=True)
    (a,) = drawn
    # what a student may read anyway: the release and the visible cases' labels
    release = (ROOT / "assignments" / name / f"{name}.ipynb").read_text()
    release += "\n" + "\n".join(a.cases[i][1].label for i in a.visible_idx)
    return {"name": name, "report": report, "grading": grading, "a": a, "students": students,
            "secrets": hidden_secrets(a), "release": visible_text(release)}


_BATCHES: dict = {}


def get_batch(name: str, tmp_path_factory) -> dict:
    if name not in _BATCHES:
        _BATCHES[name] = _batch(name, tmp_path_factory.mktemp(f"conf_{name}"))
    return _BATCHES[name]


@pytest.fixture(scope="module", params=[A1, A2])
def batch(request, tmp_path_factory):
    return get_batch(request.param, tmp_path_factory)


def _student_files(b, student) -> list[Path]:
    files = sorted(p for p in (b["grading"] / "feedback").rglob("*") if p.is_file() and student in p.parts)
    assert files, f"no feedback for {student}"
    return files


def test_the_batch_has_students_who_fail_hidden_tests(batch):
    """The check below is meaningful only if some students fail hidden cases (with messages)."""
    res = batch["report"].results
    if "solution" in res:
        assert res["solution"].score == res["solution"].max_score
    for s in ("wrong",) + tuple(s for s in batch["students"] if s.startswith("buggy")):
        assert res[s].status == "graded"
        failed = [t for t in res[s].tests if t.hidden and t.score < t.points]
        assert failed and any(t.messages for t in failed), s
    assert all(t.score == 0 for t in res["wrong"].tests), "every answer of 'wrong' must fail"
    sec = batch["secrets"]
    assert sec["labels"] and (sec["sequences"] or sec["floats"])


def test_detector_finds_hidden_messages_when_they_are_printed(batch):
    """The search is not blind: the instructor's hidden messages of the 'wrong' student
    (what a leaky feedback would print) are found by it."""
    r = batch["report"].results["wrong"]
    text = "\n".join(m for t in r.tests if t.hidden for m in t.messages)
    assert leaks(text, batch["secrets"], batch["release"])
    auto = batch["grading"] / "autograded" / "wrong" / batch["name"] / f"{batch['name']}.ipynb"
    assert leaks(visible_text(auto.read_text()), batch["secrets"], batch["release"])


def test_nothing_drawn_reaches_any_feedback_file(batch):
    for student in batch["students"]:
        for p in _student_files(batch, student):
            text = visible_text(p.read_text(errors="replace"))
            found = leaks(text, batch["secrets"], batch["release"])
            assert not found, f"{student}: hidden cases reach {p.name}: {found[:5]}"


def test_feedback_states_only_visible_tests_expected_and_received(batch):
    """Every 'expected X, received Y' a student reads is a visible test's message."""
    for student in batch["students"]:
        r = batch["report"].results[student]
        visible = set()
        for t in r.tests:
            if not t.hidden:
                for m in t.messages:
                    visible |= message_phrases(m)
        for p in _student_files(batch, student):
            shown = message_phrases(visible_text(p.read_text(errors="replace")))
            assert shown <= visible, f"{student}: {sorted(shown - visible)[:3]}"


def nb_text(nb) -> list[str]:
    """Every cell's source and text output, and the notebook's metadata."""
    out = [json.dumps(nb.get("metadata", {}))]
    for cell in nb.cells:
        out.append(cell.source)
        for o in cell.get("outputs", []):
            out.append(str(o.get("text", "")) + json.dumps(o.get("data", {})))
    return out


def test_nothing_drawn_reaches_the_feedback_notebook(batch):
    name = batch["name"]
    release = read_cells(ROOT / "assignments" / name / f"{name}.ipynb")
    for student in batch["students"]:
        result = load_journal(batch["grading"], name, student)
        path = batch["grading"] / "submitted" / student / name / f"{name}.ipynb"
        cells = read_cells(path) if path.is_file() else None
        nb = feedback_notebook(result, release, cells)
        text = visible_text("\n".join(nb_text(nb)))
        assert not leaks(text, batch["secrets"], batch["release"]), student


@pytest.mark.parametrize("student", ["wrong"])
def test_nothing_drawn_reaches_coursekit_check(student, tmp_path, tmp_path_factory):
    """`coursekit check` on failing notebooks: hidden tests listed with points only."""
    from coursekit.grading.check import check_notebook

    b = get_batch(A1, tmp_path_factory)
    nb_path = tmp_path / f"{A1}.ipynb"
    if student == "wrong":
        nbformat.write(wrong_notebook(A1), str(nb_path))
    else:
        nb_path.write_bytes((ROOT / "tests" / "submissions" / A1 / f"{student}.ipynb").read_bytes())
    report = check_notebook(nb_path)
    out = report.format() + "\n" + "\n".join(t.message for t in report.tests)
    assert "hidden test(s)" in out and report.hidden_points > 0
    assert not leaks(out, b["secrets"], b["release"])
