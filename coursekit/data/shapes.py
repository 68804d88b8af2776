"""The "shapes" data set: procedurally generated, seeded image classification with masks.

Every image shows one filled shape (``SHAPES_CLASSES``) at a random position, scale and
rotation, in a random colour on a random background (colour, smooth texture), plus pixel
noise. ``difficulty`` (0 = easy ... 1 = hard) widens the scale range, lowers the contrast
and adds texture and noise. The object mask of every image is available.

Rasterization is vectorized in NumPy: for a batch of images we evaluate, on one shared
pixel grid, an (approximate) signed distance to each shape in the shape's own rotated and
scaled coordinates, and turn it into anti-aliased coverage ``alpha = clip(0.5 - d, 0, 1)``
(d in pixels). No Python loop runs per image.

Determinism: images are generated in fixed blocks of ``BLOCK`` images, block ``b`` of split
``s`` drawing from ``np.random.default_rng([seed, s, b])``. Hence the same seed gives the same
images, the first ``n`` images do not depend on how many are requested, and the train, val
and test splits come from independent streams (disjoint).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SHAPES_CLASSES = ("circle", "square", "triangle", "star", "cross",
                  "ring", "crescent", "semicircle", "ellipse", "arrow")
"""Class names of the shapes data set, index = label."""

SPLITS = ("train", "val", "test")
DEFAULT_SIZES = {"train": 10_000, "val": 2_000, "test": 2_000}
BLOCK = 1024
_NAMED_DIFFICULTY = {"easy": 0.0, "medium": 0.5, "hard": 1.0}


def _difficulty_value(difficulty) -> float:
    if isinstance(difficulty, str):
        if difficulty not in _NAMED_DIFFICULTY:
            raise ValueError(f"difficulty={difficulty!r}: expected a number in [0, 1] or one of "
                             f"{sorted(_NAMED_DIFFICULTY)}")
        return _NAMED_DIFFICULTY[difficulty]
    try:
        d = float(difficulty)
    except (TypeError, ValueError):
        raise TypeError(f"difficulty must be a number in [0, 1] or 'easy'/'medium'/'hard', "
                        f"got {type(difficulty).__name__}") from None
    if not 0.0 <= d <= 1.0:
        raise ValueError(f"difficulty={d}: expected a number in [0, 1] (0 = easy, 1 = hard)")
    return d


# ----------------------------------------------------------------------------- distances
# Each function takes rotated/scaled coordinates (u, v) in units of the shape radius
# (the shape fits in the unit disc) and returns a signed distance in the same units
# (negative inside). They are exact or close to exact near the boundary, which is all
# the anti-aliasing needs.

def _sd_circle(u, v):
    return np.sqrt(u * u + v * v) - 0.9


def _sd_box(u, v, hw, hh):
    qx = np.abs(u) - hw
    qy = np.abs(v) - hh
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _sd_square(u, v):
    return _sd_box(u, v, 0.7, 0.7)


def _sd_polygon_convex(u, v, normals, offset):
    """max_k (n_k . p - offset): a convex regular polygon (exact inside, close outside)."""
    d = None
    for nx, ny in normals:
        dk = nx * u + ny * v - offset
        d = dk if d is None else np.maximum(d, dk)
    return d


_TRI_NORMALS = [(np.cos(a), np.sin(a)) for a in (np.pi / 2 + np.array([0, 2, 4]) * np.pi / 3)]


def _sd_triangle(u, v):
    # vertices at radius 1 pointing up (-v is up in image coords), inradius 0.5
    return _sd_polygon_convex(u, -v + 0.15, _TRI_NORMALS, 0.5)


def _sd_star(u, v):
    # five-pointed star: radius varies linearly in angle between 0.45 (inner) and 1 (tips)
    r = np.sqrt(u * u + v * v)
    theta = np.arctan2(u, -v)
    sector = 2 * np.pi / 5
    t = np.abs(np.mod(theta + sector / 2, sector) - sector / 2) / (sector / 2)  # 0 tip, 1 notch
    rad = 1.0 - 0.6 * t
    return (r - rad) * 0.6


def _sd_cross(u, v):
    return np.minimum(_sd_box(u, v, 0.92, 0.24), _sd_box(u, v, 0.24, 0.92))


def _sd_ring(u, v):
    r = np.sqrt(u * u + v * v)
    return np.abs(r - 0.7) - 0.22


def _sd_crescent(u, v):
    outer = np.sqrt(u * u + v * v) - 0.9
    inner = np.sqrt((u - 0.45) ** 2 + v * v) - 0.75
    return np.maximum(outer, -inner)


def _sd_semicircle(u, v):
    return np.maximum(np.sqrt(u * u + (v - 0.42) ** 2) - 1.0, v - 0.42)


def _sd_ellipse(u, v):
    a, b = 1.0, 0.32  # aspect ~3: clearly not a half-disc (aspect 2) at small sizes
    k0 = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return (k0 - 1.0) * b  # good near the boundary, scaled to the minor axis


def _sd_arrow(u, v):
    shaft = _sd_box(u + 0.5, v, 0.4, 0.17)
    head = _sd_polygon_convex(u - 0.2, v, [(-1.0, 0.0), (0.6, 0.8), (0.6, -0.8)], 0.35)
    return np.minimum(shaft, head)


_SDF = (_sd_circle, _sd_square, _sd_triangle, _sd_star, _sd_cross,
        _sd_ring, _sd_crescent, _sd_semicircle, _sd_ellipse, _sd_arrow)
assert len(_SDF) == len(SHAPES_CLASSES)


# ----------------------------------------------------------------------------- generation

def _upsample_matrix(low: int, size: int) -> np.ndarray:
    """(size, low) linear interpolation matrix from a low-res grid to ``size`` pixels."""
    pos = (np.arange(size) + 0.5) / size * (low - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, low - 2)
    frac = pos - lo
    m = np.zeros((size, low), np.float32)
    m[np.arange(size), lo] = 1 - frac
    m[np.arange(size), lo + 1] = frac
    return m


def _block(rng: np.random.Generator, n: int, size: int, d: float, num_classes: int):
    """Generate one block: x (n, 3, size, size) float32, y (n,) int64, masks (n, size, size)."""
    y = (np.arange(n) % num_classes)
    y = rng.permutation(y).astype(np.int64)
    # geometry: radius in pixels, centre so that the shape stays (mostly) inside
    rmin = size * (0.30 - 0.12 * d)
    rmax = size * (0.40 + 0.04 * d)
    radius = rng.uniform(rmin, rmax, n).astype(np.float32)
    margin = radius * (0.95 - 0.25 * d)
    cx = rng.uniform(margin, size - margin).astype(np.float32)
    cy = rng.uniform(margin, size - margin).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    # colours: background and object, with a minimum contrast that falls with difficulty
    bg = rng.uniform(0, 1, (n, 3)).astype(np.float32)
    fg = rng.uniform(0, 1, (n, 3)).astype(np.float32)
    min_contrast = 0.55 - 0.3 * d
    diff = np.abs(fg - bg).mean(axis=1)
    low = diff < min_contrast
    # push low-contrast objects to the complementary colour (vectorized "redraw")
    fg[low] = np.clip(1.0 - bg[low] + rng.uniform(-0.1, 0.1, (int(low.sum()), 3)), 0, 1)
    # pixel grid -> shape coordinates (units of radius), one batch at once
    g = np.arange(size, dtype=np.float32) + 0.5
    dx = g[None, None, :] - cx[:, None, None]
    dy = g[None, :, None] - cy[:, None, None]
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    inv_r = (1.0 / radius)[:, None, None]
    u = (c * dx + s * dy) * inv_r
    v = (-s * dx + c * dy) * inv_r
    sd = np.empty((n, size, size), np.float32)
    for k in range(num_classes):
        idx = np.nonzero(y == k)[0]
        if idx.size:
            sd[idx] = _SDF[k](u[idx], v[idx])
    sd *= radius[:, None, None]  # distances in pixels
    alpha = np.clip(0.5 - sd, 0.0, 1.0)
    masks = sd < 0
    # background: flat colour + smooth random texture (low-res noise, upsampled)
    tex_amp = 0.35 * d
    up = _upsample_matrix(4, size)
    if tex_amp > 0:
        low_res = rng.uniform(-1, 1, (n, 3, 4, 4)).astype(np.float32)
        tex = np.einsum("hi,ncij,wj->nchw", up, low_res, up, optimize=True)
        background = bg[:, :, None, None] + tex_amp * tex
    else:
        background = np.broadcast_to(bg[:, :, None, None], (n, 3, size, size))
    a = alpha[:, None]
    x = background + (fg[:, :, None, None] - background) * a
    # pixel noise: uniform with standard deviation `noise` (cheaper to draw than Gaussian)
    noise = 0.02 + 0.10 * d
    r = rng.random((n, 3, size, size), dtype=np.float32)
    r -= 0.5
    r *= np.float32(noise * 12 ** 0.5)
    x += r
    np.clip(x, 0.0, 1.0, out=x)
    return x.astype(np.float32, copy=False), y, masks


def make_shapes(n: int, *, split: str = "train", size: int = 32, difficulty=0.5, seed: int = 0,
                num_classes: int | None = None, workers: int | None = None):
    """Generate ``n`` shapes images of ``split``.

    Returns ``x`` (n, 3, size, size) float32 in [0, 1], ``y`` (n,) int64 in
    [0, num_classes), ``masks`` (n, size, size) bool (True on the object).
    ``num_classes`` (default all ``len(SHAPES_CLASSES)``) keeps only the first classes.
    ``workers`` threads generate blocks in parallel (default: the number of CPU cores, max 8);
    the result does not depend on it.
    """
    if workers is None:
        workers = min(8, os.cpu_count() or 1)
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n={n!r}: expected a non-negative int number of images")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size={size!r}: expected an int image side of at least 8 pixels")
    k = len(SHAPES_CLASSES) if num_classes is None else int(num_classes)
    if not 2 <= k <= len(SHAPES_CLASSES):
        raise ValueError(f"num_classes={num_classes!r}: expected 2..{len(SHAPES_CLASSES)}")
    d = _difficulty_value(difficulty)
    sid = SPLITS.index(split)
    n, size = int(n), int(size)
    x = np.empty((n, 3, size, size), np.float32)
    y = np.empty(n, np.int64)
    masks = np.empty((n, size, size), bool)

    def fill(b):
        rng = np.random.default_rng([int(seed), sid, b, size, k])
        xb, yb, mb = _block(rng, BLOCK, size, d, k)
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        x[lo:hi], y[lo:hi], masks[lo:hi] = xb[:hi - lo], yb[:hi - lo], mb[:hi - lo]

    blocks = range(-(-n // BLOCK))
    if len(blocks) > 1 and workers > 1:
        # NumPy releases the GIL in its inner loops: blocks run in parallel threads
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fill, blocks))
    else:
        for b in blocks:
            fill(b)
    return x, y, masks
