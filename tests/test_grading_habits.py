"""Honest habits never cost points (issue 14): each habit on a full-marks a1 solution gets
full marks in BOTH ``coursekit check`` and ``coursekit autograde``.

The course copy has CI-sized limits (3 s of scratch time, 20 s per answer cell) and the
assignment's real memory limit, so the scratch-cell and import cases test the real rules.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from grading_corpus import A1, code_cell, honest, insert, make_course, markdown_cell, write

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_habits")]

HELPER_CONV = '''def _out(size, kernel_size, stride, padding, dilation):
    effective = dilation * (kernel_size - 1) + 1
    return (size + 2 * padding - effective) // stride + 1


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return _out(size, kernel_size, stride, padding, dilation)
'''
HELPER_TRANSPOSE = '''def _out(size, kernel_size, stride, padding, output_padding, dilation):
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return _out(size, kernel_size, stride, padding, output_padding, dilation)
'''
ZERO_D = '''import numpy as np


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    effective = dilation * (kernel_size - 1) + 1
    return np.array((size + 2 * padding - effective) // stride + 1)   # a 0-d array
'''
NUMPY_SCALARS = '''import numpy as np


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    span = size + 2 * padding - kernel_size
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return np.int64(out)
'''
LIST_FOR_TUPLE = '''def receptive_field(layers):
    size, jump = 1, 1
    for kernel, stride, dilation in layers:
        size += dilation * (kernel - 1) * jump
        jump *= stride
    return [size, jump]
'''


def _jupyterlab4(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    nb["nbformat_minor"] = 5
    nb["metadata"].update({"language_info": {"name": "python", "version": "3.12.3",
                                             "codemirror_mode": {"name": "ipython", "version": 3}},
                           "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
                           "toc-autonumbering": True})
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"c{i:04x}-lab4"
        c["metadata"].update({"jupyter": {"source_hidden": False, "outputs_hidden": False},
                              "tags": ["lab"], "editable": True, "deletable": False,
                              "execution": {"iopub.execute_input": "2026-11-30T10:00:00Z"}})
    return nb


def _out_of_order(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    count = 40
    for c in reversed(nb["cells"]):
        if c["cell_type"] == "code":
            c["execution_count"] = count
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ok\n"}]
            count -= 3
    return nb


def _metadata_stripped(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    for c in nb["cells"]:
        c["metadata"] = {}
    return nb


def corpus(course) -> dict:
    base = honest(course)
    sol = {"conv_output_size": HELPER_CONV, "conv_transpose_output_size": HELPER_TRANSPOSE}
    return {
        "solution": base,
        "matplotlib_inline": insert(base, [code_cell(
            "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n"
            "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.title('sizes'); plt.show()")]),
        "matplotlib_widget": insert(base, [code_cell("%matplotlib widget\nimport matplotlib.pyplot as plt\n"
                                                     "fig, ax = plt.subplots(); ax.plot([3, 1])")], "end"),
        "timeit": insert(base, [code_cell("%timeit conv_output_size(32, 5)"),
                                code_cell("%%timeit\nconv_output_size(32, 3, padding=1)")], "end"),
        "autoreload": insert(base, [code_cell("%load_ext autoreload\n%autoreload 2")]),
        "pip_list": insert(base, [code_cell("!pip list | head -3\nfiles = !ls\nprint(len(files))")]),
        "imports": insert(base, [code_cell(
            "import numpy as np, scipy, scipy.signal, sklearn, sklearn.linear_model\n"
            "import matplotlib.pyplot as plt\nimport torch\n"
            "print(torch.nn.BatchNorm1d(3)(torch.ones(4, 3)).shape, scipy.__version__)")]),
        "zero_d_array": honest(course, changes={"conv_output_size": ZERO_D}),
        "numpy_scalars": honest(course, changes={"pool_output_size": NUMPY_SCALARS}),
        "list_for_tuple": honest(course, changes={"receptive_field": LIST_FOR_TUPLE}),
        "helper_reused": honest(course, changes=sol),
        "scratch_cells": insert(base, [code_cell(f"# experiment {i}\nimport time\ntime.sleep(2.5)")
                                       for i in range(3)], "end"),
        "prints": insert(base, [code_cell("for i in range(20000):\n    print('progress', i, 'x' * 200)")],
                         "end"),
        "jupyterlab4": _jupyterlab4(base),
        "out_of_order": _out_of_order(base),
        "metadata_stripped": _metadata_stripped(base),
        "markdown_notes": insert(base, [markdown_cell("My notes: $O(n^2)$ <b>bold</b> & more")]),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from coursekit.grading.autograde import autograde

    tmp = tmp_path_factory.mktemp("habits")
    course = make_course(tmp / "course")
    subs = corpus(course)
    for student, nb in subs.items():
        write(tmp / "submitted", student, nb)
    report = autograde(A1, root=course, grading_dir=tmp / "grading", submitted_dir=tmp / "submitted",
                       parallel=2, seed=7, progress=False, fast=True, html=True)
    return report, subs, tmp


def test_every_honest_habit_gets_full_marks_in_autograde(graded):
    report, subs, _ = graded
    got = {s: (r.status, r.score) for s, r in report.results.items()}
    assert sorted(subs) == sorted(STUDENTS)
    want = {s: ("graded", 20.0) for s in subs}
    assert got == want, {s: (r.status, r.score, r.cell_errors[:2], [(t.grade_id, t.messages[:1])
                                                                 for t in r.tests if t.score < t.points])
                         for s, r in report.results.items() if got[s] != want[s]}
    assert all(not r.tampered for r in report.results.values()), \
        {s: r.tampered for s, r in report.results.items() if r.tampered}


def test_scratch_cells_over_their_budget_are_skipped_with_a_note(graded):
    r = graded[0].results["scratch_cells"]
    assert any("ran past the time" in n and "no points lost" in n for n in r.notes), r.notes
    assert r.seconds < 30


STUDENTS = ["solution", "matplotlib_inline", "matplotlib_widget", "timeit", "autoreload", "pip_list",
            "imports", "zero_d_array", "numpy_scalars", "list_for_tuple", "helper_reused", "scratch_cells",
            "prints", "jupyterlab4", "out_of_order", "metadata_stripped", "markdown_notes"]


@pytest.mark.parametrize("student", STUDENTS)
def test_every_honest_habit_gets_full_marks_in_check(graded, student):
    """``coursekit check`` (the student's own kernel) agrees with autograde on visible points."""
    from coursekit.grading.check import check_notebook

    report, _, tmp = graded
    path = tmp / "submitted" / student / A1 / f"{A1}.ipynb"
    checked = check_notebook(path, root=tmp / "course")
    assert checked.graded and checked.visible_points == 9 and checked.hidden_points == 11
    assert checked.estimate == checked.visible_points, \
        ([(t.grade_id, t.message) for t in checked.tests if t.passed is False], checked.cell_errors[:3])
    visible_auto = sum(t.score for t in report.results[student].tests if not t.hidden)
    assert visible_auto == checked.estimate, (report.results[student].status, report.results[student].tests)


def test_output_over_the_old_kill_cap_is_truncated_not_fatal(tmp_path):
    """300 MB printed (past the old 256 MB kill): graded, full marks."""
    from coursekit.grading.autograde import autograde

    course = make_course(tmp_path / "course")
    nb = insert(honest(course), [code_cell(
        "import sys\nchunk = 'y' * (1 << 20)\nfor _ in range(300):\n    sys.stdout.write(chunk)")], "end")
    write(tmp_path / "submitted", "loud", nb)
    report = autograde(A1, root=course, grading_dir=tmp_path / "grading", submitted_dir=tmp_path / "submitted",
                       parallel=1, seed=7, progress=False, fast=True, html=False)
    r = report.results["loud"]
    assert (r.status, r.score) == ("graded", 20.0), (r.status, r.cell_errors)


# ------------------------------------------------------------------ the parts behind the rules
def test_zero_d_and_other_shapes_arrive_as_sent():
    from coursekit.grading import wire

    values = [np.array(3), np.array(2.5, dtype=np.float32), np.zeros((0, 3)), np.ones((2, 1, 3)),
              np.arange(6).reshape(2, 3).T, np.float32(1.5), np.int64(4)]
    out = wire.unpack(wire.pack(values))
    for sent, got in zip(values, out):
        assert np.shape(got) == np.shape(sent) and np.array_equal(got, sent)
    assert out[0].shape == () and out[1].dtype == np.float32


def test_graded_functions_see_the_namespace_of_their_own_cell():
    from coursekit.grading.child import snapshot

    ns = {}
    exec("def _h():\n    return 1\n\ndef f():\n    return _h() + K\nK = 10", ns)
    snap = snapshot(ns)
    exec("def _h():\n    return 100\nK = 1000", ns)
    assert snap["f"]() == 11 and ns["f"]() == 1100
    assert snap["f"].__name__ == "f" and snap["f"].__doc__ is None


def test_limits_are_stated_by_check():
    from coursekit.grading.check import CheckReport
    from coursekit.grading.limits import GradingLimits

    text = CheckReport("a.ipynb", 1.0, limits=GradingLimits.from_settings(
        json.loads('{"cell_timeout": 30, "memory_mb": 3072}')).describe()).format()
    assert "30 s" in text and "3072 MiB" in text and "scratch" in text and "never a zero" in text


def test_the_grading_shell_takes_the_magics_students_use():
    cells = ["%matplotlib inline", "%matplotlib widget", "%pylab inline", "%config InlineBackend.figure_format = 'svg'",
             "%load_ext autoreload\n%autoreload 2", "%timeit sum(range(10))", "%%timeit -n 5 -r 2\nx = 1",
             "!pip list", "files = !ls\nassert list(files) == []", "%pip install nothing",
             "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()"]
    code = ("import json, sys\nfrom coursekit.grading.child import _make_shell, run_cells\n"
            f"errors, _ = run_cells(_make_shell(), {cells!r}, 20)\nprint(json.dumps(errors))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, MPLBACKEND="Agg"))  # own process: the shell is a singleton
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_time_limit_never_stops_an_import_half_way_nor_is_swallowed(tmp_path):
    """A scratch cell's time limit that falls inside an import waits for the import to finish
    (torch's import stopped half-way left modules that crashed the child when touched again:
    "kernel died", 0 points), then stops the cell; a student's ``except Exception`` cannot
    swallow the timeout."""
    (tmp_path / "slowmod.py").write_text("import time\ntime.sleep(2.6)\ndone = True\n")
    cells = ["import slowmod\nwhile True:\n    pass",            # extra: its 1 s limit falls in the import
             "assert slowmod.done",                               # the import completed
             "try:\n    while True:\n        pass\nexcept Exception:\n    pass"]   # answer: 1 s
    code = ("import json, sys, time\nsys.path.insert(0, '.')\n"
            "from coursekit.grading.child import _make_shell, run_cells\nt = time.perf_counter()\n"
            f"errors, _ = run_cells(_make_shell(), {cells!r}, 1, ['extra', 'answer', 'answer'], 0.5)\n"
            "print(json.dumps([errors, time.perf_counter() - t]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env=dict(os.environ, MPLBACKEND="Agg"))
    assert out.returncode == 0, out.stderr[-2000:]
    errors, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(e["cell"], e.get("skipped", False)) for e in errors] == [(0, True), (2, False)], errors
    assert "CellTimeout" in errors[1]["error"] and seconds < 2.6 + 1 + 5, (errors, seconds)


def test_input_fails_at_once_as_in_a_kernel_and_never_reads_the_graders_pipe():
    """``input()`` in student code raises the error a frontend-less kernel raises (as in
    ``coursekit check``), at once, instead of blocking on the request pipe until the time
    limit; the requests still arrive, and ``sys.stdin`` is empty."""
    code = ("import json, sys, time\nfrom coursekit.grading import child\nfd = child._detach_stdin()\n"
            "t = time.perf_counter()\ntry:\n    input('your name? ')\n    err = None\n"
            "except Exception as e:\n    err = type(e).__name__\n"
            "print(json.dumps([err, time.perf_counter() - t, child._read_exact(fd, 5).decode(), sys.stdin.read()]))")
    out = subprocess.run([sys.executable, "-c", code], input="hello", capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    err, seconds, request, stdin = json.loads(out.stdout.strip().splitlines()[-1])
    assert (err, request, stdin) == ("StdinNotImplementedError", "hello", "") and seconds < 5


# ------------------------------------------------------------------ a2 and a3 habits
A2, A3 = "a2_numpy_conv", "a3_batchnorm_dropout"
TORCH_CHECK_A2 = '''import torch
import torch.nn.functional as F
import matplotlib.pyplot as plt

xs = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
ws = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
ours, _ = conv_forward_naive(xs, ws, np.zeros(3), stride=1, padding=1)
theirs = F.conv2d(torch.from_numpy(xs), torch.from_numpy(ws), padding=1).numpy()
print("max difference from torch:", np.abs(ours - theirs).max())
plt.imshow(ours[0, 0], cmap="RdBu_r"); plt.colorbar(); plt.title("feature map 0"); plt.show()'''
TORCH_CHECK_A3 = '''import torch

bn = torch.nn.BatchNorm1d(3, momentum=0.1).double()
xs = np.random.default_rng(0).normal(3, 2, size=(6, 3))
state = {"running_mean": np.zeros(3), "running_var": np.ones(3)}
ours, _ = batchnorm_forward(xs, np.ones(3), np.zeros(3), state)
theirs = bn(torch.from_numpy(xs)).detach().numpy()
print(np.abs(ours - theirs).max(), np.abs(state["running_var"] - bn.running_var.numpy()).max())'''


def _a2_helpers_float32(course) -> dict:
    """A private ``_pad`` written again (differently, same behaviour) in a later answer cell,
    and the naive forward pass's output returned as a float32 copy (torch's default dtype).
    (A helper redefined with another behaviour would break the earlier function in notebook
    order too, in a kernel as in the grader: not an honest habit but a bug.)"""
    from grading_corpus import answers

    ans = answers(course, A2)
    fwd = ans["conv_forward_naive"].replace(
        "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
        "    xp = _pad(x, padding)").replace("    return out, cache", "    return out.astype(np.float32), cache")
    fwd = "def _pad(a, p):\n    return np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))\n\n\n" + fwd
    bwd = ans["conv_backward_naive"].replace(
        "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
        "    xp = _pad(x, padding)")
    bwd = ('def _pad(a, p):\n    """Zero padding of the two last axes."""\n'
           '    return np.pad(a, [(0, 0)] * (a.ndim - 2) + [(p, p), (p, p)], mode="constant")\n\n\n' + bwd)
    assert "_pad(x, padding)" in fwd and "xp = _pad" in bwd and "float32" in fwd
    return honest(course, A2, {"conv_forward_naive": fwd, "conv_backward_naive": bwd})


def _a3_float32_scalars(course) -> dict:
    """Dropout outputs as float32 copies; batch statistics as NumPy scalars per feature."""
    from grading_corpus import answers

    ans = answers(course, A3)
    drop = ans["dropout"].replace("        return x.copy(), np.ones_like(x)",
                                  "        return x.astype(np.float32), np.ones_like(x)")
    drop = drop.replace("    out = x * mask\n", "    out = (x * mask).astype(np.float32)\n")
    bn = ans["batchnorm_forward"].replace("        mu = x.mean(axis=0)",
                                          "        mu = np.array([np.float64(np.mean(col)) for col in x.T])")
    assert "float32" in drop and "(x * mask).astype" in drop and "np.float64(np.mean" in bn
    return honest(course, A3, {"dropout": drop, "batchnorm_forward": bn})


def numpy_corpus(course, name) -> dict:
    base = honest(course, name)
    if name == A2:
        return {"solution": base,
                "torch_and_plots": insert(base, [code_cell("%matplotlib inline\n" + TORCH_CHECK_A2)], "end"),
                "helpers_and_float32": _a2_helpers_float32(course)}
    return {"solution": base,
            "torch_check": insert(base, [code_cell(TORCH_CHECK_A3)], "end"),
            "float32_and_scalars": _a3_float32_scalars(course)}


@pytest.fixture(scope="module", params=[A2, A3])
def graded_numpy(request, tmp_path_factory):
    from coursekit.grading.autograde import autograde

    name = request.param
    tmp = tmp_path_factory.mktemp(f"habits_{name}")
    course = make_course(tmp / "course", name)
    subs = numpy_corpus(course, name)
    for student, nb in subs.items():
        write(tmp / "submitted", student, nb, name)
    report = autograde(name, root=course, grading_dir=tmp / "grading", submitted_dir=tmp / "submitted",
                       parallel=2, seed=7, progress=False, fast=True, html=False)
    return name, report, subs, tmp


def test_a2_a3_habits_get_full_marks_in_autograde_and_check(graded_numpy):
    from coursekit.grading.check import check_notebook

    name, report, subs, tmp = graded_numpy
    full = float(sum(t.points for t in report.results["solution"].tests))
    for student in subs:
        r = report.results[student]
        assert (r.status, r.score, r.tampered) == ("graded", full, []), \
            (student, r.status, r.cell_errors[:2], [(t.grade_id, t.messages[:1]) for t in r.tests if t.score < t.points])
        checked = check_notebook(tmp / "submitted" / student / name / f"{name}.ipynb", root=tmp / "course")
        assert checked.graded
        assert checked.estimate == checked.visible_points, \
            (student, [(t.grade_id, t.message) for t in checked.tests if t.passed is False], checked.cell_errors[:3])
        assert checked.estimate == sum(t.score for t in r.tests if not t.hidden), student
