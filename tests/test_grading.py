"""Unit tests of the trusted grader's parts: wire format, comparisons, notebook merge, specs."""
import io
import json

import numpy as np
import pytest

from coursekit.grading import wire
from coursekit.grading.compare import Accuracy, Close, Exact, assert_close, compare_values
from coursekit.grading.notebook import InvalidNotebook, merge, parse_notebook, read_cells
from coursekit.grading.spec import load_spec, make_tests

A1 = "a1_conv_arithmetic"


# ----------------------------------------------------------------------------- wire
def test_wire_round_trip_keeps_structure_and_arrays():
    obj = {"a": [1, 2.5, None, True, "s"], "t": (np.arange(6).reshape(2, 3), np.float32(1.5)),
           "nan": float("nan"), "ref": wire.Ref(0, 1)}
    out = wire.unpack(wire.pack(obj), allow_refs=True)
    assert out["a"] == [1, 2.5, None, True, "s"]
    assert isinstance(out["t"], tuple) and out["t"][0].shape == (2, 3) and out["t"][1] == 1.5
    assert np.array_equal(out["t"][0], np.arange(6).reshape(2, 3))
    assert np.isnan(out["nan"]) and out["ref"] == wire.Ref(0, 1)


def test_wire_turns_student_objects_into_plain_data_or_unsupported():
    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

    class Weird:
        pass

    out = wire.unpack(wire.pack([AlwaysEqual(3.0), Weird(), np.array(["x"], dtype=object)]))
    assert type(out[0]) is float and out[0] == 3.0
    assert isinstance(out[1], wire.Unsupported) and out[1].type_name == "Weird"
    assert isinstance(out[2], wire.Unsupported)


def test_wire_rejects_pickles_and_garbage():
    buf = io.BytesIO()
    np.savez(buf, __json__=np.frombuffer(b'{"__array__": "a0"}', dtype=np.uint8),
             a0=np.array([object()], dtype=object))
    with pytest.raises(wire.WireError):
        wire.unpack(buf.getvalue())
    with pytest.raises(wire.WireError):
        wire.unpack(b"not an npz at all")
    with pytest.raises(wire.WireError, match="references"):
        wire.unpack(wire.pack({"r": wire.Ref(0)}))
    with pytest.raises(wire.WireError, match="cap"):
        wire.unpack(wire.pack(np.zeros(1000)), max_bytes=100)


def test_frames_detect_truncation():
    data = wire.frame(b"abc") + wire.frame(b"defg")
    assert wire.read_frames(data) == ([b"abc", b"defg"], True)
    assert wire.read_frames(data[:-1]) == ([b"abc"], False)
    assert wire.read_frames(b"junk" + data) == ([], False)


# ----------------------------------------------------------------------------- compare
def test_compare_messages_say_expected_received_and_where():
    exp = np.zeros((2, 3))
    rec = exp.copy()
    rec[1, 2] = 0.5
    msg = compare_values(exp, rec, where="out")
    assert "1 of 6 entries differ" in msg and "(1, 2)" in msg and "expected 0.0" in msg and "received 0.5" in msg
    assert "expected shape (2, 3), received shape (3,)" in compare_values(exp, np.zeros(3))
    assert compare_values(exp, exp + 1e-12) is None
    with pytest.raises(AssertionError, match="first mismatch at index"):
        assert_close(rec, exp, name="out")


def test_compare_is_strict_about_types():
    assert Exact().score([True], [1])[0] == 0.0           # an int is not a bool
    assert Exact().score([3], [True])[0] == 0.0           # nor a bool an int
    assert Exact().score([(13, 1)], [[13, 1]])[0] == 1.0  # list vs tuple of numbers is fine
    assert Close().score([1.0], [wire.Unsupported("Weird")])[0] == 0.0
    assert Close().score([np.ones(2), 1.0], [np.ones(2)])[0] == 0.0
    assert Close().score([1.0], "not a list")[0] == 0.0


def test_accuracy_levels_give_partial_credit():
    y = np.arange(10) % 3
    good = y.copy()
    half = y.copy()
    half[:3] = (half[:3] + 1) % 3
    acc = Accuracy(levels=((0.9, 1.0), (0.6, 0.5)))
    assert acc.score([y], [good]) == (1.0, "accuracy 1.000 >= 0.90: 100% of the points")
    assert acc.score([y], [half])[0] == 0.5
    assert acc.score([y], [(y + 1) % 3])[0] == 0.0
    assert acc.score([y], [np.zeros((10, 3))])[0] == 0.0


# ----------------------------------------------------------------------------- notebooks
def _nb(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_parse_notebook_reports_why_it_is_invalid():
    with pytest.raises(InvalidNotebook, match="UTF-8"):
        parse_notebook(b"\xff\xfe{")
    with pytest.raises(InvalidNotebook, match="JSON"):
        parse_notebook(b'{"cells": [')
    with pytest.raises(InvalidNotebook, match="cells"):
        parse_notebook(b'{"cells": 3}')
    cells = parse_notebook(_nb([{"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": {}}]))
    assert cells[0].source == "a = 1\nb = 2"


def _release(root):
    return read_cells(root / "assignments" / A1 / f"{A1}.ipynb")


def test_merge_of_an_honest_notebook_reports_nothing_and_runs_no_test(root):
    release = _release(root)
    merged = merge(release, release)
    assert merged.tampered == [] and merged.notes == []
    tests = {c.source for c in release if c.is_test}
    assert not tests & set(merged.cells)
    assert len(merged.cells) == sum(1 for c in release if c.cell_type == "code" and not c.is_test)


def test_merge_restores_and_reports_only_real_changes(root):
    release = _release(root)
    student = [type(c)(c.cell_type, c.source, dict(c.nbgrader)) for c in release]
    # cosmetic: trailing spaces and Windows line endings are not tampering
    student[4].source = student[4].source.replace("\n", "  \r\n")
    assert merge(release, student).tampered == []
    # a re-typed identical test cell (metadata lost) is neither run nor reported
    retyped = [type(c)(c.cell_type, c.source, {} if c.grade_id == "test_stride_fits" else dict(c.nbgrader))
               for c in release]
    assert merge(release, retyped).tampered == []
    # edited test, deleted test, edited set-up cell: reported, set-up restored
    edited = [type(c)(c.cell_type, c.source, dict(c.nbgrader)) for c in release
              if c.grade_id != "test_params"]
    for c in edited:
        if c.grade_id == "test_conv_output_size":
            c.source = "pass"
        if c.grade_id == "setup":
            c.source = "import numpy as np; np.allclose = lambda *a, **k: True"
    merged = merge(release, edited)
    assert any("'test_conv_output_size' was edited" in t for t in merged.tampered)
    assert any("'test_params' was deleted" in t for t in merged.tampered)
    assert any("'setup' was edited" in t for t in merged.tampered)
    setup = next(c.source for c in release if c.grade_id == "setup")
    assert setup in merged.cells and not any("allclose" in s for s in merged.cells)


# ----------------------------------------------------------------------------- specs
def test_hidden_inputs_depend_on_the_secret_seed_and_visible_ones_do_not(root):
    module = load_spec(root, A1)
    t1, t2 = make_tests(module, A1, 1, True), make_tests(module, A1, 2, True)
    key = lambda t: repr([c.to_wire() for c in t.cases])  # noqa: E731
    for a, b in zip(t1, t2):
        assert a.grade_id == b.grade_id and a.points == b.points
        assert (key(a) == key(b)) == (not a.hidden)
    assert key(make_tests(module, A1, 1, True)[1]) == key(t1[1])


def test_a1_visible_expectations_agree_with_coursekit_arithmetic(root):
    """The literal expected values in a1's visible tests are what torch-checked code gives."""
    from coursekit import arithmetic

    module = load_spec(root, A1)
    fns = {"conv_output_size": arithmetic.conv_output_size, "pool_output_size": arithmetic.pool_output_size,
           "conv_transpose_output_size": arithmetic.conv_transpose_output_size,
           "conv_params": arithmetic.conv_params, "linear_params": arithmetic.linear_params,
           "receptive_field": lambda layers: tuple(arithmetic.receptive_field(layers))[:2]}
    checked = 0
    for test in make_tests(module, A1, 0, True):
        for case in test.cases:
            step = case.steps[0]
            if step.fn in fns and not test.hidden:
                got = fns[step.fn](*step.args, **step.kwargs)
                assert Exact().score(case.expected, [got])[0] == 1.0, (step, got, case.expected)
                checked += 1
    assert checked >= 20


# ----------------------------------------------------------------------------- checksum
def test_checksum_never_reads_a_large_file_or_follows_a_link(tmp_path):
    """A 1 GiB data file beside a notebook is identified by size, mtime and inode (its bytes
    are never read: changing them in place, same mtime, changes nothing); a linked folder
    counts as its link text (its target's files are never read); the notebook's bytes count."""
    import os
    import time

    from coursekit.grading.notebook import folder_checksum

    folder, elsewhere = tmp_path / "sub", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "a.ipynb").write_text("{}")
    big = folder / "data.bin"
    with open(big, "wb") as f:
        f.truncate(1 << 30)
    (elsewhere / "huge.bin").write_bytes(b"x" * 1000)
    os.symlink(elsewhere, folder / "linked")
    t0 = time.perf_counter()
    first = folder_checksum(folder)
    assert time.perf_counter() - t0 < 2
    st = big.stat()
    with open(big, "r+b") as f:
        f.seek(12345)
        f.write(b"changed")
    os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns))
    (elsewhere / "huge.bin").write_bytes(b"y" * 1000)
    assert folder_checksum(folder) == first
    (folder / "a.ipynb").write_text("{ }")
    assert folder_checksum(folder) != first
    assert folder_checksum(folder / "linked") != folder_checksum(elsewhere)


def test_a_forged_frame_length_closes_the_childs_stdin_at_once():
    """A frame declaring more bytes than the result cap can never complete: the conversation
    closes stdin (the child then ends) instead of waiting out the wall clock for it."""
    from coursekit.grading import wire
    from coursekit.grading.runner import Conversation

    talk = Conversation([b"visible", b"hidden"], visible=[0], hidden=[1], max_bytes=1000)
    assert talk(wire.frame(wire.pack({"kind": "cells", "errors": []}))) == b"visible"
    honest_partial = wire.MAGIC + (500).to_bytes(8, "big") + b"x" * 10   # within the cap: wait for it
    assert talk(honest_partial) == b""
    talk = Conversation([b"visible", b"hidden"], visible=[0], hidden=[1], max_bytes=1000)
    forged = wire.frame(wire.pack({"kind": "cells", "errors": []})) + wire.MAGIC + b"\xff" * 8 + b"garbage"
    assert talk(forged) is None
