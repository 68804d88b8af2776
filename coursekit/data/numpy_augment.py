"""From-scratch NumPy augmentations for teaching: flip, random crop, cutout, mixup.

Images are batches ``x`` (N, C, H, W) (a single (C, H, W) image works for the
deterministic functions too). Each random function takes a ``np.random.Generator`` and
draws one set of parameters per image. The deterministic cores (``hflip``, ``pad_crop``,
``erase``, ``mixup``) equal torchvision v2's results for the same parameters (tests check
this).
"""
from __future__ import annotations

import numpy as np


def _batch(x, name="x"):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a batch of shape (N, C, H, W), got {x.shape}")
    return x


def _rng(rng):
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator, an int seed or None, "
                        f"got {type(rng).__name__}")
    return rng


def hflip(x):
    """Mirror left-right: x (..., H, W) -> same shape (a copy)."""
    return np.ascontiguousarray(np.asarray(x)[..., ::-1])


def random_hflip(x, p: float = 0.5, rng=None):
    """Flip each image of x (N, C, H, W) with probability ``p``; returns (out, flipped (N,))."""
    x, rng = _batch(x), _rng(rng)
    flipped = rng.random(len(x)) < p
    out = x.copy()
    out[flipped] = x[flipped][..., ::-1]
    return out, flipped


def pad_crop(x, top: int, left: int, padding: int, fill: float = 0.0):
    """Zero-pad (..., H, W) by ``padding`` on every side, then cut the (H, W) window whose
    top-left corner is (top, left) in the padded image (0 <= top, left <= 2 * padding)."""
    x = np.asarray(x)
    h, w = x.shape[-2:]
    if not (0 <= top <= 2 * padding and 0 <= left <= 2 * padding):
        raise ValueError(f"top={top}, left={left}: expected values in [0, 2*padding={2 * padding}]")
    pad = [(0, 0)] * (x.ndim - 2) + [(padding, padding), (padding, padding)]
    p = np.pad(x, pad, mode="constant", constant_values=fill)
    return p[..., top:top + h, left:left + w].copy()


def random_crop(x, padding: int = 4, rng=None, fill: float = 0.0):
    """Pad-and-crop each image of x (N, C, H, W) at a random offset; returns (out, offsets
    (N, 2) of (top, left)). The object moves by up to ``padding`` pixels each way."""
    x, rng = _batch(x), _rng(rng)
    offsets = rng.integers(0, 2 * padding + 1, size=(len(x), 2))
    out = np.stack([pad_crop(img, t, l, padding, fill) for img, (t, l) in zip(x, offsets)]) \
        if len(x) else x.copy()
    return out, offsets


def erase(x, top: int, left: int, height: int, width: int, value: float = 0.0):
    """Set the box rows top..top+height, cols left..left+width of (..., H, W) to ``value``."""
    out = np.array(x, copy=True)
    out[..., top:top + height, left:left + width] = value
    return out


def random_cutout(x, size: int = 8, rng=None, value: float = 0.0):
    """Cutout (DeVries & Taylor 2017): per image, erase a ``size`` x ``size`` square centred at
    a uniformly random pixel (clipped at the border). Returns (out, boxes (N, 4) of
    (top, left, height, width))."""
    x, rng = _batch(x), _rng(rng)
    h, w = x.shape[-2:]
    cy, cx = rng.integers(0, h, len(x)), rng.integers(0, w, len(x))
    top, left = np.clip(cy - size // 2, 0, h), np.clip(cx - size // 2, 0, w)
    bottom, right = np.clip(cy - size // 2 + size, 0, h), np.clip(cx - size // 2 + size, 0, w)
    boxes = np.stack([top, left, bottom - top, right - left], axis=1)
    out = x.copy()
    for i, (t, l, bh, bw) in enumerate(boxes):
        out[i, :, t:t + bh, l:l + bw] = value
    return out, boxes


def one_hot(y, num_classes: int):
    """Labels y (N,) int -> (N, num_classes) float32 one-hot rows."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= num_classes)):
        raise ValueError(f"y: expected (N,) ints in [0, {num_classes}), got shape {y.shape}")
    out = np.zeros((len(y), num_classes), np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out


def mixup(x, y_soft, lam: float, partner=None):
    """MixUp (Zhang et al. 2018) with weight ``lam``: x' = lam x + (1 - lam) x[partner],
    y' = lam y + (1 - lam) y[partner]. x (N, C, H, W), y_soft (N, K) (e.g. ``one_hot``).
    ``partner`` (N,) indices default to torchvision's pairing: image i with image i-1."""
    x, y_soft = _batch(x), np.asarray(y_soft)
    if partner is None:
        partner = np.roll(np.arange(len(x)), 1)
    lam = float(lam)
    return (lam * x + (1 - lam) * x[partner]).astype(x.dtype), \
        (lam * y_soft + (1 - lam) * y_soft[partner]).astype(np.float32)


def random_mixup(x, y, num_classes: int, alpha: float = 1.0, rng=None):
    """MixUp on a batch with lam ~ Beta(alpha, alpha), pairing image i with image i-1.
    Returns (x_mixed, y_soft (N, K), lam)."""
    rng = _rng(rng)
    lam = float(rng.beta(alpha, alpha))
    xm, ym = mixup(x, one_hot(y, num_classes), lam)
    return xm, ym, lam


def place_on_canvas(x, size: int, offsets=None, fill: float = 0.0):
    """Put each image of x (N, C, h, w) on a ``size`` x ``size`` canvas filled with ``fill``.

    offsets: (N, 2) ints (top, left) in ``[0, size - h] x [0, size - w]``; default: centred.
    Returns (N, C, size, size) of x's dtype. With ``fill`` = the images' background (0 for the
    digits) a translated image looks like a real one: no black frame appears.
    """
    x = _batch(x)
    n, c, h, w = x.shape
    if size < max(h, w):
        raise ValueError(f"size={size}: the canvas must be at least as large as the images ({h}x{w})")
    if offsets is None:
        offsets = np.tile([(size - h) // 2, (size - w) // 2], (n, 1))
    offsets = np.asarray(offsets, dtype=int)
    if offsets.shape != (n, 2) or offsets.min(initial=0) < 0 or \
            (n and (offsets[:, 0].max() > size - h or offsets[:, 1].max() > size - w)):
        raise ValueError(f"offsets: expected (N={n}, 2) ints (top, left) in [0, {size - h}] x "
                         f"[0, {size - w}], got shape {offsets.shape}")
    out = np.full((n, c, size, size), fill, dtype=x.dtype)
    for i, (t, l) in enumerate(offsets):
        out[i, :, t:t + h, l:l + w] = x[i]
    return out


def random_place(x, size: int, rng=None, fill: float = 0.0):
    """Put each image of x (N, C, h, w) at a uniformly random position of a ``size`` x
    ``size`` canvas (see :func:`place_on_canvas`). Returns (out, offsets (N, 2))."""
    x, rng = _batch(x), _rng(rng)
    h, w = x.shape[-2:]
    offsets = np.stack([rng.integers(0, size - h + 1, len(x)),
                        rng.integers(0, size - w + 1, len(x))], axis=1)
    return place_on_canvas(x, size, offsets, fill), offsets
