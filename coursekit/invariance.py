"""Lesson 09's experiment: does augmentation teach an invariance the training data lack?

The training images are digits *centred* on a canvas; the validation and test images are the
same kind of digits at *random positions* (shifted by up to ``shift`` pixels). A model
trained on the centred digits alone never sees a shifted one; a model trained with random
shifts (pad-and-crop filled with the background, 0) does. Both are trained to convergence,
for several seeds, and measured on

- the *clean* training images (centred, not augmented: what the model fits),
- the augmented batches it was trained on (what ``History.train_acc`` records),
- the shifted validation images, each epoch, and with test-time augmentation at the end.

Layer 2 (torch). The arrays come from :mod:`coursekit.data.numpy_augment`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from .data import load
from .data.augment import single_thread
from .data import numpy_augment as na
from .data.loaders import ArrayDataset
from .data.tta import predict_tta, shift_views
from .models import lesson_cnn
from .train import evaluate, fit, seed_everything

__all__ = ["ShiftedDigits", "shifted_digits", "ShiftAugmented", "InvarianceRun",
           "train_invariance_run", "run_invariance_experiment"]


@dataclass
class ShiftedDigits:
    """Digits on a ``canvas`` x ``canvas`` background: centred for training, shifted by up to
    ``shift`` pixels each way for validation/test. Arrays (N, 1, canvas, canvas) in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    shift: int

    @property
    def canvas(self) -> int:
        return self.x_train.shape[-1]


def shifted_digits(shift: int = 2, copies: int = 4, seed: int = 0) -> ShiftedDigits:
    """The 8x8 digits on a (8 + 2 shift)-pixel canvas. Training: every training digit,
    centred. Validation / test: each digit of the split ``copies`` times at random positions
    (seeded by ``seed``), so every image is shifted by 0..``shift`` pixels in each direction."""
    if not isinstance(shift, int) or shift < 1:
        raise ValueError(f"shift={shift!r}: expected an int >= 1 (pixels)")
    size = 8 + 2 * shift
    xtr, ytr = load("digits", "train")
    parts = {}
    for k, split in enumerate(("val", "test")):
        x, y = load("digits", split)
        rng = np.random.default_rng([seed, k])
        xs, _ = na.random_place(np.concatenate([x] * copies), size, rng)
        parts[split] = (xs, np.concatenate([y] * copies))
    return ShiftedDigits(na.place_on_canvas(xtr, size), ytr, *parts["val"], *parts["test"], shift)


class ShiftAugmented:
    """Shuffled training batches of (x, y) arrays, each image shifted at random by up to
    ``shift`` pixels (NumPy pad-and-crop with ``fill``; ``shift=0``: no augmentation).
    Iterable of (x (B, C, H, W) float tensor, y (B,) int64 tensor); a new draw every epoch."""

    def __init__(self, x, y, shift: int, batch_size: int = 32, seed: int = 0, fill: float = 0.0):
        self.x, self.y = np.asarray(x, np.float32), np.asarray(y, np.int64)
        self.shift, self.batch_size, self.fill = int(shift), int(batch_size), float(fill)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.y))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            xb = self.x[idx]
            if self.shift:
                xb, _ = na.random_crop(xb, padding=self.shift, rng=self.rng, fill=self.fill)
            yield torch.from_numpy(xb), torch.from_numpy(self.y[idx])


@dataclass
class InvarianceRun:
    """One trained model and its per-epoch measurements (accuracies in [0, 1])."""

    augmented: bool
    seed: int
    clean_train_acc: list = field(default_factory=list)   # centred training images, eval mode
    batch_train_acc: list = field(default_factory=list)   # the (augmented) batches, as trained
    val_acc: list = field(default_factory=list)           # shifted validation images
    tta_acc: dict = field(default_factory=dict)           # view set -> test accuracy
    model: torch.nn.Module | None = None

    def curves(self) -> dict:
        """``{"train_acc": clean, "val_acc": val}`` for ``coursekit.viz.plot_train_val_gap``."""
        return {"train_acc": self.clean_train_acc, "val_acc": self.val_acc}


def _loader(x, y):
    return DataLoader(ArrayDataset(x, y), batch_size=512)


def train_invariance_run(data: ShiftedDigits, augmented: bool, seed: int, epochs: int = 20,
                         lr: float = 1e-2, channels=(16, 32), batch_size: int = 64) -> InvarianceRun:
    """Train ``lesson_cnn`` on ``data``'s centred training digits, with random shifts of up to
    ``data.shift`` pixels when ``augmented``; AdamW with a one-cycle schedule (so the last
    epochs take tiny steps: the run ends converged). Measures every epoch (see
    :class:`InvarianceRun`) and, at the end, test accuracy with and without shift TTA."""
    seed_everything(seed)
    model = lesson_cnn(in_channels=1, num_classes=10, size=data.canvas, channels=channels)
    batches = ShiftAugmented(data.x_train, data.y_train, data.shift if augmented else 0,
                             batch_size=batch_size, seed=seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * len(batches))
    clean, val = _loader(data.x_train, data.y_train), _loader(data.x_val, data.y_val)
    run = InvarianceRun(augmented, seed)
    for _ in range(epochs):
        h = fit(model, batches, None, 1, opt, sched, scheduler_interval="step",
                device="cpu", progress=False)
        run.batch_train_acc.append(h.train_acc[-1])
        run.clean_train_acc.append(evaluate(model, clean)["accuracy"])
        run.val_acc.append(evaluate(model, val)["accuracy"])
    for name, views in (("plain", ["identity"]), ("TTA: 9 shifts", shift_views(1)),
                        ("TTA: 25 shifts", shift_views(2))):
        p = predict_tta(model, data.x_test, views=views)
        run.tta_acc[name] = float((p.argmax(1).numpy() == data.y_test).mean())
    run.model = model
    return run


def run_invariance_experiment(data: ShiftedDigits, seeds=(0, 1, 2), epochs: int = 20,
                              **kwargs) -> dict:
    """``{"no augmentation": [InvarianceRun per seed], "random shifts": [...]}``. Runs on one
    torch thread: the tiny convolutions gain nothing from more, and a busy machine loses a lot."""
    with single_thread():
        return {name: [train_invariance_run(data, aug, s, epochs, **kwargs) for s in seeds]
                for name, aug in (("no augmentation", False), ("random shifts", True))}
