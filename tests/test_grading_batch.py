"""Nothing stops the batch, same code gets the same score, feedback is inert (issue 14).

One a1 batch holds honest students next to odd ones (a lone surrogate, nbgrader metadata
700 deep, a non-UTF-8 folder name, a 248-character id, thousands of cells, a linked
folder, a 1 GiB data file, script in markdown, chosen exit codes) and one whose feedback
cannot be written: the batch completes, every honest student gets full marks, each odd
one a clear status, and ``--resume`` skips them all.
"""
from __future__ import annotations

import json
import os
import re
import time

import pytest

from grading_corpus import A1, code_cell, honest, insert, make_course, markdown_cell, write

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_batch")]

LONG_ID = "s" * 248
STAMP = "2026-11-30 21:15:07.123456 UTC"
BAD_BYTES = os.fsdecode(b"stud\xffent")
XSS = ('Notes <script>alert("xss")</script> <img src=x onerror="alert(1)"> '
       '[click](javascript:alert(2)) <a href="javascript:alert(3)">a</a>')


def _deep(n: int) -> dict:
    d: dict = {}
    for _ in range(n):
        d = {"x": d}
    return d


def _stage(course, submitted) -> dict:
    base = honest(course)
    want = {}
    for s in ("honest_a", "honest_z"):
        write(submitted, s, base)
        want[s] = ("graded", 20.0)
    # what nbgrader's exchange leaves beside a collected submission; honest_z's time is garbage
    (submitted / "honest_a" / A1 / "timestamp.txt").write_text(STAMP + "\n")
    (submitted / "honest_a" / A1 / "submission_secret.txt").write_text("s3cr3t\n")
    (submitted / "honest_z" / A1 / "timestamp.txt").write_text("not a time \u2603")
    write(submitted, "surrogate", json.dumps(insert(base, [markdown_cell("emoji half: \ud83d end")]),
                                             ensure_ascii=True).encode())
    want["surrogate"] = ("graded", 20.0)
    deep = insert(base, [markdown_cell("deep metadata")])
    deep["cells"][2]["metadata"]["nbgrader"] = dict(_deep(700), grade=False)
    write(submitted, "deep_meta", json.dumps(deep).encode())
    want["deep_meta"] = ("graded", 20.0)
    write(submitted, BAD_BYTES, base)
    want[BAD_BYTES] = ("graded", 20.0)
    write(submitted, LONG_ID, base)
    want[LONG_ID] = ("graded", 20.0)
    write(submitted, "many_cells", insert(base, [markdown_cell("") for _ in range(4000)], "end"))
    want["many_cells"] = ("graded", 20.0)
    write(submitted, "too_many_cells", insert(base, [markdown_cell("") for _ in range(30000)], "end"))
    want["too_many_cells"] = ("error: invalid notebook (30", 0.0)
    # a 1 GiB (sparse) data file next to an honest notebook: graded, never read whole
    write(submitted, "big_data", base)
    with open(submitted / "big_data" / A1 / "data.bin", "wb") as f:
        f.truncate(1 << 30)
    want["big_data"] = ("graded", 20.0)
    # a linked submission folder pointing at a folder with a 1 GiB file: refused, quickly
    elsewhere = submitted.parent / "elsewhere" / A1
    elsewhere.mkdir(parents=True)
    (elsewhere / f"{A1}.ipynb").write_text(json.dumps(base))
    with open(elsewhere / "huge.bin", "wb") as f:
        f.truncate(1 << 30)
    (submitted / "linked").mkdir()
    os.symlink(elsewhere, submitted / "linked" / A1)
    want["linked"] = ("error: invalid notebook (symbolic link", 0.0)
    write(submitted, "xss", insert(base, [markdown_cell(XSS)], "end"))
    want["xss"] = ("graded", 20.0)
    # exit codes chosen by the student: during a cell, and during the graded calls
    write(submitted, "exit_cell", insert(base, [code_cell("import os\nos._exit(37)")], "end"))
    want["exit_cell"] = ("error: kernel died in cell", 0.0)
    calls = honest(course, changes={"receptive_field": "import os\n\ndef receptive_field(layers):\n"
                                                        "    os._exit(min(len(layers) * 40 + 3, 255))\n"})
    write(submitted, "exit_call", calls)
    want["exit_call"] = ("error: kernel died while your functions were being graded", None)
    # an honest student whose feedback cannot be written (a file where its folder goes)
    write(submitted, "blocked", base)
    want["blocked"] = ("error: could not write feedback: ", 20.0)
    return want


def _matches(status: str, want: str) -> bool:
    return status == want if want in ("graded",) else status.startswith(want)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    from coursekit.grading.autograde import autograde

    tmp = tmp_path_factory.mktemp("odd")
    course = make_course(tmp / "course")
    want = _stage(course, tmp / "submitted")
    grading = tmp / "grading"
    (grading / "feedback").mkdir(parents=True)
    (grading / "feedback" / "blocked").write_text("not a folder")
    logged = []
    t0 = time.perf_counter()
    report = autograde(A1, root=course, grading_dir=grading, submitted_dir=tmp / "submitted", parallel=2,
                       seed=11, progress=False, fast=True, html=True, log=logged.append)
    return report, want, grading, logged, time.perf_counter() - t0, course, tmp


def test_the_batch_completes_and_every_student_gets_a_clear_status(odd):
    report, want, *_ = odd
    assert set(report.results) == set(want)
    bad = {}
    for s, (status, score) in want.items():
        r = report.results[s]
        if not _matches(r.status, status) or (score is not None and r.score != score):
            bad[s[:20]] = (r.status, r.score, r.cell_errors[:2], r.notes[:2])
    assert not bad, bad


def test_a_failed_write_names_the_student_and_resume_skips_everyone(odd):
    from coursekit.grading.autograde import autograde

    report, want, grading, logged, _, course, tmp = odd
    assert any(line.startswith("'blocked': could not write feedback") for line in logged), logged
    again = autograde(A1, root=course, grading_dir=grading, submitted_dir=tmp / "submitted", parallel=2,
                      seed=11, progress=False, fast=True, html=True, resume=True, log=lambda *_: None)
    assert sorted(again.resumed) == sorted(want) and again.graded == []


def test_statuses_carry_no_exit_code_or_signal(odd):
    report = odd[0]
    for s in ("exit_cell", "exit_call"):
        r = report.results[s]
        assert not re.search(r"\d", re.sub(r"in cell \d+ of your notebook", "", r.status)), r.status
        assert "exit code" in r.detail  # the instructor still sees it
    assert "37" not in report.results["exit_cell"].status


def test_odd_students_are_bounded_in_time(odd):
    report, _, _, _, seconds, *_ = odd
    for s in ("big_data", "linked", "too_many_cells", "many_cells"):
        assert report.results[s].seconds < 20, (s, report.results[s].seconds)
    assert seconds < 300


def test_feedback_html_is_inert(odd):
    _, _, grading, *_ = odd
    page = (grading / "feedback" / "xss" / A1 / f"{A1}.html").read_text()
    assert "<script>alert(" not in page
    assert not re.search(r"<img[^>]*onerror", page)
    assert not re.search(r"""<a\s[^>]*href\s*=\s*["']?\s*javascript:""", page, re.I)
    assert "Notes" in page  # the student's text is still there, as text


def test_feedback_of_a_huge_notebook_is_bounded(odd):
    _, _, grading, *_ = odd
    page = (grading / "feedback" / "many_cells" / A1 / f"{A1}.html").read_text()
    assert "more cells of your notebook are not shown" in page


def test_odd_ids_get_safe_file_names(odd):
    from coursekit.grading.autograde import journal_path, safe_name

    report, _, grading, *_ = odd
    for s in (LONG_ID, BAD_BYTES):
        name = safe_name(s)
        assert len(name) <= 80 and "/" not in name and name.isascii()
        assert journal_path(grading, A1, s).exists()
    assert safe_name("alice") == "alice" and safe_name("a/b") != safe_name("a_b")


def test_exchange_files_give_the_submission_time_and_reach_the_feedback(odd):
    """``timestamp.txt`` -> the gradebook's submission time (late flags in formgrader and
    ``nbgrader export``); it and ``submission_secret.txt`` go beside the autograded notebook and
    the feedback, where ``nbgrader release_feedback`` looks. A garbage time is ignored."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    from coursekit.grading.gradebook import db_url

    _, _, grading, *_ = odd
    with Gradebook(db_url(grading)) as gb:
        assert gb.find_submission(A1, "honest_a").timestamp == parse_utc(STAMP)
        assert gb.find_submission(A1, "honest_z").timestamp is None
    for kind in ("autograded", "feedback"):
        folder = grading / kind / "honest_a" / A1
        assert (folder / "timestamp.txt").read_text() == STAMP + "\n"
        assert (folder / "submission_secret.txt").read_text() == "s3cr3t\n"  # byte for byte: nbgrader hashes it
        assert not (grading / kind / "honest_z" / A1 / "submission_secret.txt").exists()


# ------------------------------------------------------------------ same code, same score
def test_a_regrade_gives_identical_scores_and_rotation_is_explicit(tmp_path, monkeypatch):
    """Two batches in the same grading folder (no fixed seed): identical scores, including a
    submission whose score depends on which hidden inputs are drawn."""
    from coursekit.grading.autograde import autograde, batch_seed

    monkeypatch.delenv("COURSEKIT_GRADING_SEED", raising=False)
    course = make_course(tmp_path / "course")
    lottery = honest(course, changes={"conv_output_size": (
        "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n"
        "    effective = dilation * (kernel_size - 1) + 1\n"
        "    out = (size + 2 * padding - effective) // stride + 1\n"
        "    return out + 1 if size % 3 == 1 else out\n")})
    write(tmp_path / "submitted", "lottery", lottery)
    write(tmp_path / "submitted", "honest", honest(course))
    grading = tmp_path / "grading"
    runs = []
    for _ in range(2):
        rep = autograde(A1, root=course, grading_dir=grading, submitted_dir=tmp_path / "submitted",
                        parallel=2, progress=False, fast=True, html=False)
        runs.append({s: (r.score, [t.score for t in r.tests], r.batch) for s, r in rep.results.items()})
    assert runs[0] == runs[1]
    first = batch_seed(grading, A1, False, None)
    assert batch_seed(grading, A1, False, None) == first
    rotated = batch_seed(grading, A1, False, None, rotate=True)
    assert rotated != first and batch_seed(grading, A1, False, None) == rotated


# ------------------------------------------------------------------ memory, stated clearly
def test_memory_over_the_limit_names_the_limit_the_use_and_the_cell(tmp_path):
    """One process past the limit: MemoryError in that cell (noted with the limit), graded.
    Several processes together past it: a status naming the limit, the use and the cell."""
    from coursekit.grading.autograde import autograde
    from coursekit.grading.sandbox import LINUX

    course = make_course(tmp_path / "course", limits=dict(
        cell_timeout=20, scratch_budget=20, fast_total_timeout=40, total_timeout=40, memory_mb=768))
    base = honest(course)
    write(tmp_path / "submitted", "one_process", insert(base, [code_cell(
        "hog = bytearray(900 * 1024 * 1024)")], "end"))
    write(tmp_path / "submitted", "many_processes", insert(base, [code_cell(
        "import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n"
        "        hog = bytearray(400 * 1024 * 1024)\n        time.sleep(30)\n        os._exit(0)\n"
        "time.sleep(15)")], "end"))
    report = autograde(A1, root=course, grading_dir=tmp_path / "grading", submitted_dir=tmp_path / "submitted",
                       parallel=1, seed=3, progress=False, fast=True, html=False)
    one = report.results["one_process"]
    assert (one.status, one.score) == ("graded", 20.0), (one.status, one.cell_errors)
    assert any("MemoryError" in e["error"] and "768 MiB" in e["error"] for e in one.cell_errors), one.cell_errors
    many = report.results["many_processes"]
    if os.geteuid() == 0 and LINUX:  # the resident-memory poll needs the sandbox's own uid
        assert re.fullmatch(r"error: memory limit \(768 MiB\) exceeded in cell \d+ of your notebook, "
                            r"about \d+ MiB in use", many.status), many.status
        assert many.score == 0
