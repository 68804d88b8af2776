"""How a normalization layer depends on the batch: BatchNorm's small-batch pitfall (layer 2).

Lesson 07 trains networks for the *same number of steps* at different batch sizes and
evaluates them both ways:

- :func:`limited_steps`: a loader that yields exactly ``steps`` batches (cycling through the
  data as often as needed), so ``fit(..., epochs=1)`` trains for a fixed number of steps
  whatever the batch size;
- :func:`accuracy_with_batch_statistics`: accuracy of a model run in *train* mode on batches
  of a given size (BatchNorm normalizes each batch with its own statistics), on a copy, so
  the model's running statistics are not touched. Compare with ``coursekit.train.evaluate``
  (eval mode, running statistics);
- :func:`small_batch_study`: the lesson's experiment, BatchNorm and GroupNorm trained at batch
  64 and 2 and evaluated both ways, over seeds.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

__all__ = ["limited_steps", "accuracy_with_batch_statistics", "small_batch_study"]


class limited_steps:
    """Iterable over exactly ``steps`` batches of ``loader`` (restarting it when exhausted).

    ``len()`` is ``steps``. Each pass over this object continues the same number of steps
    from a fresh iterator of ``loader``.
    """

    def __init__(self, loader, steps: int):
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        self.loader, self.steps = loader, int(steps)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        done = 0
        while done < self.steps:
            empty = True
            for batch in self.loader:
                empty = False
                yield batch
                done += 1
                if done == self.steps:
                    return
            if empty:
                raise ValueError("loader yielded no batches")


@torch.no_grad()
def accuracy_with_batch_statistics(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                                   batch_size: int) -> float:
    """Accuracy on ``(x: (N, ...), y: (N,))`` with the model in train mode, fed in batches
    of ``batch_size`` (dropout, if any, would be active too). Runs on a deep copy: the
    model's weights, running statistics and mode are unchanged."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
    twin = copy.deepcopy(model).train()
    n = (len(x) // batch_size) * batch_size          # whole batches only
    if n == 0:
        raise ValueError(f"batch_size={batch_size} is larger than the {len(x)} examples")
    correct = sum(int((twin(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                  for i in range(0, n, batch_size))
    return correct / n


def small_batch_study(loader_large, loader_pairs, val_loader, steps: int, seeds) -> dict:
    """Validation accuracy (a ``Spread`` over ``seeds``) of ``deep_mlp(64, 10, depth=3, width=64)``
    trained for ``steps`` SGD steps (lr 0.01, momentum 0.9): with BatchNorm on ``loader_large``
    ("BN@64"), with BatchNorm and with GroupNorm on ``loader_pairs`` ("BN@2", "GN@2"); each
    evaluated in eval mode and in train mode on validation pairs (batches of 2).

    Returns ``{"BN@64 eval mode", "BN@64 train mode, batches of 2", "BN@2 eval mode",
    "BN@2 train mode, batches of 2", "GN@2 eval mode", "GN@2 batches of 2"} -> Spread``.
    """
    from .claims import seeds_summary
    from .models import deep_mlp
    from .train import evaluate, fit, seed_everything

    x_val, y_val = val_loader.dataset.x, val_loader.dataset.y
    runs = {"BN@64": ("batch", loader_large, "train mode, batches of 2"),      # name: norm, loader, the pairs row
            "BN@2": ("batch", loader_pairs, "train mode, batches of 2"), "GN@2": ("group", loader_pairs, "batches of 2")}
    res: dict = {}
    for seed in seeds:
        for name, (norm, loader, pairs) in runs.items():
            seed_everything(seed)
            net = deep_mlp(64, 10, depth=3, width=64, norm=norm)
            fit(net, limited_steps(loader, steps), None, 1,
                torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9), progress=False)
            res.setdefault(f"{name} eval mode", []).append(evaluate(net, val_loader)["accuracy"])
            res.setdefault(f"{name} {pairs}", []).append(
                accuracy_with_batch_statistics(net, x_val, y_val, batch_size=2))
    return {k: seeds_summary(v) for k, v in res.items()}      # in the order of the docstring
