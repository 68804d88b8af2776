"""How a normalization layer depends on the batch: BatchNorm's small-batch pitfall (layer 2).

Lesson 07 trains networks for the *same number of steps* at different batch sizes and
evaluates them both ways:

- :func:`limited_steps`: a loader that yields exactly ``steps`` batches (cycling through the
  data as often as needed), so ``fit(..., epochs=1)`` trains for a fixed number of steps
  whatever the batch size;
- :func:`accuracy_with_batch_statistics`: accuracy of a model run in *train* mode on batches
  of a given size (BatchNorm normalizes each batch with its own statistics), on a copy, so
  the model's running statistics are not touched. Compare with ``coursekit.train.evaluate``
  (eval mode, running statistics).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

__all__ = ["limited_steps", "accuracy_with_batch_statistics"]


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
