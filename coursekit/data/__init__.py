"""Data: generated shapes, embedded samples, torchvision loaders, augmentation and TTA.

Front door: ``load(name, split="train", ...)`` with ``name`` in ``DATASETS``::

    x, y = load("shapes")                       # (10000, 3, 32, 32) float32 in [0, 1], int64
    x, y, masks = load("shapes", "val", with_masks=True)   # masks (N, 32, 32) bool
    ds = load("digits", as_torch=True)          # a torch Dataset
    SHAPES_CLASSES[y[0]]                        # class names: class_names("shapes")

This package imports no torch at import time; the torch-side names (``dataloaders``,
``ArrayDataset``, augmentation pipelines, ``predict_tta``) load torch on first use.
"""
from __future__ import annotations

import numpy as np

from .embedded import DIGITS_CLASSES, SAMPLE_IMAGE_NAMES, load_digits, sample_images
from .idx import md5sum, read_idx
from .shapes import SHAPES_CLASSES, make_shapes
from .torchvision_sets import (CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES,
                               CorruptCacheError, DatasetUnavailableError)

DATASETS = ("shapes", "digits", "mnist", "fashion_mnist", "cifar10")
SPLITS = ("train", "val", "test")
_CLASSES = {"shapes": SHAPES_CLASSES, "digits": DIGITS_CLASSES, "mnist": MNIST_CLASSES,
            "fashion_mnist": FASHION_MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; available: {', '.join(DATASETS)}")
    return name


def class_names(name: str) -> tuple:
    """The class names of data set ``name`` (index = label)."""
    return _CLASSES[_check_name(name)]


def channel_stats(x) -> tuple:
    """Per-channel ``(mean, std)`` tuples of images ``x`` (N, C, H, W)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"channel_stats: expected x of shape (N, C, H, W), got {x.shape}")
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return tuple(float(m) for m in mean), tuple(float(max(s, 1e-8)) for s in std)


def load(name: str, split: str = "train", *, n: int | None = None, seed: int = 0,
         with_masks: bool = False, as_torch: bool = False, transform=None,
         root=None, download: bool = True, **options):
    """Load data set ``name`` (one of ``DATASETS``), split "train", "val" or "test".

    Returns ``(x, y)``: x (N, C, H, W) float32 in [0, 1], y (N,) int64 labels; with
    ``with_masks=True`` (shapes only) ``(x, y, masks)``, masks (N, H, W) bool (object pixels).
    ``as_torch=True`` returns a ``torch.utils.data.Dataset`` (``ArrayDataset``) instead, whose
    items are ``(x[i], y[i])`` (or with the mask) after ``transform``.

    - ``"shapes"``: generated (see ``coursekit.data.shapes``); ``n`` images (default 10000
      train / 2000 val / 2000 test); options ``size=32``, ``difficulty=0.5`` (0..1 or
      "easy"/"medium"/"hard"), ``num_classes``. Same ``seed`` -> same images.
    - ``"digits"``: scikit-learn's 8x8 digits (N, 1, 8, 8), fixed 70/15/15 split by ``seed``.
    - ``"mnist"``, ``"fashion_mnist"`` (N, 1, 28, 28), ``"cifar10"`` (N, 3, 32, 32): downloaded
      once through torchvision into ``root`` (default ``coursekit.config.data_dir()``) and
      checksum-verified; val = the end of the official training set.
    ``n`` (for the non-generated sets) keeps the first ``n`` images of the split.
    """
    _check_name(name)
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS}")
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0):
        raise ValueError(f"n={n!r}: expected a non-negative int (number of images) or None")
    if with_masks and name != "shapes":
        raise ValueError(f"with_masks=True: only 'shapes' has object masks, not {name!r}")
    allowed = {"shapes": {"size", "difficulty", "num_classes", "workers"}}.get(name, set())
    extra = set(options) - allowed
    if extra:
        raise TypeError(f"load({name!r}): unexpected options {sorted(extra)}; "
                        f"{name!r} accepts {sorted(allowed) or 'no extra options'}")
    masks = None
    if name == "shapes":
        from .shapes import DEFAULT_SIZES
        count = DEFAULT_SIZES[split] if n is None else int(n)
        x, y, masks = make_shapes(count, split=split, seed=seed, **options)
    else:
        if name == "digits":
            x, y = load_digits(split, seed=seed)
        elif name == "cifar10":
            from .torchvision_sets import load_cifar10
            x, y = load_cifar10(split, root=root, download=download)
        else:
            from .torchvision_sets import load_mnist_like
            x, y = load_mnist_like(name, split, root=root, download=download)
        if n is not None:
            x, y = x[:n], y[:n]
    if as_torch:
        from .loaders import ArrayDataset
        return ArrayDataset(x, y, transform=transform, masks=masks if with_masks else None,
                            classes=class_names(name))
    if transform is not None:
        raise ValueError("transform= applies to torch Datasets: pass as_torch=True, or apply "
                         "coursekit.data.augment_batch to the arrays")
    return (x, y, masks) if with_masks else (x, y)


_LAZY = {"dataloaders": "loaders", "ArrayDataset": "loaders",
         "augmentation": "augment", "augment_batch": "augment", "TRANSFORMS": "augment",
         "make_transform": "augment", "mix_batch": "augment", "resolve_augmentation": "augment",
         "predict_tta": "tta", "TTA_VIEWS": "tta"}


def __getattr__(attr):
    """Load the torch-side names on first use (keeps ``import coursekit.data`` torch-free)."""
    if attr in _LAZY:
        import importlib
        mod = importlib.import_module(f".{_LAZY[attr]}", __name__)
        return getattr(mod, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


__all__ = ["load", "DATASETS", "SPLITS", "class_names", "channel_stats", "sample_images",
           "read_idx", "md5sum", "make_shapes", "load_digits", "SHAPES_CLASSES",
           "DIGITS_CLASSES", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "CIFAR10_CLASSES",
           "SAMPLE_IMAGE_NAMES", "CorruptCacheError", "DatasetUnavailableError", *_LAZY]
