"""`coursekit check` on a student's own copy (issue 14, "one rule for both commands"): the
notebook and its visible-case pack in a folder outside any course checkout are scored with
autograde's code (``grade_submission`` + ``score_tests``) and get autograde's visible points,
test by test; the pack holds nothing of a hidden test; verify finds a stale pack; a corrupt
one gives check a clear note, never a traceback."""
from __future__ import annotations

import copy
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from coursekit.grading import check, visible, wire
from coursekit.grading.autograde import autograde
from coursekit.grading.notebook import read_cells
from coursekit.grading.release import available, verify_releases
from coursekit.grading.spec import load_spec, make_tests

ROOT = Path(__file__).resolve().parent.parent
A1, A2, A3, A4 = "a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout", "a4_train_a_cnn"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("check_pack")]


def _notebooks(name: str) -> dict:
    """Buggy samples of ``name`` and a few honest habits (bytes or notebook dicts)."""
    import json

    from test_grading_habits import corpus, numpy_corpus

    subs = {p.stem: p.read_bytes() for p in sorted((ROOT / "tests" / "submissions" / name).glob("*.ipynb"))}
    if name == A1:
        habits = corpus(ROOT)
        subs.update({k: habits[k] for k in ("helper_reused", "metadata_stripped")})
    else:
        skip = ("solution", "torch_check", "torch_and_plots")  # torch in the child: slow, and a1 has it
        subs.update({k: v for k, v in numpy_corpus(ROOT, name).items() if k not in skip})
    return {k: v if isinstance(v, bytes) else json.dumps(v, indent=1).encode() for k, v in subs.items()}


def _student_copy(folder: Path, name: str, nb: bytes) -> Path:
    """The notebook and its pack alone in ``folder`` (as nbgrader's fetch leaves them)."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / name / f"{name}.visible", folder / f"{name}.visible")
    path = folder / f"{name}.ipynb"
    path.write_bytes(nb)
    return path


@pytest.fixture
def no_checkout(monkeypatch, tmp_path):
    """A course root with no solutions/ and no spec; the spec path must never be taken."""
    def refuse(*args, **kwargs):
        raise AssertionError("check used the spec, not the pack")

    monkeypatch.setattr(check, "_spec_pack", refuse)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "elsewhere"


@pytest.mark.parametrize("name", [A1, A2, A3])
def test_check_on_a_students_copy_gives_autogrades_visible_points(name, tmp_path, no_checkout):
    subs = _notebooks(name)
    submitted = tmp_path / "submitted"
    for student, nb in subs.items():
        (submitted / student / name).mkdir(parents=True)
        (submitted / student / name / f"{name}.ipynb").write_bytes(nb)
    report = autograde(name, root=ROOT, grading_dir=tmp_path / "grading", submitted_dir=submitted, parallel=2,
                       seed=11, progress=False, fast=True, html=False)
    paths = {s: _student_copy(tmp_path / "copies" / s, name, nb) for s, nb in subs.items()}
    with ThreadPoolExecutor(2) as pool:  # each is a sandboxed child, as in autograde --parallel 2
        checked = dict(zip(paths, pool.map(lambda p: check.grader_scores(p, root=no_checkout), paths.values())))
    for student, got in checked.items():
        auto = report.results[student]
        assert auto.status == "graded", (student, auto.status)
        assert got is not None, student
        want = {t.grade_id: t.score for t in auto.tests if not t.hidden}
        assert {g: t.score for g, t in got.items()} == want, student
        assert {g: (t.passed, t.total) for g, t in got.items()} == \
            {t.grade_id: (t.passed, t.total) for t in auto.tests if not t.hidden}, student


def test_check_command_on_a_students_copy(tmp_path, no_checkout):
    """The whole command (the student's kernel + the grader's scoring): partial credit per
    case, as autograde gives it, and no note."""
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    report = check.check_notebook(path, root=no_checkout)
    assert report.graded and not report.note, report.note
    by_id = {t.grade_id: t for t in report.tests}
    assert by_id["test_conv_output_size"].got == 1.67 and by_id["test_receptive_field"].got == 1.33
    assert report.estimate == 8 and report.visible_points == 9 and report.hidden_points == 11
    assert "partial credit per case" in report.format()


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from _strings(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _strings(v)


@pytest.mark.parametrize("name", ["a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout",
                                  "a4_train_a_cnn", "a5_visualization"])
def test_the_pack_holds_no_hidden_test(name):
    raw = (ROOT / "assignments" / name / f"{name}.visible").read_bytes()
    pack = visible.decode(raw)
    every = make_tests(load_spec(ROOT, name), name, 3, False)
    hidden = [t for t in every if t.hidden]
    families = {c.family for t in hidden for c in t.cases}
    assert hidden and families
    for t in hidden:
        assert t.grade_id.encode() not in raw
        assert not any(t.grade_id in s for s in _strings(pack)), t.grade_id
    modes = [m for m in pack["modes"].values() if m != "same"]
    assert {t["grade_id"] for m in modes for t in m} == {t.grade_id for t in every if not t.hidden}
    assert not families & set(_strings(modes)), families & set(_strings(modes))
    release = {c.source for c in read_cells(ROOT / "assignments" / name / f"{name}.ipynb")}
    assert all(c["source"] in release for c in pack["release"] if "source" in c)  # release text only
    assert len(raw) < 64 << 10, len(raw)


def test_a4s_validation_images_travel_as_a_recipe_and_come_back_exact():
    """1000 generated images are a recipe of a few hundred bytes, resolved to the very arrays
    the spec gives the grader."""
    pack = visible.read_pack(ROOT / "assignments" / A4 / f"{A4}.visible")
    spec = {t.grade_id: t for t in make_tests(load_spec(ROOT, A4), A4, 0, True)}
    a = visible.assignment_from_pack(pack, True, read_cells(ROOT / "assignments" / A4 / f"{A4}.ipynb"), ROOT)
    for t in a.tests:
        for got, want in zip(t.cases, spec[t.grade_id].cases):
            assert np.array_equal(got.steps[0].args[0], want.steps[0].args[0])
    assert a.tests[1].cases[0].steps[0].args[0].shape[0] == 400
    # a doctored recipe can neither download nor write nor exhaust memory: refused
    for change in ({"root": "/tmp/x"}, {"download": True}, {"n": 10**9}):
        bad = copy.deepcopy(pack)
        bad["modes"]["fast"][0]["cases"][0]["steps"][0]["args"][0]["__coursekit_data__"]["kwargs"].update(change)
        with pytest.raises(visible.PackError, match="other than generated shapes"):
            visible.assignment_from_pack(visible.decode(visible.encode(bad)), True, [], ROOT)


def test_verify_finds_a_stale_pack_and_tolerates_blas_noise(tmp_path, monkeypatch):
    """verify regenerates the pack from the fresh release and names a stale one (nbgrader's own
    generation is the committed notebook here: tests/test_grading_assignments.py runs it)."""
    from coursekit.grading import release

    def committed_release(root, name, release_dir, db=None):
        shutil.copytree(Path(root) / "assignments" / name, Path(release_dir) / name, ignore=lambda d, f: [
            x for x in f if x.endswith(visible.SUFFIX)])
        return Path(release_dir) / name

    monkeypatch.setattr(release, "generate_release", committed_release)
    for sub in ("solutions", "assignments"):
        shutil.copytree(ROOT / sub / A1, tmp_path / sub / A1)
    path = tmp_path / "assignments" / A1 / f"{A1}.visible"
    pack = visible.decode(path.read_bytes())
    pack["modes"]["full"][0]["cases"][0]["expected"] = [29]       # the release changed since
    path.write_bytes(visible.encode(pack))
    found = verify_releases(tmp_path, [A1])[A1]
    assert len(found) == 1 and "is stale" in found[0] and "coursekit release" in found[0], found
    assert "not produced by nbgrader" not in found[0]

    # reference floats: a last-bits difference is not a change, a real one is
    a2 = (ROOT / "assignments" / A2 / f"{A2}.visible").read_bytes()
    pack = visible.decode(a2)
    case = pack["modes"]["full"][0]["cases"][0]
    arr = next(x for x in case["expected"] if isinstance(x, np.ndarray) and x.dtype == np.float64)
    arr *= 1 + 1e-13
    assert visible.differences(a2, visible.encode(pack)) == []
    arr *= 1 + 1e-6
    assert "reference values changed" in visible.differences(a2, visible.encode(pack))[0]


def _recipes(obj):
    """Every data recipe in a pack section (nested args and expected values)."""
    if isinstance(obj, dict):
        if visible._DATA in obj:
            yield obj[visible._DATA]
        for v in obj.values():
            yield from _recipes(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _recipes(v)


def test_verify_tolerates_data_regenerated_on_another_cpu():
    """a4's images are generated again by verify and by check; NumPy's float32 arctan2 differs in
    the last bit between CPUs with and without AVX-512, so the data's sums differ by ~1e-9 of
    their size on another machine: not a stale pack (a4's committed pack, built without AVX-512,
    was reported stale on an AVX-512 machine); a sum off by 1e-4 (other data) is."""
    a4 = (ROOT / "assignments" / A4 / f"{A4}.visible").read_bytes()
    pack = visible.decode(a4)
    recipe = next(_recipes(pack["modes"]))
    recipe["sums"] = [x * (1 + 5e-9) for x in recipe["sums"]]
    assert visible.differences(a4, visible.encode(pack)) == []
    recipe["sums"][1] *= 1 + 1e-4
    found = visible.differences(a4, visible.encode(pack))
    assert len(found) == 1 and "the data of the case changed" in found[0], found


@pytest.mark.parametrize("content, words", [
    (b"PK\x03\x04 not a zip at all", "not a visible-case pack"),
    ("truncated", "not a visible-case pack"),
    (wire.pack([1, 2, 3]), "not a visible-case pack"),
    ("a2", "stale: it is the pack of a2_numpy_conv"),
    ("bad tests", "unreadable parts"),
    (wire.pack({"format": 1, "assignment": A1, "settings": {}, "release": [{"nbgrader": 5}], "modes": {}}),
     "unreadable release cells"),
])
def test_a_corrupt_or_stale_pack_is_a_clear_note(tmp_path, no_checkout, content, words):
    if content == "truncated":
        content = (ROOT / "assignments" / A1 / f"{A1}.visible").read_bytes()[:3000]
    elif content == "a2":
        content = (ROOT / "assignments" / A2 / f"{A2}.visible").read_bytes()
    elif content == "bad tests":
        pack = visible.read_pack(ROOT / "assignments" / A1 / f"{A1}.visible")
        content = visible.encode(dict(pack, modes={"full": [{"x": 1}], "fast": "same"}))
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    (path.parent / f"{A1}.visible").write_bytes(content)
    with pytest.raises(check.PackUnusable, match=words):
        check.grader_scores(path, root=no_checkout)


def test_a_pip_installed_coursekit_finds_the_pack_beside_the_notebook_or_in_the_wheel(tmp_path, monkeypatch):
    """No checkout at all (``pip install coursekit``: ``course_root()`` fails): the pack beside
    the notebook, else the one the wheel carries (``coursekit/course_files/assignments/``)."""
    from coursekit import config

    monkeypatch.setattr(config, "repo_root", lambda: None)
    monkeypatch.setattr(check, "_spec_pack", None)  # never called
    wheel = tmp_path / "wheel"
    monkeypatch.setattr("coursekit.lessons.course_files_dir", lambda: wheel)
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_pool_params.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    want = {g: t.score for g, t in check.grader_scores(path).items()}
    assert 0 < sum(want.values()) < 9
    (path.parent / f"{A1}.visible").rename(tmp_path / "kept")
    assert check.grader_scores(path) is None
    (wheel / "assignments" / A1).mkdir(parents=True)
    (tmp_path / "kept").rename(wheel / "assignments" / A1 / f"{A1}.visible")
    assert {g: t.score for g, t in check.grader_scores(path).items()} == want


def test_a_sandbox_that_cannot_start_here_is_a_note_not_a_zero(tmp_path, no_checkout, monkeypatch):
    """A machine where the sandbox fails to set itself up (e.g. a limit the OS refuses): the
    cells' rule with a note naming the reason, never 0 points for every test."""
    from coursekit.grading import runner
    from coursekit.grading.sandbox import SandboxResult

    monkeypatch.setattr(runner, "run_sandboxed",
                        lambda *a, **k: SandboxResult("error: sandbox: setrlimit refused", None))
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    with pytest.raises(RuntimeError, match="setrlimit refused"):
        check.grader_scores(path, root=no_checkout)


def test_a_renamed_download_is_scored_with_the_only_pack_beside_it(tmp_path, no_checkout):
    """``a1_conv_arithmetic (1).ipynb`` (a browser's second download) next to its pack: the
    grader's points, as autograde grades a single renamed notebook."""
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    renamed = path.rename(path.parent / f"{A1} (1).ipynb")
    got = check.grader_scores(renamed, root=no_checkout)
    assert got["test_conv_output_size"].score == 1.67 and got["test_receptive_field"].score == 1.33


def test_check_with_a_corrupt_or_missing_pack_uses_the_cells_rule_and_says_so(tmp_path, no_checkout):
    nb = (ROOT / "tests" / "submissions" / A1 / "buggy_dilation.ipynb").read_bytes()
    path = _student_copy(tmp_path / "a1", A1, nb)
    (path.parent / f"{A1}.visible").write_bytes(b"\x00" * 100)
    report = check.check_notebook(path, root=no_checkout)
    assert not report.graded and "cannot be used" in report.note and "counts in full" in report.format()
    (path.parent / f"{A1}.visible").unlink()
    assert check.grader_scores(path, root=no_checkout) is None


def test_every_release_has_its_pack():
    for name in available(ROOT):
        assert (ROOT / "assignments" / name / f"{name}.visible").is_file(), name
