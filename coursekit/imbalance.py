"""Imbalanced data: an imbalanced version of shapes, and resampling to rebalance it.

- :func:`long_tail_counts` / :func:`subsample_to_counts`: a long-tailed class profile
  (class ``k`` keeps ``n_max * factor^(-k/(C-1))`` examples, as in CIFAR-LT);
- :func:`imbalanced_shapes`: shapes made long-tailed, or turned into a rare-positive
  binary task ("is it a star?" with 5% stars), for the accuracy paradox, PR/ROC and focal loss;
- :func:`oversample_indices`, :func:`undersample_indices`: rebalanced index sets;
  :func:`balanced_sampler`: a ``torch`` ``WeightedRandomSampler`` drawing every class equally.
"""
from __future__ import annotations

import numpy as np

__all__ = ["long_tail_counts", "subsample_to_counts", "imbalanced_shapes", "binary_imbalanced",
           "class_counts",
           "oversample_indices", "undersample_indices", "balanced_sampler", "make_loader"]


def _labels(y):
    y = np.asarray(y.cpu() if hasattr(y, "cpu") else y)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("y must be a non-empty 1-D array of class indices >= 0")
    return y


def class_counts(y, num_classes: int | None = None) -> np.ndarray:
    """Number of examples per class: (C,)."""
    y = _labels(y)
    return np.bincount(y, minlength=num_classes or 0)


def long_tail_counts(num_classes: int, n_max: int, imbalance_factor: float) -> np.ndarray:
    """Counts ``n_max * imbalance_factor ** (-k / (C - 1))`` for classes k = 0..C-1 (the
    largest class has ``imbalance_factor`` times as many examples as the smallest)."""
    if num_classes < 2 or n_max < 1 or imbalance_factor < 1:
        raise ValueError(f"need num_classes >= 2, n_max >= 1, imbalance_factor >= 1; got "
                         f"{num_classes}, {n_max}, {imbalance_factor}")
    k = np.arange(num_classes)
    return np.maximum(1, np.floor(n_max * imbalance_factor ** (-k / (num_classes - 1)))).astype(int)


def subsample_to_counts(y, counts, seed: int = 0) -> np.ndarray:
    """Sorted indices keeping ``counts[k]`` random examples of each class ``k`` of ``y``."""
    y = _labels(y)
    counts = np.asarray(counts)
    have = class_counts(y, len(counts))
    if len(have) > len(counts) or np.any(counts > have[: len(counts)]):
        raise ValueError(f"asked for {counts.tolist()} examples per class but y has only "
                         f"{have.tolist()}; lower the counts or use more data")
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(y == k), int(c), replace=False) for k, c in enumerate(counts)]
    return np.sort(np.concatenate(keep))


def imbalanced_shapes(split: str = "train", n: int = 4000, imbalance_factor: float = 20.0,
                      positive: str | int | None = None, positive_fraction: float = 0.05,
                      seed: int = 0, **options):
    """Shapes with an imbalanced label distribution; returns ``(x, y)`` like ``data.load``.

    Without ``positive``: a long tail over all classes (``imbalance_factor`` between the
    most and least common class), about ``n`` images in total. With ``positive`` (a class
    name such as ``"star"`` or its index): a binary task, ``y = 1`` for that class, with
    exactly ``round(n * positive_fraction)`` positives among ``n`` images. ``options`` go to
    ``coursekit.data.load`` (e.g. ``size=32``, ``difficulty=0.3``).
    """
    from .data import class_names, load
    names = class_names("shapes")
    if positive is not None:
        if not 0 < positive_fraction < 1:
            raise ValueError(f"positive_fraction must be in (0, 1), got {positive_fraction}")
        k = names.index(positive) if isinstance(positive, str) and positive in names else positive
        if not isinstance(k, (int, np.integer)) or not 0 <= k < len(names):
            raise ValueError(f"positive must be one of {names} or an index, got {positive!r}")
        n_pos = max(1, round(n * positive_fraction))
        # every class is equally common in shapes: load enough to find n_pos positives
        pool = int(max(n, n_pos * len(names)) * 1.3) + 50
        x, y = load("shapes", split, n=pool, seed=seed, **options)
        return binary_imbalanced(x, y, k, positive_fraction, n=n, seed=seed)
    c = options.pop("num_classes", len(names))
    scale = n / (imbalance_factor ** (-np.arange(c) / (c - 1))).sum()
    counts = long_tail_counts(c, max(1, int(round(scale))), imbalance_factor)
    pool = int(counts[0] * c * 1.3) + 50
    x, y = load("shapes", split, n=pool, seed=seed, num_classes=c, **options)
    idx = subsample_to_counts(y, counts, seed)
    return x[idx], y[idx]


def binary_imbalanced(x, y, positive: int, positive_fraction: float = 0.05,
                      n: int | None = None, seed: int = 0):
    """A rare-positive binary task from a labelled set: ``y_new = 1`` for class ``positive``.

    Keeps ``n`` examples (default: all negatives plus as many positives as the fraction
    allows) of which ``round(n * positive_fraction)`` are positives. Returns ``(x, y01)``.
    """
    y = _labels(y)
    if not 0 < positive_fraction < 1:
        raise ValueError(f"positive_fraction must be in (0, 1), got {positive_fraction}")
    pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
    if n is None:
        n = min(int(len(neg) / (1 - positive_fraction)), int(len(pos) / positive_fraction))
    n_pos = max(1, round(n * positive_fraction))
    if len(pos) < n_pos or len(neg) < n - n_pos:
        raise ValueError(f"need {n_pos} examples of class {positive} and {n - n_pos} others, but y "
                         f"has {len(pos)} and {len(neg)}; lower n")
    rng = np.random.default_rng(seed)
    idx = np.sort(np.concatenate([rng.choice(pos, n_pos, replace=False),
                                  rng.choice(neg, n - n_pos, replace=False)]))
    return x[idx], (y[idx] == positive).astype(np.int64)


def oversample_indices(y, seed: int = 0) -> np.ndarray:
    """Indices where every class is repeated (with replacement) up to the largest class's
    count: a balanced epoch that shows the rare examples many times."""
    y = _labels(y)
    rng = np.random.default_rng(seed)
    counts = class_counts(y)
    top = counts.max()
    idx = [np.concatenate([np.flatnonzero(y == k),
                           rng.choice(np.flatnonzero(y == k), top - c, replace=True)])
           for k, c in enumerate(counts) if c > 0]
    return rng.permutation(np.concatenate(idx))


def undersample_indices(y, seed: int = 0) -> np.ndarray:
    """Indices keeping, of every class, as many random examples as the rarest class has
    (balanced but throws data away)."""
    y = _labels(y)
    rng = np.random.default_rng(seed)
    counts = class_counts(y)
    low = counts[counts > 0].min()
    idx = [rng.choice(np.flatnonzero(y == k), low, replace=False)
           for k, c in enumerate(counts) if c > 0]
    return rng.permutation(np.concatenate(idx))


def balanced_sampler(y, num_samples: int | None = None, seed: int = 0):
    """A ``torch.utils.data.WeightedRandomSampler`` with per-example weight ``1/n_{y_i}``:
    each class is drawn equally often (with replacement); ``num_samples`` defaults to len(y)."""
    import torch
    y = _labels(y)
    w = 1.0 / class_counts(y)[y]
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.WeightedRandomSampler(torch.as_tensor(w, dtype=torch.double),
                                                  num_samples or len(y), replacement=True,
                                                  generator=g)


def make_loader(x, y, batch_size: int = 64, balance: str | None = None, seed: int = 0):
    """A ``torch`` ``DataLoader`` over arrays ``x`` (N, ...) and ``y`` (N,).

    balance: ``None`` (shuffled, as is), ``"sampler"`` (:func:`balanced_sampler`: every
    class equally likely per draw), ``"oversample"`` (one epoch of
    :func:`oversample_indices`) or ``"undersample"`` (:func:`undersample_indices`).
    """
    import torch
    y = _labels(y)
    if balance == "oversample":
        idx = oversample_indices(y, seed)
    elif balance == "undersample":
        idx = undersample_indices(y, seed)
    elif balance in (None, "sampler"):
        idx = np.arange(len(y))
    else:
        raise ValueError(f"balance must be None, 'sampler', 'oversample' or 'undersample', "
                         f"got {balance!r}")
    ds = torch.utils.data.TensorDataset(torch.as_tensor(np.asarray(x)[idx]), torch.as_tensor(y[idx]))
    g = torch.Generator().manual_seed(seed)
    if balance == "sampler":
        return torch.utils.data.DataLoader(ds, batch_size=batch_size,
                                           sampler=balanced_sampler(y, seed=seed))
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g)
