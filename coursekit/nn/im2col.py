"""im2col / col2im: turn sliding windows into matrix columns (and back) without loops.

``im2col`` builds a *view* of every window with ``numpy.lib.stride_tricks.as_strided``
(no copy), then copies it once into the column buffer that the matrix product needs.
``col2im`` is its adjoint: it adds every column back into the window it came from, so
overlapping windows (kernel > stride) *accumulate* — exactly what backprop needs.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad4d(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of ``x: (N, C, H, W)`` by ``padding`` on each side."""
    if padding == 0:
        return x
    p = padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def window_view(xp: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Read-only strided view of all windows of ``xp: (N, C, Hp, Wp)``.

    Returns shape ``(N, C, kh, kw, Ho, Wo)`` where ``view[n, c, i, j, y, x] ==
    xp[n, c, y*stride + i, x*stride + j]``. No data is copied.
    """
    N, C, Hp, Wp = xp.shape
    Ho = (Hp - kh) // stride + 1
    Wo = (Wp - kw) // stride + 1
    sN, sC, sH, sW = xp.strides
    return as_strided(xp, shape=(N, C, kh, kw, Ho, Wo),
                      strides=(sN, sC, sH, sW, sH * stride, sW * stride), writeable=False)


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Columns of ``x: (N, C, H, W)`` -> ``cols: (N, C*kh*kw, Ho*Wo)`` (one copy).

    Row index of a column is ``(c, i, j)`` in C order, matching ``w.reshape(F, -1)`` for a
    conv weight ``w: (F, C, kh, kw)``; so a convolution is ``w.reshape(F, -1) @ cols``.
    """
    xp = pad4d(x, padding)
    v = window_view(xp, kh, kw, stride)
    N, C, _, _, Ho, Wo = v.shape
    return v.reshape(N, C * kh * kw, Ho * Wo)  # the copy: the one column buffer


def col2im(cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """Adjoint of :func:`im2col`: ``cols: (N, C*kh*kw, Ho*Wo)`` -> ``dx: x_shape``.

    Each column entry is *added* to the input pixel it was read from, so pixels shared by
    overlapping windows receive the sum of their gradients. Loops only over the kh*kw
    kernel offsets (vectorized over batch, channels and output positions); correct for any
    stride, including stride > kernel (pixels no window reads get zero).
    """
    N, C, H, W = x_shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    Ho = (Hp - kh) // stride + 1
    Wo = (Wp - kw) // stride + 1
    c6 = cols.reshape(N, C, kh, kw, Ho, Wo)
    dxp = np.zeros((N, C, Hp, Wp), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += c6[:, :, i, j]
    if padding:
        return np.ascontiguousarray(dxp[:, :, padding:-padding, padding:-padding])
    return dxp
