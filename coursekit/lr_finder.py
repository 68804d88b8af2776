"""The learning-rate range test ("LR finder", Smith 2017).

Train a copy of the model for a few hundred steps while the learning rate grows
exponentially from ``start_lr`` to ``end_lr``; record the (smoothed) loss at each rate. The
loss is flat while the rate is too small, falls fastest around good rates, and explodes when
the rate is too large. Pick a rate where it falls fastest (or ~1/10 of where it is lowest).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .optim import make_optimizer
from .torchutil import model_device

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """``lrs`` and ``losses`` (raw) and ``smoothed`` (exponential moving average, bias
    corrected), one entry per step; ``steepest``: the rate where the smoothed loss falls
    fastest per log-step; ``min_lr``: the rate of the lowest smoothed loss; ``suggestion``:
    the smaller of ``steepest`` and ``min_lr / 10``; ``diverged``: True if the sweep stopped
    early because the loss exploded."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float
    min_lr: float
    suggestion: float
    diverged: bool

    def __repr__(self):
        return (f"LRFinderResult({len(self.lrs)} steps, {self.lrs[0]:.1e}..{self.lrs[-1]:.1e}; "
                f"steepest descent at {self.steepest:.2e}, lowest loss at {self.min_lr:.2e}, "
                f"suggestion {self.suggestion:.2e}{', diverged' if self.diverged else ''})")


def _batches(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("the loader yielded no batches")


def lr_find(model: nn.Module, loader, loss: Callable | None = None,
            optimizer: str | Callable = "sgd", start_lr: float = 1e-6, end_lr: float = 10.0,
            num_steps: int = 100, beta: float = 0.9, diverge_factor: float = 4.0,
            momentum: float = 0.9) -> LRFinderResult:
    """Run the range test on a copy of ``model`` (the model itself is not changed).

    loader: an iterable of ``(x, y)`` batches (cycled if shorter than ``num_steps``);
    loss(scores, y) (default cross-entropy); optimizer: a name for
    :func:`coursekit.optim.make_optimizer` (``"sgd"`` uses ``momentum``) or a callable
    ``(params, lr) -> optimizer``. The rate after step ``i`` is
    ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``. Stops when the smoothed
    loss exceeds ``diverge_factor`` times its minimum.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_steps < 5:
        raise ValueError(f"num_steps must be >= 5 to see a curve, got {num_steps}")
    loss_fn = loss or F.cross_entropy
    net = copy.deepcopy(model)
    net.train()
    dev = model_device(net)
    if callable(optimizer):
        opt = optimizer(net.parameters(), start_lr)
    else:
        name = "momentum" if optimizer == "sgd" and momentum else optimizer
        opt = make_optimizer(name, net.parameters(), lr=start_lr, momentum=momentum)
    ratio = (end_lr / start_lr) ** (1 / (num_steps - 1))
    lrs, losses, smoothed = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    batches = _batches(loader)
    for i in range(num_steps):
        lr = start_lr * ratio ** i
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = next(batches)
        opt.zero_grad()
        loss = loss_fn(net(x.to(dev)), y.to(dev))
        value = float(loss.detach())
        if not math.isfinite(value):
            diverged = True
            break
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta ** (i + 1))
        lrs.append(lr)
        losses.append(value)
        smoothed.append(s)
        best = min(best, s)
        if i > 5 and s > diverge_factor * best:
            diverged = True
            break
        loss.backward()
        opt.step()
    if len(lrs) < 3:
        raise ValueError(f"the loss diverged within {len(lrs)} steps: lower start_lr "
                         f"(now {start_lr})")
    lrs, losses, smoothed = map(np.asarray, (lrs, losses, smoothed))
    slope = np.gradient(smoothed, np.log10(lrs))
    lowest = int(np.argmin(smoothed))
    skip = min(max(3, len(lrs) // 10), lowest)   # the moving average is still settling there
    steepest = float(lrs[skip + int(np.argmin(slope[skip: lowest + 1]))])
    min_lr = float(lrs[lowest])
    return LRFinderResult(lrs, losses, smoothed, steepest, min_lr,
                          min(steepest, min_lr / 10), diverged)
