"""coursekit.conv_speed: the three implementations, timed under pinned dtypes and threads."""
import numpy as np

from coursekit.conv_speed import conv_forward_times


def test_conv_forward_times_rows_and_conditions():
    r = np.random.default_rng(0)
    x, w, b = r.standard_normal((2, 1, 6, 6)), r.standard_normal((3, 1, 3, 3)), r.standard_normal(3)
    rows = conv_forward_times(x, w, b, dtypes=("float64", "float32"), threads=(1, 2), repeat=1)
    keys = {(r["impl"], r["dtype"], r["threads"]) for r in rows}
    assert ("naive loops", "float64", 1) in keys and ("naive loops", "float32", 1) not in keys
    for impl in ("NumPy im2col", "torch F.conv2d"):
        for dtype in ("float64", "float32"):
            assert {(impl, dtype, 1), (impl, dtype, 2)} <= keys
    assert len(rows) == 9 and all(r["ms"] > 0 for r in rows)
    assert len(conv_forward_times(x, w, b, dtypes=("float32",), threads=(1,), repeat=1, naive=False)) == 2
