"""Data shipped inside installed packages (no download): scikit-learn digits, sample photos."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

DIGITS_CLASSES = tuple(str(i) for i in range(10))
SAMPLE_IMAGE_NAMES = ("chelsea", "astronaut", "coffee", "rocket", "camera", "coins",
                      "moon", "brick", "china", "flower")


def split_indices(n: int, split: str, seed: int = 0, fractions=(0.7, 0.15, 0.15)):
    """Indices of ``split`` ('train'/'val'/'test') in a fixed seeded permutation of ``n`` items.

    The three index sets are disjoint and together cover ``range(n)``.
    """
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    cuts = {"train": (0, n_train), "val": (n_train, n_train + n_val),
            "test": (n_train + n_val, n)}
    if split not in cuts:
        raise ValueError(f"split={split!r}: expected one of {tuple(cuts)}")
    lo, hi = cuts[split]
    return np.sort(order[lo:hi])


@lru_cache(maxsize=1)
def _digits_all():
    data = _digits_csv()                                 # (1797, 65): 64 pixels (0-16), the label
    x = (data[:, :-1].reshape(-1, 1, 8, 8) / 16.0).astype(np.float32)   # (1797, 1, 8, 8) in [0, 1]
    return x, data[:, -1].astype(np.int64)


def _digits_csv() -> np.ndarray:
    """The digits table scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``), read
    without importing scikit-learn (seconds of imports for one small file); through
    ``sklearn.datasets.load_digits`` where the file is not found there."""
    import gzip
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("sklearn")                          # locates the package, runs none of it
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits
        d = load_digits()
        return np.column_stack([d.data, d.target])
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",")


def load_digits(split: str = "train", seed: int = 0):
    """scikit-learn's 8x8 handwritten digits: x (N, 1, 8, 8) float32 in [0, 1], y (N,) int64.

    The 1797 images are split 70/15/15 into fixed disjoint train/val/test sets by ``seed``.
    """
    x, y = _digits_all()
    idx = split_indices(len(y), split, seed)
    return x[idx].copy(), y[idx].copy()


@lru_cache(maxsize=1)
def _sample_images_uint8():
    import skimage.data as skd
    from sklearn.datasets import load_sample_images
    out = {}
    for name in SAMPLE_IMAGE_NAMES[:8]:
        out[name] = getattr(skd, name)()
    sk = load_sample_images()
    for fname, img in zip(sk.filenames, sk.images):
        key = fname.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]
        out[key] = img
    return out


def sample_images(names=None) -> dict:
    """Photos shipped inside scikit-image and scikit-learn, as float32 arrays in [0, 1].

    Returns a dict name -> (H, W, 3) colour or (H, W) grey image. Names: chelsea (a cat),
    astronaut, coffee, rocket, china, flower (colour); camera, coins, moon, brick (grey).
    ``names`` picks a subset (a list of names).
    """
    imgs = _sample_images_uint8()
    if names is None:
        names = list(SAMPLE_IMAGE_NAMES)
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in imgs]
    if unknown:
        raise ValueError(f"sample_images: unknown names {unknown}; available: {sorted(imgs)}")
    return {n: imgs[n].astype(np.float32) / 255.0 for n in names}
