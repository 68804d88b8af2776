"""Max pooling and average pooling (no padding), naive loops or vectorized.

Max-pool backward is a *router*: each output's gradient goes, unchanged, to the one input
that won the max (the cache remembers which), like ReLU's gate. Average-pool backward
spreads each gradient evenly over its window. Overlapping windows (stride < kernel)
accumulate.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_4d, check_positive_int, out_size
from .conv import _check_method
from .im2col import window_view


def _pool_setup(x, kernel_size, stride, method, what):
    x = as_array(x, "x")
    check_4d(x, "x")
    k = check_positive_int(kernel_size, "kernel_size")
    s = k if stride is None else check_positive_int(stride, "stride")
    _check_method(method)
    H, W = x.shape[2:]
    Ho = out_size(H, k, s, 0, f"{what} height (x.shape={x.shape}, kernel_size={k})")
    Wo = out_size(W, k, s, 0, f"{what} width (x.shape={x.shape}, kernel_size={k})")
    return x, k, s, Ho, Wo


def maxpool2d_forward(x, kernel_size: int = 2, stride: int = 2, method: str = "fast"):
    """Max pooling. x: (N, C, H, W) -> out: (N, C, Ho, Wo), Ho = (H - k) // stride + 1.

    The cache stores, for every output, the flat index ``i*k + j`` of the winning input in
    its window (the first one on ties, like torch).
    """
    x, k, s, Ho, Wo = _pool_setup(x, kernel_size, stride, method, "maxpool2d")
    N, C = x.shape[:2]
    if method == "naive":
        out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
        arg = np.empty((N, C, Ho, Wo), dtype=np.int64)
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                        arg[n, c, i, j] = np.argmax(win)
                        out[n, c, i, j] = win.flat[arg[n, c, i, j]]
    else:
        v = window_view(x, k, k, s)                              # (N, C, k, k, Ho, Wo)
        v = v.reshape(N, C, k * k, Ho, Wo)
        arg = np.argmax(v, axis=2)
        out = np.take_along_axis(v, arg[:, :, None], axis=2)[:, :, 0]
    return out, (x.shape, k, s, arg, method)


def maxpool2d_backward(dout, cache):
    """Max-pool backward: route ``dout: (N, C, Ho, Wo)`` to the argmax inputs -> dx: x.shape."""
    x_shape, k, s, arg, method = cache
    dout = as_array(dout, "dout")
    if dout.shape != arg.shape:
        raise ValueError(f"dout must have the forward output's shape {arg.shape}, got {dout.shape}")
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    if method == "naive":
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        a, b = divmod(int(arg[n, c, i, j]), k)
                        dx[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
        return dx
    for a in range(k):
        for b in range(k):
            routed = np.where(arg == a * k + b, dout, 0.0)
            dx[:, :, a:a + s * Ho:s, b:b + s * Wo:s] += routed
    return dx


def avgpool2d_forward(x, kernel_size: int = 2, stride: int = 2, method: str = "fast"):
    """Average pooling. x: (N, C, H, W) -> out: (N, C, Ho, Wo), Ho = (H - k) // stride + 1."""
    x, k, s, Ho, Wo = _pool_setup(x, kernel_size, stride, method, "avgpool2d")
    N, C = x.shape[:2]
    if method == "naive":
        out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        out[n, c, i, j] = x[n, c, i * s:i * s + k, j * s:j * s + k].mean()
    else:
        out = window_view(x, k, k, s).mean(axis=(2, 3))
    return out, (x.shape, k, s, (N, C, Ho, Wo), method)


def avgpool2d_backward(dout, cache):
    """Average-pool backward: each window input gets ``dout / k**2`` -> dx: x.shape."""
    x_shape, k, s, out_shape, method = cache
    dout = as_array(dout, "dout")
    if dout.shape != out_shape:
        raise ValueError(f"dout must have the forward output's shape {out_shape}, got {dout.shape}")
    N, C, Ho, Wo = out_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    share = dout / (k * k)
    if method == "naive":
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        dx[n, c, i * s:i * s + k, j * s:j * s + k] += share[n, c, i, j]
        return dx
    for a in range(k):
        for b in range(k):
            dx[:, :, a:a + s * Ho:s, b:b + s * Wo:s] += share
    return dx
