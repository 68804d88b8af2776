"""ReLU: out = max(0, x); its backward is a gate that lets gradient through where x > 0."""
from __future__ import annotations

import numpy as np

from ._checks import as_array


def relu_forward(x):
    """ReLU forward. x: any shape -> (out, cache) with out = max(x, 0) (same shape)."""
    x = as_array(x, "x")
    return np.maximum(x, 0), x > 0


def relu_backward(dout, cache):
    """ReLU backward: dx = dout where the input was positive, 0 elsewhere (same shape)."""
    mask = cache
    dout = as_array(dout, "dout")
    if dout.shape != mask.shape:
        raise ValueError(f"dout must have the forward input's shape {mask.shape}, got {dout.shape}")
    return dout * mask
