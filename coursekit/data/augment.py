"""Data augmentation pipelines built from ``torchvision.transforms.v2``.

- ``make_transform(name, strength, size)``: one transform of ``TRANSFORMS`` at a strength
  in [0, 1] (what the gallery and the explorer widget show).
- ``augmentation(spec, size)``: a ``v2.Compose`` from a preset name ("none", "flip",
  "standard", "strong"), a list of transform names or a dict ``{name: strength}``.
- ``augment_batch(x, transform, seed)``: apply a per-image transform to every image of a
  batch (each image draws its own random parameters), reproducibly for a seed.
- ``mix_batch(x, y, kind, alpha, num_classes, seed)``: MixUp / CutMix (v2's own) on a batch.

All transforms take and return (C, H, W) float tensors in [0, 1] (before normalization).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torchvision.transforms import v2

LABEL_PRESERVING = ("hflip", "vflip", "crop", "resized_crop", "jitter", "rotate",
                    "translate", "scale", "shear", "cutout")
"""Transforms that keep the label (for data whose class is invariant to them)."""

LABEL_MIXING = ("mixup", "cutmix")
"""Batch transforms that mix two images and their labels."""


def _s(strength) -> float:
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise TypeError(f"strength must be a number in [0, 1], got {strength!r}") from None
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"strength={s}: expected a number in [0, 1] (0 = off, 1 = strongest)")
    return s


def _hflip(s, size):
    return v2.RandomHorizontalFlip(p=s)


def _vflip(s, size):
    return v2.RandomVerticalFlip(p=s)


def _crop(s, size):
    return v2.RandomCrop(size, padding=int(round(s * min(size) / 4)), fill=0)


def _resized_crop(s, size):
    return v2.RandomResizedCrop(size, scale=(1.0 - 0.85 * s, 1.0), antialias=True)


def _jitter(s, size):
    return v2.ColorJitter(brightness=0.8 * s, contrast=0.8 * s, saturation=0.8 * s,
                          hue=0.5 * s)


def _rotate(s, size):
    return v2.RandomAffine(degrees=90 * s)


def _translate(s, size):
    return v2.RandomAffine(degrees=0, translate=(0.3 * s, 0.3 * s))


def _scale(s, size):
    return v2.RandomAffine(degrees=0, scale=(1 - 0.5 * s, 1 + 0.5 * s))


def _shear(s, size):
    return v2.RandomAffine(degrees=0, shear=(-35 * s, 35 * s, -35 * s, 35 * s))


def _cutout(s, size):
    return v2.RandomErasing(p=1.0 if s > 0 else 0.0, scale=(0.02 + 0.1 * s, 0.05 + 0.3 * s),
                            ratio=(0.5, 2.0), value=0.0)


TRANSFORMS = {"hflip": _hflip, "vflip": _vflip, "crop": _crop, "resized_crop": _resized_crop,
              "jitter": _jitter, "rotate": _rotate, "translate": _translate, "scale": _scale,
              "shear": _shear, "cutout": _cutout}
"""Name -> factory(strength, size) of the per-image v2 transforms."""

DEFAULT_STRENGTH = {"hflip": 0.5, "vflip": 0.5, "crop": 0.5, "resized_crop": 0.5,
                    "jitter": 0.3, "rotate": 0.2, "translate": 0.3, "scale": 0.3,
                    "shear": 0.3, "cutout": 0.4}

PRESETS = {"none": {}, "flip": {"hflip": 0.5},
           "standard": {"hflip": 0.5, "crop": 0.5},
           "strong": {"hflip": 0.5, "crop": 0.5, "jitter": 0.3, "rotate": 0.15,
                      "cutout": 0.3}}


def _size(size):
    """An image size as an (H, W) tuple (an int means a square)."""
    if isinstance(size, (int, np.integer)) and size > 0:
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(int(v) > 0 for v in size):
        return int(size[0]), int(size[1])
    raise ValueError(f"size={size!r}: expected a positive int or an (H, W) pair")


def make_transform(name: str, strength: float | None = None, size=32):
    """One v2 transform ``name`` (see ``TRANSFORMS``) at ``strength`` in [0, 1] for
    (C, H, W) images of ``size`` (int or (H, W)); ``strength=None`` takes
    ``DEFAULT_STRENGTH[name]``."""
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; available: {', '.join(TRANSFORMS)} "
                         f"(MixUp/CutMix act on batches: use mix_batch)")
    s = DEFAULT_STRENGTH[name] if strength is None else _s(strength)
    return TRANSFORMS[name](s, _size(size))


def augmentation(spec="standard", size=32):
    """A ``v2.Compose`` pipeline: ``spec`` a preset name (``PRESETS``), a list of transform
    names (default strengths) or a dict ``{name: strength}``; order = ``TRANSFORMS`` order
    of the given names, except a dict keeps its own order."""
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ValueError(f"unknown augmentation preset {spec!r}; presets: "
                             f"{', '.join(PRESETS)}, or pass a list/dict of {list(TRANSFORMS)}")
        spec = PRESETS[spec]
    elif isinstance(spec, (list, tuple)):
        spec = {n: None for n in spec}
    elif not isinstance(spec, dict):
        raise TypeError(f"spec must be a preset name, a list of names or a dict name -> "
                        f"strength, got {type(spec).__name__}")
    steps = [make_transform(n, s, size) for n, s in spec.items()]
    return v2.Compose(steps or [v2.Identity()])


def resolve_augmentation(augment, size=32):
    """None/False/"none" -> None; a preset, list or dict -> ``augmentation``; a callable as is."""
    if augment is None or augment is False or augment == "none":
        return None
    if callable(augment):
        return augment
    return augmentation(augment, size)


@contextmanager
def single_thread():
    """Run torch on one intra-op thread (restored afterwards).

    Per-image transforms work on tiny tensors: extra threads only add synchronisation,
    which on a busy 2-core machine made them several times slower.
    """
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@contextmanager
def _seeded(seed):
    """Run with torch's global RNG seeded, restoring its state afterwards (seed None: as is)."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def _to_tensor(x):
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), True
    if isinstance(x, torch.Tensor):
        return x, False
    raise TypeError(f"x must be a NumPy array or a torch tensor (N, C, H, W), "
                    f"got {type(x).__name__}")


def augment_batch(x, transform, seed: int | None = None):
    """Apply the per-image ``transform`` to each image of ``x`` (N, C, H, W).

    Each image gets its own random parameters; the same ``seed`` gives the same result (and
    leaves the global torch RNG untouched). Returns the same type as ``x`` (NumPy or torch),
    same shape and dtype.
    """
    t, was_numpy = _to_tensor(x)
    if t.ndim != 4:
        raise ValueError(f"augment_batch: expected x of shape (N, C, H, W), got {tuple(t.shape)}")
    with _seeded(seed), single_thread():
        out = torch.stack([transform(img) for img in t]) if len(t) else t.clone()
    out = out.to(t.dtype)
    return out.numpy() if was_numpy else out


def mix_batch(x, y, kind: str = "mixup", alpha: float = 1.0, num_classes: int | None = None,
              seed: int | None = None):
    """MixUp or CutMix (``torchvision.transforms.v2``) on a batch.

    x (N, C, H, W) float, y (N,) int labels. Image i is mixed with image i-1 (v2's pairing)
    with a weight lam ~ Beta(alpha, alpha); CutMix pastes a box and sets lam = 1 - box area.
    Returns ``(x_mixed, y_soft)`` with y_soft (N, num_classes) float rows summing to 1, of the
    same type (NumPy or torch) as ``x``.
    """
    if kind not in LABEL_MIXING:
        raise ValueError(f"kind={kind!r}: expected one of {LABEL_MIXING}")
    t, was_numpy = _to_tensor(x)
    yt = torch.as_tensor(np.asarray(y) if isinstance(y, np.ndarray) else y, dtype=torch.int64)
    if t.ndim != 4 or yt.ndim != 1 or len(t) != len(yt):
        raise ValueError(f"mix_batch: expected x (N, C, H, W) and y (N,), got "
                         f"{tuple(t.shape)} and {tuple(yt.shape)}")
    if num_classes is None:
        num_classes = int(yt.max()) + 1
    cls = v2.MixUp if kind == "mixup" else v2.CutMix
    with _seeded(seed):
        xo, yo = cls(alpha=float(alpha), num_classes=int(num_classes))(t, yt)
    if was_numpy:
        return xo.numpy(), yo.numpy()
    return xo, yo
