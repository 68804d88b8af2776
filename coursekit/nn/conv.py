"""2-D convolution layer (cross-correlation, as in every deep-learning library).

``out[n, f, y, x] = b[f] + sum_{c,i,j} w[f, c, i, j] * xpad[n, c, y*s + i, x*s + j]``

Two implementations with the same results:

- ``method="naive"``: four nested loops, one dot product per output number. Read this one.
- ``method="fast"``: im2col + one matrix product per image. The forward pass builds the
  one column buffer and keeps it in the cache; the backward pass is a set of matrix
  products: ``dw = dout @ cols.T`` and the gradient columns ``w.T @ dout``, which col2im's
  accumulation adds back into the (padded) input positions they came from. The gradient
  columns are made a few images at a time (at most 8 MiB and a quarter of the batch),
  never as a second full column buffer.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_4d, check_positive_int, out_size
from .im2col import im2col, pad4d

METHODS = ("fast", "naive")
_DCOL_CHUNK_BYTES = 8 * 2**20  # backward: gradient columns are built this many bytes at a time


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def conv2d_output_shape(x_shape, w_shape, stride: int = 1, padding: int = 0) -> tuple:
    """Shape ``(N, F, Ho, Wo)`` of ``conv2d_forward`` for ``x: (N, C, H, W)``, ``w: (F, C, HH, WW)``."""
    N, C, H, W = x_shape
    F, Cw, HH, WW = w_shape
    if C != Cw:
        raise ValueError(f"channel mismatch: x has C={C} channels (x.shape={tuple(x_shape)}) but "
                         f"w expects {Cw} (w.shape={tuple(w_shape)}); w must be (F, C, HH, WW)")
    Ho = out_size(H, HH, stride, padding, f"conv2d height (x.shape={tuple(x_shape)}, w.shape={tuple(w_shape)})")
    Wo = out_size(W, WW, stride, padding, f"conv2d width (x.shape={tuple(x_shape)}, w.shape={tuple(w_shape)})")
    return N, F, Ho, Wo


def conv2d_forward(x, w, b, stride: int = 1, padding: int = 0, method: str = "fast"):
    """Convolution forward pass.

    x: (N, C, H, W) inputs; w: (F, C, HH, WW) filters; b: (F,) biases.
    stride, padding: ints (same on both spatial axes; zero padding).
    Returns ``out: (N, F, Ho, Wo)`` with ``Ho = (H + 2*padding - HH) // stride + 1``
    (same for Wo) and a ``cache`` for :func:`conv2d_backward`.
    """
    x, w, b = as_array(x, "x"), as_array(w, "w"), as_array(b, "b")
    check_4d(x, "x")
    check_4d(w, "w", "(F, C, HH, WW)")
    stride = check_positive_int(stride, "stride")
    padding = check_positive_int(padding, "padding", minimum=0)
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape (F,) = ({w.shape[0]},) to match w.shape={w.shape}, "
                         f"got b.shape={b.shape}")
    _check_method(method)
    N, F, Ho, Wo = conv2d_output_shape(x.shape, w.shape, stride, padding)
    if method == "naive":
        out = _forward_naive(x, w, b, stride, padding, Ho, Wo)
    else:
        cols = im2col(x, w.shape[2], w.shape[3], stride, padding)      # (N, K, P)
        out = np.matmul(w.reshape(F, -1), cols)                          # (N, F, P)
        out += b[None, :, None]
        out = out.reshape(N, F, Ho, Wo)
    cache = (x, w, b, stride, padding, method, cols if method == "fast" else None)
    return out, cache


def conv2d_backward(dout, cache):
    """Convolution backward pass.

    dout: (N, F, Ho, Wo) upstream gradient; cache from :func:`conv2d_forward`.
    Returns ``(dx, dw, db)`` with the shapes of x, w and b.
    """
    x, w, b, stride, padding, method, cols = cache
    dout = as_array(dout, "dout")
    expected = conv2d_output_shape(x.shape, w.shape, stride, padding)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    if method == "naive":
        return _backward_naive(dout, x, w, stride, padding)
    N, F, Ho, Wo = dout.shape
    _, C, HH, WW = w.shape
    d3 = dout.reshape(N, F, Ho * Wo)
    db = d3.sum(axis=(0, 2))
    # dw[f, k] = sum_n sum_p dout[n, f, p] * cols[n, k, p]: one matrix product per image
    dw = np.matmul(d3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    # dx: the gradient columns dcols = w2.T @ dout, scattered back by col2im's
    # accumulation. They are built a few images at a time (a chunk of at most
    # _DCOL_CHUNK_BYTES), never as a second full column buffer. Rows are ordered
    # (i, j, c) so that each kernel offset's block is one contiguous (C, Ho, Wo) slab.
    # The cached forward columns are the call's one column buffer.
    H, W = x.shape[2:]
    dtype = np.result_type(dout, w)
    dxp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=dtype)
    w_t = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(HH * WW * C, F)
    per_image = HH * WW * C * Ho * Wo * dtype.itemsize
    # chunk: at most _DCOL_CHUNK_BYTES and at most a quarter of the batch
    step = max(1, min(-(-N // 4), _DCOL_CHUNK_BYTES // max(per_image, 1)))
    s = stride
    for n0 in range(0, N, step):
        dc = np.matmul(w_t, d3[n0:n0 + step]).reshape(-1, HH, WW, C, Ho, Wo)
        for i in range(HH):
            for j in range(WW):
                dxp[n0:n0 + step, :, i:i + s * Ho:s, j:j + s * Wo:s] += dc[:, i, j]
    if padding:
        dxp = np.ascontiguousarray(dxp[:, :, padding:padding + H, padding:padding + W])
    return dxp, dw, db


def _forward_naive(x, w, b, stride, padding, Ho, Wo):
    """Reference loops: one dot product per output number."""
    N = x.shape[0]
    F, _, HH, WW = w.shape
    xp = pad4d(x, padding)
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def _backward_naive(dout, x, w, stride, padding):
    """Reference loops: each output number sends its gradient back to its window."""
    N, F, Ho, Wo = dout.shape
    _, _, HH, WW = w.shape
    xp = pad4d(x, padding)
    dxp = np.zeros_like(xp, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    hs, ws = i * stride, j * stride
                    g = dout[n, f, i, j]
                    dxp[n, :, hs:hs + HH, ws:ws + WW] += g * w[f]
                    dw[f] += g * xp[n, :, hs:hs + HH, ws:ws + WW]
    H, W = x.shape[2:]
    dx = dxp[:, :, padding:padding + H, padding:padding + W]
    return np.ascontiguousarray(dx), dw, db


__all__ = ["conv2d_forward", "conv2d_backward", "conv2d_output_shape"]
