"""Numerical gradients by centred differences, and the relative error used to compare them.

``numerical_gradient(f, x)`` for a scalar ``f``; for an array-valued ``f`` pass the
upstream gradient ``dout`` and get the gradient of ``sum(f(x) * dout)`` — i.e. what a
layer's backward pass should return for that ``dout``.
"""
from __future__ import annotations

import numpy as np


def rel_error(a, b, eps: float = 1e-8) -> float:
    """Max elementwise relative error ``|a - b| / max(eps, |a| + |b|)`` (0 = identical)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dout=None, h: float = 1e-5, indices=None):
    """Centred-difference gradient ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for each entry i.

    f: a function of the array ``x`` (it is perturbed in place and restored).
    dout: None when ``f`` returns a scalar; otherwise an array of ``f(x)``'s shape and the
    result is the gradient of ``sum(f(x) * dout)``.
    indices: optional iterable of index tuples to check only some entries (others are 0).
    Returns an array of ``x``'s shape.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a float NumPy array (it is perturbed in place)")
    grad = np.zeros_like(x)
    its = indices if indices is not None else np.ndindex(*x.shape)
    for idx in its:
        old = x[idx]
        x[idx] = old + h
        fp = f(x)
        x[idx] = old - h
        fm = f(x)
        x[idx] = old
        if dout is None:
            if np.ndim(fp) != 0:
                raise ValueError(f"f returned an array of shape {np.shape(fp)}: pass dout "
                                 "(the upstream gradient, same shape) for array-valued functions")
            grad[idx] = (fp - fm) / (2 * h)
        else:
            grad[idx] = np.sum((np.asarray(fp) - np.asarray(fm)) * dout) / (2 * h)
    return grad


def gradcheck(f, x, analytic, dout=None, h: float = 1e-5, num_checks: int | None = None,
              seed: int = 0) -> float:
    """Relative error between ``analytic`` (your backward pass) and the numerical gradient.

    f, x, dout, h: as in :func:`numerical_gradient`; analytic: array of ``x``'s shape.
    num_checks: compare only this many random entries (for big arrays); None = all.
    Returns the relative error (about 1e-7 or less in float64 means the gradient is right).
    """
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic gradient shape {analytic.shape} != x.shape {x.shape}")
    if num_checks is None:
        return rel_error(analytic, numerical_gradient(f, x, dout, h))
    rng = np.random.default_rng(seed)
    flat = rng.choice(x.size, size=min(num_checks, x.size), replace=False)
    idx = [np.unravel_index(i, x.shape) for i in flat]
    num = numerical_gradient(f, x, dout, h, indices=idx)
    sel = tuple(np.array(idx).T)
    return rel_error(analytic[sel], num[sel])


def check_layers(seed: int = 0) -> dict:
    """Gradient-check every layer of :mod:`coursekit.nn` on small random inputs.

    Returns ``{"conv dx": err, "conv dw": err, ...}``: the relative error between each
    backward pass and centred differences (float64; all should be below about 1e-7).
    """
    from .activations import relu_backward, relu_forward
    from .conv import conv2d_backward, conv2d_forward
    from .linear import linear_backward, linear_forward
    from .losses import softmax_cross_entropy
    from .pool import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward

    r = np.random.default_rng(seed)
    errs = {}
    x, w, b = r.standard_normal((2, 3, 7, 7)), r.standard_normal((4, 3, 3, 3)), r.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, 2, 1)
    dout = r.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    errs["conv dx"] = gradcheck(lambda v: conv2d_forward(v, w, b, 2, 1)[0], x, dx, dout)
    errs["conv dw"] = gradcheck(lambda v: conv2d_forward(x, v, b, 2, 1)[0], w, dw, dout)
    errs["conv db"] = gradcheck(lambda v: conv2d_forward(x, w, v, 2, 1)[0], b, db, dout)
    for name, fwd, bwd in [("maxpool dx", maxpool2d_forward, maxpool2d_backward),
                           ("avgpool dx", avgpool2d_forward, avgpool2d_backward)]:
        out, cache = fwd(x, 2, 2)
        dout = r.standard_normal(out.shape)
        errs[name] = gradcheck(lambda v: fwd(v, 2, 2)[0], x, bwd(dout, cache), dout)
    out, cache = relu_forward(x)
    dout = r.standard_normal(out.shape)
    errs["relu dx"] = gradcheck(lambda v: relu_forward(v)[0], x, relu_backward(dout, cache), dout)
    wl, bl = r.standard_normal((3 * 7 * 7, 5)), r.standard_normal(5)
    out, cache = linear_forward(x, wl, bl)
    dout = r.standard_normal(out.shape)
    dx, dw, db = linear_backward(dout, cache)
    errs["linear dx"] = gradcheck(lambda v: linear_forward(v, wl, bl)[0], x, dx, dout)
    errs["linear dw"] = gradcheck(lambda v: linear_forward(x, v, bl)[0], wl, dw, dout)
    scores, y = r.standard_normal((4, 5)), r.integers(0, 5, 4)
    errs["softmax dscores"] = gradcheck(lambda v: softmax_cross_entropy(v, y)[0], scores,
                                        softmax_cross_entropy(scores, y)[1])
    return errs
