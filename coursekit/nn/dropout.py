"""Dropout in NumPy (layer 0: numpy only).

At training time each activation is zeroed with probability ``p`` (torch's convention:
``p`` is the probability to *drop*, the keep-probability is ``q = 1 - p``). The expected
activation must be the same at training and test time; two ways to get there:

- **inverted** (what torch and everyone uses today): at training time scale the kept
  activations by ``1 / q``; at test time do nothing.
- **classic** (the original paper): no scaling at training time; at test time multiply
  every activation by ``q``.

Both give the same test-time *network function* when the weights are the same; the
inverted form keeps test time free of any dropout code.

Shapes: ``x`` any shape; the mask has the shape of ``x``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dropout_forward", "dropout_backward", "Dropout"]

_MODES = ("inverted", "classic")


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed)), an "
                    f"int seed or None, got {type(rng).__name__}")


def dropout_forward(x, p, train, rng=None, mode="inverted"):
    """Dropout forward pass.

    x: any shape; p: drop probability in [0, 1); train: bool;
    rng: ``np.random.Generator`` (or int seed / None) drawing the mask;
    mode: ``"inverted"`` (scale by 1/(1-p) when training) or ``"classic"``
    (scale by 1-p at test time). Returns ``(out, cache)``; ``cache["mask"]`` holds the
    multiplier applied to ``x`` (0 for dropped units) so that ``out = x * mask``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a NumPy array, got {type(x).__name__}")
    if not isinstance(p, (float, int, np.floating, np.integer)) or not 0.0 <= p < 1.0:
        raise ValueError(f"p (drop probability) must be a number in [0, 1), got {p!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"train must be True or False, got {train!r}")
    q = 1.0 - float(p)
    if train:
        keep = _as_rng(rng).random(x.shape) >= p
        scale = 1.0 / q if mode == "inverted" else 1.0
        mask = keep.astype(x.dtype) * x.dtype.type(scale) if x.dtype.kind == "f" \
            else keep * scale
    else:
        mask = 1.0 if mode == "inverted" else q
    out = x * mask
    return out, {"mask": mask, "p": float(p), "train": bool(train), "mode": mode}


def dropout_backward(dout, cache):
    """Backward pass of :func:`dropout_forward`: ``dx = dout * mask``."""
    mask = cache["mask"]
    if isinstance(mask, np.ndarray) and mask.shape != np.shape(dout):
        raise ValueError(f"dout must have the shape of x {mask.shape}, got {np.shape(dout)}")
    return dout * mask


# --------------------------------------------------------------------------- module
from .modules import Module  # noqa: E402  (module class below builds on the functions above)


class Dropout(Module):
    """Dropout module (torch ``nn.Dropout``): drops with probability ``p`` in training mode.

    rng: ``np.random.Generator`` or int seed for the masks; mode: "inverted" or "classic".
    No parameters.
    """

    def __init__(self, p: float = 0.5, rng=None, mode: str = "inverted"):
        super().__init__()
        dropout_forward(np.zeros(1), p, False, mode=mode)  # validates p and mode
        self.p, self.mode, self.rng = float(p), mode, _as_rng(rng)

    def forward(self, x):
        out, self._cache = dropout_forward(np.asarray(x), self.p, self.training, self.rng,
                                           self.mode)
        return out

    def backward(self, dout):
        return dropout_backward(dout, self._need_cache())

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode!r}"
