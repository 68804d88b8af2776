"""Timing code honestly: pinned thread counts, best-of-N wall time, the machine's load (layer 2;
torch is imported lazily and optional except in :func:`numpy_vs_torch_forward`).

A speed figure means something only with its conditions: the dtype, the batch size and the
number of threads, which this module pins for NumPy's BLAS and torch alike::

    with pinned_threads(1):
        t = best_time(lambda: net(x))

- :func:`pinned_threads`: a context manager that sets torch's intra-op threads and the
  BLAS/OpenMP pools NumPy uses (via ``threadpoolctl``) and restores them afterwards;
- :func:`best_time`: the fastest of ``repeat`` runs after ``warmup`` runs (the least
  disturbed one on a busy machine);
- :func:`load_average`: the 1-minute load average, to say how busy the machine was;
- :func:`numpy_vs_torch_forward`: the lesson-05 table, the NumPy CNN against the same CNN
  in torch, over dtypes, thread counts and batch sizes.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager

import numpy as np

__all__ = ["pinned_threads", "best_time", "load_average", "numpy_vs_torch_forward"]


@contextmanager
def pinned_threads(n: int):
    """Run the block with ``n`` threads in torch (when installed) and in NumPy's BLAS /
    OpenMP pools."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"pinned_threads(n): n must be a positive int, got {n!r}")
    try:
        import torch
    except ImportError:  # the NumPy half (lesson 04) runs without torch
        torch = None
    before = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        threadpool_limits = None
    if torch is not None:
        torch.set_num_threads(int(n))
    try:
        if threadpool_limits is None:
            yield
        else:
            with threadpool_limits(limits=int(n)):
                yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


def best_time(f, repeat: int = 5, warmup: int = 1) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``f()``, after ``warmup`` untimed calls."""
    if not callable(f):
        raise TypeError(f"best_time(f): f must be callable, got {type(f).__name__}")
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, got {repeat!r}")
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def load_average() -> float:
    """The machine's 1-minute load average (NaN where the OS does not report it)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return float("nan")


def numpy_vs_torch_forward(dtypes=("float64", "float32"), threads=(1, 2), batch_sizes=(8, 64),
                           channels=(8, 16), size: int = 32, repeat: int = 5, seed: int = 0) -> list:
    """Forward-pass time of the lesson CNN in NumPy (im2col) and in torch, same weights.

    For every dtype x thread count x batch size: a batch ``(N, 3, size, size)`` through
    ``coursekit.nn.lesson_cnn`` and through its ``numpy_to_torch`` copy (no autograd).
    Returns a list of dicts ``{"dtype", "threads", "batch", "numpy_ms", "torch_ms", "ratio"}``
    with ``ratio = numpy_ms / torch_ms`` (> 1: torch is faster).
    """
    import torch

    from . import nn as cnn
    from .models import numpy_to_torch

    rows = []
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        np_net = cnn.lesson_cnn(in_channels=3, size=size, channels=channels, rng=seed,
                                dtype=np.dtype(dtype))
        torch_net = numpy_to_torch(np_net)
        for n_threads in threads:
            for batch in batch_sizes:
                x = rng.normal(size=(batch, 3, size, size)).astype(dtype)
                xt = torch.from_numpy(x)
                with pinned_threads(n_threads), torch.no_grad():
                    t_np = best_time(lambda: np_net.forward(x), repeat)
                    t_t = best_time(lambda: torch_net(xt), repeat)
                rows.append({"dtype": dtype, "threads": int(n_threads), "batch": int(batch),
                             "numpy_ms": 1e3 * t_np, "torch_ms": 1e3 * t_t, "ratio": t_np / t_t})
    return rows
