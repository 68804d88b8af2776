"""torch side of the data layer: an in-memory Dataset and train/val DataLoaders.

Imports torch at import time: ``coursekit.data`` loads this module lazily.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class ArrayDataset(Dataset):
    """In-memory images ``x`` (N, C, H, W) float32 and labels ``y`` (N,) int64 as a Dataset.

    Item ``i`` is ``(transform(x[i]), y[i])`` with x[i] a (C, H, W) float tensor and y[i] a
    0-d int64 tensor, or ``(x[i], y[i], masks[i])`` when ``masks`` (N, H, W) are given.
    ``classes`` (class names), ``mean`` and ``std`` (per-channel normalization applied, if
    any) are kept as attributes.
    """

    def __init__(self, x, y, transform=None, masks=None, classes=None, mean=None, std=None):
        self.x = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        if self.x.ndim != 4 or self.y.ndim != 1 or len(self.x) != len(self.y):
            raise ValueError(f"ArrayDataset: expected x (N, C, H, W) and y (N,), got "
                             f"{tuple(self.x.shape)} and {tuple(self.y.shape)}")
        self.masks = None if masks is None else torch.as_tensor(np.asarray(masks))
        self.transform = transform
        self.classes = tuple(classes) if classes is not None else None
        self.mean, self.std = mean, std

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        xi = self.x[i]
        if self.transform is not None:
            from .augment import single_thread
            with single_thread():
                xi = self.transform(xi)
        if self.masks is None:
            return xi, self.y[i]
        return xi, self.y[i], self.masks[i]


def dataloaders(name: str = "shapes", batch_size: int = 128, *, augment=None,
                normalize: bool = True, n_train: int | None = None, n_val: int | None = None,
                seed: int = 0, num_workers: int = 0, val_split: str = "val",
                pin_memory: bool | None = None, **load_options):
    """Train and val DataLoaders for data set ``name`` (see ``coursekit.data.load``).

    The normalization statistics (per-channel mean and std) are measured on the *training*
    split and applied to both loaders, after ``augment`` (a transform of a (C, H, W) float
    tensor in [0, 1], e.g. ``coursekit.data.augmentation(...)``) on the training side only.
    The training loader shuffles with a generator seeded by ``seed``.
    Returns ``(train_loader, val_loader)``; ``train_loader.dataset.mean`` / ``.std`` hold
    the statistics (tuples, or None when ``normalize=False``).
    """
    from . import channel_stats, class_names, load

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: expected a positive int")
    xtr, ytr = load(name, "train", n=n_train, seed=seed, **load_options)
    xva, yva = load(name, val_split, n=n_val, seed=seed, **load_options)
    mean = std = None
    if normalize:
        mean, std = channel_stats(xtr)
        m = np.asarray(mean, np.float32)[:, None, None]
        s = np.asarray(std, np.float32)[:, None, None]
        xva = (xva - m) / s
    aug = None
    if augment is not None:             # imported only when asked for: torchvision takes seconds to load
        from .augment import resolve_augmentation
        aug = resolve_augmentation(augment, size=tuple(xtr.shape[-2:]))
    if aug is None and normalize:
        xtr, train_tf = (xtr - m) / s, None
    elif aug is None:
        train_tf = None
    else:
        from torchvision.transforms import v2
        train_tf = aug if not normalize else v2.Compose([aug, v2.Normalize(list(mean), list(std))])
    names = class_names(name)
    train_ds = ArrayDataset(xtr, ytr, transform=train_tf, classes=names, mean=mean, std=std)
    val_ds = ArrayDataset(xva, yva, classes=names, mean=mean, std=std)
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    gen = torch.Generator().manual_seed(seed)
    common = dict(batch_size=batch_size, num_workers=num_workers, pin_memory=pin_memory,
                  persistent_workers=num_workers > 0)
    train = DataLoader(train_ds, shuffle=True, generator=gen, drop_last=False, **common)
    val = DataLoader(val_ds, shuffle=False, **common)
    return train, val
