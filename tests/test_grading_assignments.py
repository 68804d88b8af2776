"""Round trip of the assignments: release verified, trusted autograde of solution / blank /
buggy samples with their exact expected scores, gradebook + nbgrader export, feedback that
hides hidden tests, resume after SIGKILL, and the student's `coursekit check`."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit.grading import gradebook, samples
from coursekit.grading.autograde import autograde, journal_path
from coursekit.grading.check import check_notebook
from coursekit.grading.notebook import folder_checksum
from coursekit.grading.release import available, verify_release, verify_releases

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = json.loads((ROOT / "tests" / "submissions" / "expected_scores.json").read_text())
FAMILIES = json.loads((ROOT / "tests" / "submissions" / "expected_families.json").read_text(encoding="utf-8"))
A1, A2, A3, A4, A5 = ("a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout", "a4_train_a_cnn",
                      "a5_visualization")
SEED = 20261123


def _on_one_worker(name: str, *marks):
    """Tests that read one graded batch (a module fixture) run on one xdist worker, which
    grades it once (under ``--dist loadgroup`` a fixture is built once per worker)."""
    return pytest.param(name, marks=[pytest.mark.xdist_group(f"{name}_batch"), *marks])


BATCHES = [_on_one_worker("a1"), _on_one_worker("a2"), _on_one_worker("a3"),
           _on_one_worker("a4", pytest.mark.slow), _on_one_worker("a5", pytest.mark.slow)]
ON_A1 = pytest.mark.xdist_group("a1_batch")


def _stage(name, submitted, extra=None):
    from coursekit.grading.course_step import stage_submissions

    students = stage_submissions(ROOT, name, submitted)
    for student, nb in (extra or {}).items():
        samples.write_submission(nb, submitted, student, name)
        students.append(student)
    return students


def _a1_extras():
    sol = samples.solution_answers(ROOT, A1)
    noisy = dict(sol)
    noisy["conv_output_size"] = (
        "import sys, warnings\nfrom tqdm.auto import tqdm\n"
        "for _ in tqdm(range(3)): pass\n"
        "warnings.warn('a harmless warning')\nprint('debug output', file=sys.stderr)\n"
        + sol["conv_output_size"])
    died = dict(sol)
    died["receptive_field"] = sol["receptive_field"] + "\nimport os\nos._exit(3)\n"
    truncated = nbformat.writes(samples.solution_notebook(ROOT, A1)).encode()[:5000]
    return {"noisy": samples.with_answers(ROOT, A1, noisy),
            "died": samples.with_answers(ROOT, A1, died),
            "truncated": truncated}


@pytest.fixture(scope="module")
def a1_batch(tmp_path_factory):
    grading = tmp_path_factory.mktemp("grading_a1")
    submitted = grading / "submitted"
    _stage(A1, submitted, _a1_extras())
    before = {p.name: folder_checksum(p / A1) for p in submitted.iterdir()}
    report = autograde(A1, root=ROOT, grading_dir=grading, submitted_dir=submitted, parallel=2,
                       seed=SEED, progress=False, fast=True)
    after = {p.name: folder_checksum(p / A1) for p in submitted.iterdir()}
    return report, grading, before, after


def _graded(tmp_path_factory, name, seed):
    """``(report, grading dir)`` of ``name``'s samples graded as one batch."""
    grading = tmp_path_factory.mktemp(f"grading_{name[:2]}")
    _stage(name, grading / "submitted")
    report = autograde(name, root=ROOT, grading_dir=grading, parallel=2, seed=seed, progress=False,
                       fast=True, html=False)
    return report, grading


@pytest.fixture(scope="module")
def a2_batch(tmp_path_factory):
    return _graded(tmp_path_factory, A2, SEED)


@pytest.fixture(scope="module")
def a3_batch(tmp_path_factory):
    return _graded(tmp_path_factory, A3, SEED + 1)


@pytest.fixture(scope="module")
def a4_batch(tmp_path_factory):
    return _graded(tmp_path_factory, A4, SEED + 2)


@pytest.fixture(scope="module")
def a5_batch(tmp_path_factory):
    return _graded(tmp_path_factory, A5, SEED + 3)


def test_every_assignment_has_a_verified_release():
    assert {A1, A2, A3, A4, A5} == set(available(ROOT))
    assert verify_releases(ROOT, available(ROOT)) == {name: [] for name in available(ROOT)}
    for name in available(ROOT):
        assert not list((ROOT / "assignments" / name).rglob("spec.py"))


def test_verify_release_finds_a_hand_edited_release(tmp_path):
    """One scratch gradebook for several assignments hides no difference (the edited one is
    the second generated into it)."""
    import shutil

    for name in (A1, A2):
        for sub in ("solutions", "assignments"):
            shutil.copytree(ROOT / sub / name, tmp_path / sub / name)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    path = tmp_path / "assignments" / A2 / f"{A2}.ipynb"
    path.write_text(path.read_text().replace("conv_forward_naive", "conv_forward_nave", 1))
    found = verify_releases(tmp_path, [A1, A2])
    assert found[A1] == [] and len(found[A2]) == 1 and "differs from what nbgrader generates" in found[A2][0]


@pytest.mark.parametrize("name", BATCHES)
def test_samples_get_exactly_the_scores_they_deserve(name, request):
    report = request.getfixturevalue(f"{name}_batch")[0]
    expected = EXPECTED[report.assignment]
    for student, score in expected.items():
        if student == "max":
            continue
        r = report.results[student]
        assert r.status == "graded", (student, r.status, r.cell_errors)
        assert r.score == score, (student, r.score, [(t.grade_id, t.score, t.messages[:1]) for t in r.tests])
        assert r.max_score == expected["max"]
        assert r.tampered == [], (student, r.tampered)


@ON_A1
def test_stderr_warnings_and_progress_bars_cost_nothing(a1_batch):
    r = a1_batch[0].results["noisy"]
    assert (r.status, r.score) == ("graded", 20.0)


@ON_A1
def test_dead_kernel_and_invalid_notebook_get_a_clear_status_and_zero(a1_batch):
    report = a1_batch[0]
    died, bad = report.results["died"], report.results["truncated"]
    assert died.status.startswith("error: kernel died") and died.score == 0
    assert bad.status.startswith("error: invalid notebook (not valid JSON") and bad.score == 0
    assert report.results["solution"].score == 20  # the batch went on


@ON_A1
def test_submissions_are_never_modified(a1_batch):
    _, _, before, after = a1_batch
    assert before == after and all(before.values())


@ON_A1
def test_scores_are_in_nbgrader_gradebook_and_export(a1_batch):
    report, grading, _, _ = a1_batch
    stored = gradebook.scores(grading, A1)
    assert stored == {s: r.score for s, r in report.results.items()}
    from coursekit.grading.course_step import export_csv

    done = export_csv(grading, grading / "grades.csv")
    assert done.returncode == 0, done.stderr
    rows = (grading / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("assignment,") and len(rows) == 1 + len(report.results)
    assert any(row.startswith(f"{A1},") and ",buggy_dilation," in row and ",17.0," in row for row in rows)


@ON_A1
def test_feedback_shows_hidden_tests_only_as_passed_or_failed(a1_batch):
    _, grading, _, _ = a1_batch
    page = (grading / "feedback" / "buggy_dilation" / A1 / f"{A1}.html").read_text()
    text = re.sub(r"<[^>]+>", " ", page)
    assert ("hidden test: 2 of 3 points — failed on: dilation &gt; 1; passed: stride 1, stride &gt; 1"
            in text or "hidden test: 2 of 3 points — failed on: dilation > 1; passed: stride 1, stride > 1" in text)
    assert "hidden test: 1 of 1 points — passed: windows fit exactly, windows leave a remainder" in text
    assert "BEGIN HIDDEN TESTS" not in page and "conv_output_size(64, 7, stride=2" not in page
    assert "expected 6, received 8" in text  # visible tests say expected vs received


@pytest.mark.parametrize("name", BATCHES)
def test_buggy_samples_feedback_names_the_failing_families(name, request):
    from coursekit.grading.feedback import hidden_line

    report = request.getfixturevalue(f"{name}_batch")[0]
    for student, lines in FAMILIES[report.assignment].items():
        got = {t.grade_id: hidden_line(t) for t in report.results[student].tests if t.hidden}
        assert got == lines, student


@ON_A1
def test_feedback_text_does_not_depend_on_the_grading_seed(a1_batch, tmp_path):
    """Two batches with different hidden-input seeds: the same feedback page, byte for byte."""
    import shutil

    _, grading, _, _ = a1_batch
    students = ["buggy_dilation", "buggy_pool_params"]
    other = tmp_path / "grading"
    for s in students:
        shutil.copytree(grading / "submitted" / s, other / "submitted" / s)
    again = autograde(A1, root=ROOT, grading_dir=other, parallel=2, seed=SEED + 99, progress=False, fast=True)
    for s in students:
        assert again.results[s].status == "graded"
        page = f"feedback/{s}/{A1}/{A1}.html"
        assert (other / page).read_text() == (grading / page).read_text(), s


@ON_A1
def test_autograded_notebook_for_the_instructor_has_the_hidden_tests(a1_batch):
    _, grading, _, _ = a1_batch
    nb = nbformat.read(str(grading / "autograded" / "buggy_dilation" / A1 / f"{A1}.ipynb"), as_version=4)
    assert any("BEGIN HIDDEN TESTS" in c.source for c in nb.cells)


def _cli(args, env):
    return [sys.executable, "-m", "coursekit.cli"] + args


@pytest.mark.slow
def test_resume_after_sigkill_finishes_without_regrading(tmp_path):
    grading = tmp_path / "grading"
    submitted = grading / "submitted"
    sol = samples.solution_notebook(ROOT, A1)
    for i in range(6):
        samples.write_submission(sol, submitted, f"s{i}", A1)
    env = dict(os.environ, COURSEKIT_GRADING_DIR=str(grading), COURSEKIT_GRADING_SEED="resume-test")
    proc = subprocess.Popen(_cli(["autograde", A1, "--parallel", "1", "--no-feedback"], env), env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        done = list((grading / "autograde" / A1).glob("*.json")) if (grading / "autograde").exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.stem: p.stat().st_mtime_ns for p in (grading / "autograde" / A1).glob("*.json")}
    assert 2 <= len(first) < 6, f"kill came too late or too early: {sorted(first)}"
    report = autograde(A1, root=ROOT, grading_dir=grading, resume=True, parallel=2, progress=False,
                       html=False, fast=True)
    assert sorted(report.resumed) == sorted(first)
    assert sorted(report.graded) == sorted(set(f"s{i}" for i in range(6)) - set(first))
    for s, mtime in first.items():
        assert journal_path(grading, A1, s).stat().st_mtime_ns == mtime  # not re-graded
    assert gradebook.scores(grading, A1) == {f"s{i}": 20.0 for i in range(6)}
    assert report.backup is not None and report.backup.exists()


def _visible(result) -> dict:
    return {t.grade_id: t.score for t in result.tests if not t.hidden}


@ON_A1
def test_check_command_reports_each_visible_test_and_an_estimate(tmp_path, a1_batch):
    """check's estimate is autograde's visible points (one scoring code, partial credit per
    case); its visible and hidden totals are the spec's."""
    nb_path = tmp_path / f"{A1}.ipynb"
    nb_path.write_bytes((ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes())
    before = nb_path.read_bytes()
    report = check_notebook(nb_path)
    by_id = {t.grade_id: t for t in report.tests}
    assert by_id["test_conv_output_size"].passed is False
    assert "expected 6, received 8" in by_id["test_conv_output_size"].message
    assert by_id["test_stride_fits"].passed is True
    assert by_id["hidden_conv_output_size"].hidden and by_id["hidden_conv_output_size"].passed is None
    auto = a1_batch[0].results["buggy_dilation"]
    visible = _visible(auto)
    assert {t.grade_id: t.got for t in report.tests if not t.hidden} == visible
    assert report.estimate == round(sum(visible.values()), 2)
    assert 0 < by_id["test_conv_output_size"].got < by_id["test_conv_output_size"].points  # partial credit
    points = {t.grade_id: (t.points, t.hidden) for t in auto.tests}
    assert report.visible_points == sum(p for p, hidden in points.values() if not hidden)
    assert report.hidden_points == sum(p for p, hidden in points.values() if hidden)
    assert f"Points estimate: {report.estimate:g} / {report.visible_points:g}" in report.format()
    assert nb_path.read_bytes() == before
    out = subprocess.run(_cli(["check", str(nb_path)], os.environ), capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "FAIL  test_receptive_field" in out.stdout


def test_check_without_the_graders_scoring_says_which_rule_it_used(tmp_path, monkeypatch):
    """No spec at hand (a student's renamed copy) or a grader that cannot run here: each test
    counts in full when its cell ran without error, and the report says so (and why)."""
    from coursekit.grading import check

    nb_path = tmp_path / f"{A1}.ipynb"
    nb_path.write_bytes((ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes())
    renamed = tmp_path / "my_work.ipynb"
    renamed.write_bytes(nb_path.read_bytes())
    assert check.grader_scores(renamed) is None

    def no_sandbox(*args, **kwargs):
        raise RuntimeError("no sandbox here")

    monkeypatch.setattr(check, "grader_result", no_sandbox)
    report = check_notebook(nb_path)
    assert not report.graded and "no sandbox here" in report.note
    assert report.estimate == sum(t.points for t in report.tests if not t.hidden and t.passed)
    text = report.format()
    assert "counts in full when its cell ran without error" in text and "no sandbox here" in text


@pytest.mark.parametrize("name", BATCHES[:3])
def test_check_gives_every_sample_the_visible_points_autograde_gives(name, request, tmp_path):
    """`coursekit check` and `coursekit autograde` agree, test by test, on the visible points
    of every sample under tests/submissions (buggy_dilation: in the test above)."""
    report = request.getfixturevalue(f"{name}_batch")[0]
    a = report.assignment
    for p in sorted((ROOT / "tests" / "submissions" / a).glob("*.ipynb")):
        if p.stem == "buggy_dilation":
            continue
        nb_path = tmp_path / p.stem / f"{a}.ipynb"
        nb_path.parent.mkdir()
        nb_path.write_bytes(p.read_bytes())
        checked = check_notebook(nb_path)
        assert checked.graded
        assert {t.grade_id: t.got for t in checked.tests if not t.hidden} == _visible(report.results[p.stem]), p.stem


@ON_A1
def test_student_option_grades_only_that_student_and_keeps_the_others(a1_batch):
    report, grading, _, _ = a1_batch
    before = gradebook.scores(grading, A1)
    again = autograde(A1, root=ROOT, grading_dir=grading, students=["buggy_dilation"], parallel=1,
                      seed=SEED + 7, progress=False, html=False, fast=True)
    assert list(again.results) == ["buggy_dilation"] and again.results["buggy_dilation"].score == 17.0
    assert gradebook.scores(grading, A1) == before  # same scores, no duplicated or lost rows
    assert again.backup is not None and again.backup.exists()
    with pytest.raises(ValueError, match="no submission"):
        autograde(A1, root=ROOT, grading_dir=grading, students=["nobody"], progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout",
                                  "a5_visualization"])
def test_instructor_notebook_passes_all_its_tests_in_a_kernel(name):
    """The source notebook (solutions + visible and hidden test cells) runs clean: the
    literal expected values in the visible tests agree with the reference solution."""
    report = check_notebook(ROOT / "solutions" / name / f"{name}.ipynb")
    assert report.cell_errors == []
    assert all(t.passed for t in report.tests), [(t.grade_id, t.message) for t in report.tests if not t.passed]
    assert report.estimate == EXPECTED[name]["max"]
