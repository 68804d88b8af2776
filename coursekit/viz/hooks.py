"""Forward/backward hooks that are always removed, even when the wrapped code raises.

Every attribution in :mod:`coursekit.viz` registers its hooks through :class:`Hooks`, so a
failed call never leaves a hook behind (which would silently change later results and keep
tensors alive, growing memory with every call).
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


class Hooks:
    """Context manager collecting hook handles and removing all of them on exit.

    >>> with Hooks() as h:
    ...     h.forward(model.conv1, lambda m, i, o: store.append(o))
    ...     model(x)
    # here every hook is gone, also if model(x) raised
    """

    def __init__(self):
        self.handles = []

    def forward(self, module: nn.Module, fn):
        """Register ``fn(module, inputs, output)`` as a forward hook; returns the handle."""
        handle = module.register_forward_hook(fn)
        self.handles.append(handle)
        return handle

    def forward_pre(self, module: nn.Module, fn):
        """Register ``fn(module, inputs)`` as a forward pre-hook; returns the handle."""
        handle = module.register_forward_pre_hook(fn)
        self.handles.append(handle)
        return handle

    def backward(self, module: nn.Module, fn):
        """Register ``fn(module, grad_input, grad_output)`` as a full backward hook."""
        handle = module.register_full_backward_hook(fn)
        self.handles.append(handle)
        return handle

    def tensor(self, t: torch.Tensor, fn):
        """Register ``fn(grad)`` on tensor ``t`` (removed on exit like the others)."""
        handle = t.register_hook(fn)
        self.handles.append(handle)
        return handle

    def remove(self):
        """Remove every registered hook (idempotent)."""
        while self.handles:
            self.handles.pop().remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def count_hooks(model: nn.Module) -> int:
    """Number of forward, forward-pre and backward hooks registered on ``model``'s modules.

    Used by the tests (hook hygiene): it must be the same before and after any viz call.
    """
    n = 0
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        n += len(getattr(m, "_backward_pre_hooks", {}))
    return n


@contextmanager
def eval_mode(model: nn.Module):
    """Put ``model`` in eval mode (BatchNorm running stats, no dropout) and restore after.

    Eval mode is what makes every attribution independent of the batch size.
    """
    was = [m.training for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, t in zip(model.modules(), was):
            m.training = t
