"""The same convolution three ways — naive loops, NumPy im2col, torch ``F.conv2d`` — timed
under stated conditions: dtype (float32 / float64) and thread count (1 / n), pinned for NumPy's
BLAS and torch alike (:mod:`coursekit.timing`). Layer 2: imports torch lazily.

A speed figure without its dtype, thread count and layer size means nothing: on a tiny layer
a call is dominated by fixed overhead (argument checks, thread start-up), on a large one by
the multiply-accumulates, and the two rank the implementations differently.
"""
from __future__ import annotations

import numpy as np

from .timing import best_time, pinned_threads

__all__ = ["conv_forward_times"]


def conv_forward_times(x, w, b, padding: int = 1, dtypes=("float64", "float32"), threads=(1, 2),
                       repeat: int = 5, naive: bool = True) -> list[dict]:
    """Forward time of one convolution ``x: (N, C, H, W)``, ``w: (F, C, k, k)``, ``b: (F,)``.

    For every dtype and thread count: NumPy im2col (``coursekit.nn.conv2d_forward``) and torch
    ``F.conv2d`` (no autograd), best of ``repeat`` calls; with ``naive=True`` also the naive
    loops, once, in the first dtype at 1 thread (pure Python: threads do not matter). Returns a list of
    dicts ``{"impl", "dtype", "threads", "ms"}``; the outputs of all three are checked equal.
    """
    import torch
    import torch.nn.functional as F

    from . import nn as cnn

    rows = []
    for dtype in dtypes:
        xd, wd, bd = (np.asarray(a, dtype=dtype) for a in (x, w, b))
        xt, wt, bt = (torch.from_numpy(np.ascontiguousarray(a)) for a in (xd, wd, bd))
        ours = cnn.conv2d_forward(xd, wd, bd, 1, padding)[0]
        with torch.no_grad():
            ref = F.conv2d(xt, wt, bt, padding=padding).numpy()
        tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-9
        if not np.allclose(ours, ref, rtol=tol, atol=tol * np.abs(ref).max()):
            raise AssertionError(f"im2col and torch disagree in {dtype}")
        if naive and dtype == dtypes[0]:   # pure Python loops: one dtype is enough
            with pinned_threads(1):
                t = best_time(lambda: cnn.conv2d_forward(xd, wd, bd, 1, padding, method="naive"),
                              repeat=1, warmup=0)
            rows.append({"impl": "naive loops", "dtype": str(dtype), "threads": 1, "ms": 1e3 * t})
        for n in threads:
            with pinned_threads(int(n)), torch.no_grad():
                t_np = best_time(lambda: cnn.conv2d_forward(xd, wd, bd, 1, padding), repeat)
                t_t = best_time(lambda: F.conv2d(xt, wt, bt, padding=padding), repeat)
            rows.append({"impl": "NumPy im2col", "dtype": str(dtype), "threads": int(n), "ms": 1e3 * t_np})
            rows.append({"impl": "torch F.conv2d", "dtype": str(dtype), "threads": int(n), "ms": 1e3 * t_t})
    return rows
