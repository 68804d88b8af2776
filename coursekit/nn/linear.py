"""Fully connected (affine) layer: out = x.reshape(N, D) @ w + b.

Weight layout (cs231n): ``w: (D, M)``, ``b: (M,)``; torch's ``nn.Linear.weight`` is ``w.T``.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array


def linear_forward(x, w, b):
    """Affine forward. x: (N, d1, ..., dk) flattened to (N, D); w: (D, M); b: (M,) -> out: (N, M)."""
    x, w, b = as_array(x, "x"), as_array(w, "w"), as_array(b, "b")
    if x.ndim < 2:
        raise ValueError(f"x must be at least 2-D (N, D...), got shape {x.shape}; use x[None] for one example")
    if w.ndim != 2:
        raise ValueError(f"w must be 2-D (D, M), got shape {w.shape}")
    D = int(np.prod(x.shape[1:]))
    if w.shape[0] != D:
        raise ValueError(f"x.shape={x.shape} flattens to D={D} features but w.shape={w.shape} "
                         f"expects D={w.shape[0]}; w must be (D, M)")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (M,) = ({w.shape[1]},), got {b.shape}")
    out = x.reshape(x.shape[0], D) @ w + b
    return out, (x, w)


def linear_backward(dout, cache):
    """Affine backward. dout: (N, M) -> (dx: x.shape, dw: (D, M), db: (M,))."""
    x, w = cache
    dout = as_array(dout, "dout")
    N = x.shape[0]
    if dout.shape != (N, w.shape[1]):
        raise ValueError(f"dout must have shape (N, M) = ({N}, {w.shape[1]}), got {dout.shape}")
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
