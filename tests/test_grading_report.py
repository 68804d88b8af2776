"""`coursekit report` and `coursekit export` on a synthetic a1 class whose truth is known:
bugs injected at known frequencies, disguised copies of a few students."""
import csv
import io

import numpy as np
import pytest

from coursekit.cli import main
from coursekit.grading import gradebook, samples
from coursekit.grading.autograde import autograde
from coursekit.grading.lms import ExportError, export
from coursekit.grading.notebook import read_cells
from coursekit.grading.report import ReportError, item_analysis, load_results, make_report
from coursekit.grading.similarity import SOLUTION, class_fingerprints, similar_pairs

from conftest import ROOT
from synthetic_class import A1, BUG_TESTS, build_class

pytestmark = pytest.mark.xdist_group("grading_report")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    grading = tmp_path_factory.mktemp("grading_report")
    students, bugged, copied = build_class(ROOT)
    for name, answers in students.items():
        samples.write_submission(samples.with_answers(ROOT, A1, answers), grading / "submitted", name, A1)
    samples.write_submission(samples.release_notebook(ROOT, A1), grading / "submitted", "blank", A1)
    report = autograde(A1, root=ROOT, grading_dir=grading, parallel=2, seed=11, progress=False,
                       fast=True, html=False)
    return grading, students, bugged, copied, report


def test_item_analysis_recovers_the_injected_failure_rates(klass):
    grading, students, bugged, _, report = klass
    results = [r for r in load_results(grading, A1) if r.student != "blank"]
    assert {r.student for r in results} == set(students) and all(r.status == "graded" for r in results)
    n = len(students)
    stats = {s.grade_id: s for s in item_analysis(results)}
    failing = {s: {t for f, who in bugged.items() if s in who for t in BUG_TESTS[f]} for s in students}
    for gid, s in stats.items():
        expected_fail = sum(gid in f for f in failing.values())
        assert s.pass_rate == pytest.approx(1 - expected_fail / n, abs=1e-12), gid
        assert s.only_failure == pytest.approx(sum(f == {gid} for f in failing.values()) / n, abs=1e-12), gid
    # Discrimination = Pearson r (numpy's, an independent formula) of passing vs the rest of the
    # score, both derived from the truth; undefined (nan) where nobody fails.
    points = {gid: s.points for gid, s in stats.items()}
    names = sorted(students)
    for gid, s in stats.items():
        passed = np.array([gid not in failing[n_] for n_ in names], float)
        rest = np.array([sum(points.values()) - sum(points[t] for t in failing[n_]) - points[gid] * passed[i]
                         for i, n_ in enumerate(names)])
        if passed.all():
            assert np.isnan(s.discrimination), gid
        else:
            assert s.discrimination == pytest.approx(np.corrcoef(passed, rest)[0, 1], abs=1e-9), gid
            assert s.discrimination > 0, gid
    for f, tests in BUG_TESTS.items():
        visible = stats[tests[0]]
        assert not visible.hidden and "expected" in visible.common_failure, visible.common_failure
        assert stats[tests[1]].hidden and stats[tests[1]].common_failure == ""   # hidden: no message


def test_every_disguised_copy_ranks_above_every_independent_pair(klass):
    grading, students, _, copied, _ = klass
    release = read_cells(ROOT / "assignments" / A1 / f"{A1}.ipynb")
    solution = read_cells(ROOT / "solutions" / A1 / f"{A1}.ipynb")
    subs = class_fingerprints(grading / "submitted", A1, release, solution)
    pairs = similar_pairs(subs, threshold=0.0)
    assert "blank" not in {p.a for p in pairs} | {p.b for p in pairs}
    copies = {frozenset(c) for c in copied}
    copy_sims = [p.similarity for p in pairs if frozenset((p.a, p.b)) in copies]
    other = [p.similarity for p in pairs if frozenset((p.a, p.b)) not in copies]
    assert len(copy_sims) == len(copied)
    assert min(copy_sims) > max(other), (copy_sims, max(other))
    reported = similar_pairs(subs, threshold=0.6)
    assert {frozenset((p.a, p.b)) for p in reported} >= copies


def test_a_leaked_solution_is_caught(klass, tmp_path):
    grading = klass[0]
    leak = samples.solution_notebook(ROOT, A1)
    sub = tmp_path / "submitted"
    for name in ("student00", "student01", "student05", "student07"):
        (sub / name / A1).mkdir(parents=True)
        (sub / name / A1 / f"{A1}.ipynb").write_bytes((grading / "submitted" / name / A1 / f"{A1}.ipynb").read_bytes())
    samples.write_submission(leak, sub, "leaker", A1)
    release = read_cells(ROOT / "assignments" / A1 / f"{A1}.ipynb")
    solution = read_cells(ROOT / "solutions" / A1 / f"{A1}.ipynb")
    top = similar_pairs(class_fingerprints(sub, A1, release, solution), threshold=0.6)
    assert top and {top[0].a, top[0].b} == {"leaker", SOLUTION} and top[0].similarity > 0.95


def test_report_command_prints_and_writes_its_parts(klass, capsys):
    grading, _, _, copied, _ = klass
    extra = grading / "submitted" / "late_student" / A1
    extra.mkdir(parents=True)
    (extra / f"{A1}.ipynb").write_bytes((grading / "submitted" / "student03" / A1 / f"{A1}.ipynb").read_bytes())
    try:
        assert main(["report", A1, "--grading-dir", str(grading)]) == 0
    finally:
        (extra / f"{A1}.ipynb").unlink()
    out = capsys.readouterr().out
    assert "hidden_conv_output_size" in out and "graded 28" in out
    assert "not graded yet (1): late_student" in out
    folder = grading / "reports" / A1
    for name in ("index.html", "scores.png", "pass_rates.png", "similarity.html"):
        assert (folder / name).stat().st_size > 500, name
    page = (folder / "similarity.html").read_text()
    for original, copy in copied:
        assert copy in page and original in page
    assert "<script" not in page


def test_exports_parse_back_to_the_gradebook(klass, tmp_path):
    grading = klass[0]
    truth = gradebook.scores(grading, A1)
    mapping = tmp_path / "ids.csv"
    mapping.write_text("student_id,lms_id,name,section,email\n" +
                       "".join(f"{s},U{i:04d},Name {s},S1,{s}@uni.example\n" for i, s in enumerate(sorted(truth))))
    for fmt, key, score_col in (("csv", "student_id", A1), ("canvas", "SIS User ID", A1),
                                ("moodle", "ID number", A1)):
        dest = export(fmt, tmp_path / f"{fmt}.csv", grading, ROOT, [A1], mapping=mapping)
        rows = list(csv.DictReader(io.StringIO(dest.read_text())))
        rows = [r for r in rows if r[key] and r[key] != "max" and not r[next(iter(r))].strip().startswith("Points")]
        ids = {s: (s if fmt == "csv" else f"U{i:04d}") for i, s in enumerate(sorted(truth))}
        got = {r[key]: float(r[score_col]) for r in rows}
        assert got == {ids[s]: v for s, v in truth.items()}, fmt
        with pytest.raises(ExportError, match="exists.*--force"):
            export(fmt, dest, grading, ROOT, [A1], mapping=mapping)
        export(fmt, dest, grading, ROOT, [A1], mapping=mapping, force=True)
    partial = tmp_path / "partial.csv"
    partial.write_text("student_id,lms_id\nstudent00,U1\n")
    with pytest.raises(ExportError, match="missing from the mapping file"):
        export("canvas", tmp_path / "x.csv", grading, ROOT, [A1], mapping=partial)


def test_bad_input_gets_a_clear_message(tmp_path, capsys):
    with pytest.raises(ReportError, match="unknown assignment 'a9'.*a1_conv_arithmetic"):
        make_report("a9", tmp_path, ROOT)
    with pytest.raises(ReportError, match="no grading records.*coursekit autograde"):
        make_report(A1, tmp_path, ROOT)
    assert main(["report", A1, "--grading-dir", str(tmp_path)]) == 2
    assert "coursekit autograde" in capsys.readouterr().err
    assert main(["report", A1, "--threshold", "7", "--grading-dir", str(tmp_path)]) == 2
    with pytest.raises(ExportError, match="holds no scores"):
        export("csv", tmp_path / "g.csv", tmp_path, ROOT, [A1])
