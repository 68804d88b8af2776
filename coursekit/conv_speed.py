"""The same convolution three ways — naive loops, NumPy im2col, torch ``F.conv2d`` — timed
under stated conditions: dtype (float32 / float64) and thread count (1 / n), pinned for NumPy's
BLAS and torch alike (:mod:`coursekit.timing`). Layer 2, but torch is optional: where it is
not installed (the NumPy half of the course) the torch rows are left out.

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
    ``F.conv2d`` (no autograd; only where torch is installed), best of ``repeat`` calls; with
    ``naive=True`` also the naive loops, once, in the first dtype at 1 thread (pure Python:
    threads do not matter). Returns a list of dicts ``{"impl", "dtype", "threads", "ms"}``;
    the outputs of the implementations are checked equal.
    """
    from . import nn as cnn

    torch_conv = _torch_conv2d()
    rows = []
    for dtype in dtypes:
        xd, wd, bd = (np.asarray(a, dtype=dtype) for a in (x, w, b))
        ours = cnn.conv2d_forward(xd, wd, bd, 1, padding)[0]
        tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-9
        impls = {"NumPy im2col": lambda: cnn.conv2d_forward(xd, wd, bd, 1, padding)}
        if torch_conv is not None:
            impls["torch F.conv2d"] = torch_conv(xd, wd, bd, padding)
        if naive and dtype == dtypes[0]:   # pure Python loops: one dtype is enough
            with pinned_threads(1):
                t = best_time(lambda: cnn.conv2d_forward(xd, wd, bd, 1, padding, method="naive"),
                              repeat=1, warmup=0)
            rows.append({"impl": "naive loops", "dtype": str(dtype), "threads": 1, "ms": 1e3 * t})
        for impl, f in impls.items():
            out = f()
            out = out[0] if isinstance(out, tuple) else out
            if not np.allclose(out, ours, rtol=tol, atol=tol * np.abs(ours).max()):
                raise AssertionError(f"{impl} and im2col disagree in {dtype}")
        for n in threads:
            with pinned_threads(int(n)):
                for impl, f in impls.items():
                    rows.append({"impl": impl, "dtype": str(dtype), "threads": int(n),
                                 "ms": 1e3 * best_time(f, repeat)})
    return rows


def _torch_conv2d():
    """``make(x, w, b, padding) -> f`` where ``f()`` runs torch's ``F.conv2d`` on those NumPy
    arrays without autograd and returns a NumPy array; None where torch is not installed."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None

    def make(x, w, b, padding):
        xt, wt, bt = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, w, b))

        def f():
            with torch.no_grad():
                return F.conv2d(xt, wt, bt, padding=padding).numpy()
        return f
    return make
