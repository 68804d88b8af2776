"""Torch plumbing shared by every torch module of coursekit (layer 2): hooks that are always
removed, train/eval mode switched and restored per submodule, the model's device, layer
look-up by name, layers in forward order and leaf modules (the parameter count, which
needs no torch, is :func:`coursekit.arithmetic.count_parameters`).

One home for each of these: ``train``, ``checks``, ``metrics``, ``monitor``, ``transfer``,
``architectures``, ``viz`` and the widgets call them instead of writing their own copy.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["Hooks", "count_hooks", "model_mode", "eval_mode", "model_device", "get_layer",
           "layer_name", "layers_in_forward_order", "leaves"]


# --------------------------------------------------------------------------- hooks
class Hooks:
    """Context manager collecting hook handles and removing all of them on exit.

    >>> with Hooks() as h:
    ...     h.forward(model.conv1, lambda m, i, o: store.append(o))
    ...     model(x)
    # here every hook is gone, also if model(x) raised

    A failed call thus never leaves a hook behind (which would silently change later
    results and keep tensors alive).
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

    Used by the tests (hook hygiene): it must be the same before and after any call.
    """
    n = 0
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        n += len(getattr(m, "_backward_pre_hooks", {}))
    return n


# --------------------------------------------------------------------------- modes
@contextmanager
def model_mode(model: nn.Module, training: bool):
    """Run the block with ``model.train(training)``; afterwards every submodule gets back
    its own previous mode (a frozen BatchNorm kept in eval mode inside a training model
    stays so)."""
    was = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for m, mode in was:
            m.training = mode


def eval_mode(model: nn.Module):
    """``with eval_mode(model):`` BatchNorm uses its running statistics and dropout is off;
    every submodule's previous mode is restored afterwards (see :func:`model_mode`).

    Eval mode is what makes predictions and attributions independent of the batch.
    """
    return model_mode(model, False)


# --------------------------------------------------------------------------- look-ups
def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for parameter-free models)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def get_layer(model: nn.Module, layer) -> nn.Module:
    """Resolve ``layer`` (a module of ``model`` or its dotted name, e.g. ``"features.3"``)."""
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError("layer must be a submodule of model")
        return layer
    if isinstance(layer, str):
        names = dict(model.named_modules())
        if layer not in names:
            convs = [n for n, m in names.items() if isinstance(m, nn.Conv2d)]
            raise ValueError(f"model has no layer named {layer!r}; conv layers are {convs}")
        return names[layer]
    raise TypeError(f"layer must be an nn.Module or a layer name (str), got {type(layer).__name__}")


def layer_name(model: nn.Module, layer: nn.Module) -> str:
    """The dotted name of ``layer`` inside ``model``."""
    for n, m in model.named_modules():
        if m is layer:
            return n
    return type(layer).__name__


def leaves(model: nn.Module) -> list:
    """``[(dotted name, module)]`` of the modules without children, in registration order."""
    return [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]


def layers_in_forward_order(model: nn.Module, x: torch.Tensor, types=(nn.Conv2d,)) -> list:
    """The modules of ``types`` in the order a forward pass of ``x[:1]`` (eval mode) runs them."""
    order = []
    with Hooks() as h, torch.no_grad(), eval_mode(model):
        for m in model.modules():
            if isinstance(m, types):
                h.forward(m, lambda mod, i, o: order.append(mod))
        model(x[:1])
    return list({id(m): m for m in order}.values())
