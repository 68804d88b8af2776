"""The comparer's contract (issue 22): layout, dtype and 0-d cases, tolerances and accuracy
thresholds exactly at the boundary, NaN and inf.

``compare_values`` promises: shapes must match exactly (no broadcasting, no reshaping), numbers
and arrays compare with ``np.isclose`` (``|received - expected| <= atol + rtol * |expected|``,
NaN equal to NaN) unless ``exact``; bools are not numbers. ``Accuracy`` awards a level when the
accuracy is AT LEAST its threshold.
"""
from __future__ import annotations

import numpy as np
import pytest

from coursekit.grading.compare import Accuracy, Close, Exact, assert_close, compare_returns, compare_values


def ok(expected, received, **kw):
    return compare_values(expected, received, **kw) is None


# ------------------------------------------------------------------ layout
@pytest.mark.parametrize("shape", [(2, 3), (3, 5), (2, 3, 4)])
def test_a_transposed_array_of_the_same_size_is_rejected(shape):
    exp = np.arange(np.prod(shape), dtype=float).reshape(shape) / 7
    assert not ok(exp, exp.T)                                 # wrong shape
    msg = compare_values(exp, exp.T.reshape(shape))           # right shape, wrong layout
    assert msg is not None and "differ" in msg


def test_a_square_transpose_and_a_flattened_or_reshaped_array_are_rejected():
    exp = np.arange(9.0).reshape(3, 3)
    assert not ok(exp, exp.T)
    assert "expected shape (3, 3), received shape (9,)" in compare_values(exp, exp.ravel())
    assert not ok(exp, exp.reshape(1, 3, 3))
    assert not ok(exp, exp.reshape(3, 3, 1))
    assert not ok(exp.ravel(), exp.reshape(9, 1))
    assert not ok(exp, exp.tolist()[:2])                      # fewer rows
    assert ok(exp, exp.tolist())                              # nested lists of the right shape


def test_no_broadcasting_of_rows_columns_or_scalars():
    exp = np.ones((2, 3))
    for rec in (np.ones(3), np.ones((1, 3)), np.ones((2, 1)), 1.0, np.float64(1.0)):
        assert not ok(exp, rec), np.shape(rec)
    assert not ok(1.0, np.ones(1)) and not ok(1.0, [1.0])     # a 0-d answer is not a 1-element array
    assert not ok(np.ones(1), 1.0)


def test_channels_last_layout_of_an_image_batch_is_rejected():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    assert not ok(x, x.transpose(0, 2, 3, 1))
    assert not ok(x, x.transpose(0, 2, 3, 1).reshape(x.shape))


# ------------------------------------------------------------------ dtype and 0-d
def test_zero_dimensional_values_of_any_numeric_kind():
    for exp in (2.0, 2, np.float64(2.0), np.float32(2.0), np.int64(2), np.array(2.0)):
        for rec in (2.0, 2, np.float32(2.0), np.int8(2), np.array(2.0), np.array(2, dtype=np.int32)):
            assert ok(exp, rec), (type(exp), type(rec))
            assert ok(exp, rec, exact=True), (type(exp), type(rec))
    assert compare_values(2.0, np.array(3.0)) == "value: expected 2.0, received 3.0"


def test_integer_and_float_arrays_compare_by_value():
    assert ok(np.arange(4), np.arange(4, dtype=np.float32))
    assert ok(np.arange(4.0), np.arange(4), exact=True)
    assert ok(np.float32(0.1), 0.1, rtol=1e-6)                # float32 rounding within rtol
    assert not ok(np.float32(0.1), 0.1, exact=True)


def test_bools_are_not_numbers_and_numbers_are_not_bools():
    assert not ok(1, True) and not ok(0.0, False) and not ok(np.ones(2), np.array([True, True]))
    assert not ok(True, 1) and not ok(False, 0.0) and not ok(True, "True")
    assert ok(True, np.bool_(True)) and ok(np.array([True, False]), np.array([True, False]))
    assert not ok(np.array([True, False]), np.array([True, True]))


def test_strings_none_and_non_numeric_received_values():
    assert not ok(3, "3") and not ok("3", 3) and not ok(None, 0) and not ok(0, None)
    assert not ok(np.ones(2), ["a", "b"]) and not ok(np.ones(2), object())
    assert ok(None, None) and ok("relu", "relu") and not ok("relu", "ReLU")
    with pytest.raises(TypeError):
        compare_values(object(), 1)


def test_complex_values():
    assert ok(np.array([1 + 2j]), np.array([1 + 2j]))
    assert not ok(np.array([1 + 2j]), np.array([1 - 2j]))
    assert not ok(np.array([1 + 2j]), np.array([1.0]))


# ------------------------------------------------------------------ tolerances at the boundary
def test_close_is_inclusive_at_atol_and_rtol():
    # exactly representable values: |r - e| == atol + rtol * |e| passes, the next float fails
    assert ok(0.0, 0.25, rtol=0.0, atol=0.25)
    assert not ok(0.0, np.nextafter(0.25, 1.0), rtol=0.0, atol=0.25)
    assert ok(4.0, 5.0, rtol=0.25, atol=0.0)
    assert not ok(4.0, np.nextafter(5.0, 6.0), rtol=0.25, atol=0.0)
    assert ok(4.0, 3.0, rtol=0.25, atol=0.0)                  # symmetric in the sign of the error
    assert ok(4.0, 5.5, rtol=0.25, atol=0.5)                  # the two tolerances add up
    assert not ok(4.0, 5.5, rtol=0.25, atol=0.25)


def test_relative_tolerance_is_relative_to_the_expected_value():
    assert ok(100.0, 100.5, rtol=0.005, atol=0.0)
    assert not ok(0.5, 1.0, rtol=0.5, atol=0.0)               # 0.5 * |expected| = 0.25 < 0.5
    assert ok(1.0, 0.5, rtol=0.5, atol=0.0)


def test_exact_mode_has_no_tolerance():
    assert not ok(1, 1 + 1e-12, exact=True) and ok(1, 1 + 1e-12)
    assert Exact().score([(3, 3)], [(3, 3)]) == (1.0, None)
    assert Exact().score([(3, 3)], [(3, 4)])[0] == 0.0


def test_the_first_mismatch_and_the_count_are_reported():
    exp = np.zeros((2, 3))
    rec = exp.copy()
    rec[1, 0], rec[1, 2] = 1.0, 2.0
    msg = compare_values(exp, rec, where="out")
    assert msg.startswith("out: 2 of 6 entries differ") and "index (1, 0)" in msg
    assert "expected 0.0, received 1.0" in msg


# ------------------------------------------------------------------ NaN and inf
def test_nan_matches_only_nan():
    assert ok(np.nan, np.nan) and ok(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not ok(np.nan, 0.0) and not ok(0.0, np.nan)
    assert not ok(np.array([1.0, np.nan]), np.array([1.0, 1.0]))
    assert not ok(np.array([1.0, 1.0]), np.array([np.nan, 1.0]))
    assert not ok(1.0, np.nan, rtol=1e9, atol=1e9)            # no tolerance makes NaN close


def test_inf_matches_only_the_same_inf():
    assert ok(np.inf, np.inf) and ok(-np.inf, -np.inf)
    assert not ok(np.inf, -np.inf) and not ok(np.inf, 1e308) and not ok(1e308, np.inf)
    assert not ok(np.inf, np.nan) and not ok(np.nan, np.inf)


def test_nan_in_exact_mode_matches_nan():
    """Exact mode (ints, bools, tuples of ints) also says NaN equals NaN, as close mode does."""
    assert ok(np.array([1.0, np.nan]), np.array([1.0, np.nan]), exact=True)
    assert not ok(np.array([1.0, np.nan]), np.array([1.0, 2.0]), exact=True)


# ------------------------------------------------------------------ structures and graders
def test_structures_compare_element_by_element():
    assert ok((1, (2.0, np.ones(2))), (1, [2.0, np.ones(2)]))
    assert not ok((1, (2.0, np.ones(2))), (1, (2.0, np.ones(3))))
    assert not ok({"a": 1.0}, {"b": 1.0}) and ok({"a": 1.0}, {"a": 1.0, "b": 2.0})
    assert not ok([np.ones(2), np.ones(2)], [np.ones(2)])
    assert "output 1" in compare_returns([1.0, 2.0], [1.0, 3.0])
    assert compare_returns([1.0], 1.0) is not None           # returns travel as a list
    with pytest.raises(AssertionError, match="expected shape"):
        assert_close(np.ones(3), np.ones(4), name="x")


def test_close_grader_scores_all_or_nothing_per_case():
    c = Close(rtol=0.0, atol=0.5)
    assert c.score([np.zeros(3)], [np.full(3, 0.5)]) == (1.0, None)
    frac, msg = c.score([np.zeros(3)], [np.array([0.0, 0.0, 0.51])])
    assert frac == 0.0 and "1 of 3 entries differ" in msg


LEVELS = ((0.9, 1.0), (0.7, 0.5))


@pytest.mark.parametrize("n, correct, share", [
    (10, 10, 1.0), (10, 9, 1.0), (10, 8, 0.5), (10, 7, 0.5), (10, 6, 0.0),
    (100, 90, 1.0), (100, 89, 0.5), (100, 70, 0.5), (100, 69, 0.0),
    (1000, 900, 1.0), (1000, 899, 0.5), (1000, 700, 0.5), (1000, 699, 0.0),
])
def test_accuracy_exactly_at_a_threshold_keeps_its_level(n, correct, share):
    y = np.arange(n) % 10
    pred = y.copy()
    pred[correct:] = (pred[correct:] + 1) % 10
    frac, msg = Accuracy(LEVELS).score([y], [pred])
    assert frac == share, (n, correct, msg)
    assert ("below" in msg) == (share == 0.0)


def test_accuracy_needs_one_label_per_example():
    y = np.arange(10) % 3
    assert Accuracy(LEVELS).score([y], [y[:9]])[0] == 0.0
    assert Accuracy(LEVELS).score([y], [y.reshape(1, 10)])[0] == 0.0
    assert Accuracy(LEVELS).score([y], [np.eye(10)[:, :3]])[0] == 0.0   # probabilities, not labels
    assert Accuracy(LEVELS).score([y], [["a"] * 10])[0] == 0.0
    assert Accuracy(LEVELS).score([y], [y.tolist()])[0] == 1.0
