"""Softmax cross-entropy loss, computed stably (shift by the row max / log-sum-exp)."""
from __future__ import annotations

import numpy as np

from ._checks import as_array


def softmax(scores):
    """Row-wise softmax of ``scores: (N, C)`` (stable: subtracts each row's max)."""
    scores = as_array(scores, "scores")
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(scores, y):
    """Mean softmax cross-entropy loss and its gradient.

    scores: (N, C) class scores (logits); y: (N,) integer labels in [0, C).
    Returns ``(loss, dscores)`` with ``dscores: (N, C) = (softmax(scores) - onehot(y)) / N``.
    """
    scores = as_array(scores, "scores")
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (N, C), got shape {scores.shape}")
    y = np.asarray(y)
    N, C = scores.shape
    if y.shape != (N,):
        raise ValueError(f"y must have shape (N,) = ({N},) to match scores.shape={scores.shape}, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if N and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels y must lie in [0, {C}) for scores with C={C} columns, "
                         f"got min {y.min()} max {y.max()}")
    z = scores - scores.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -log_probs[rows, y].mean()
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= N
    return float(loss), dscores
