"""What to look at while a network trains: weights, gradients, activations, dead ReLUs.

The per-epoch training measurements (loss, accuracy, gradient norms, per-layer
update/weight ratios) are recorded by ``coursekit.train.fit`` in its ``History``; this
module adds snapshots taken on a batch at any moment, and reads the ``History`` fields:

- :func:`weight_values` / :func:`grad_values`: every weight tensor's values or gradient
  (flattened) by layer name, for histograms;
- :func:`activation_values`: the outputs of chosen layers on a batch (forward hooks);
- :func:`dead_relu_fraction`: per ReLU, the fraction of units that output 0 for every
  example of the batch (they get no gradient, so they never recover);
- :func:`update_ratio_report`: the ``History.update_ratio`` of each layer against the
  ~1e-3 rule of thumb.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["weight_values", "grad_values", "activation_values", "dead_relu_fraction",
           "update_ratio_verdict", "update_ratio_report"]


def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
from .torchutil import Hooks, eval_mode, model_device



def weight_values(model: nn.Module) -> dict:
    """``{name: 1-D float array}`` of every weight tensor (``ndim >= 2``) of ``model``."""
    _check_model(model)
    return {n: p.detach().cpu().float().numpy().ravel()
            for n, p in model.named_parameters() if p.dim() >= 2}


def grad_values(model: nn.Module) -> dict:
    """``{name: 1-D float array}`` of the gradients of the weight tensors (after a
    ``backward()``); raises if no gradient is there yet."""
    _check_model(model)
    out = {n: p.grad.detach().cpu().float().numpy().ravel()
           for n, p in model.named_parameters() if p.dim() >= 2 and p.grad is not None}
    if not out:
        raise ValueError("the model has no gradients yet: call loss.backward() first")
    return out


def activation_values(model: nn.Module, x: torch.Tensor, types=(nn.ReLU,)) -> dict:
    """Outputs of every module of the given ``types`` on the batch ``x`` (N, ...):
    ``{module name: array (N, ...)}`` in forward order. The model runs in eval mode
    (its previous mode is restored) and without gradients."""
    _check_model(model)
    acts = {}
    with Hooks() as hooks, torch.no_grad(), eval_mode(model):
        for name, mod in model.named_modules():
            if isinstance(mod, tuple(types)):
                hooks.forward(mod, lambda m, i, o, name=name:
                              acts.__setitem__(name, o.detach().cpu().numpy()))
        if not hooks.handles:
            raise ValueError(f"the model has no module of type {[t.__name__ for t in types]}")
        model(x.to(model_device(model)))
    return acts


def dead_relu_fraction(model: nn.Module, x: torch.Tensor) -> dict:
    """Per ReLU module: the fraction of its units (channel x position for conv layers) that
    are 0 for every example of ``x`` (N, ...). Use a batch of a few hundred examples."""
    return {name: float((a <= 0).all(axis=0).mean())
            for name, a in activation_values(model, x, (nn.ReLU,)).items()}


def update_ratio_verdict(ratio: float, low: float = 1e-4, high: float = 1e-2) -> str:
    """``"healthy"`` for an update/weight ratio in [low, high] (around 1e-3),
    ``"too small (learning rate too low, or a dead layer?)"`` or ``"too large (learning rate too high?)"``."""
    if not math.isfinite(ratio):
        return "not finite (training diverged)"
    if ratio < low:
        return "too small (learning rate too low, or a dead layer?)"
    if ratio > high:
        return "too large (learning rate too high?)"
    return "healthy"


def update_ratio_report(history, epoch: int = -1) -> dict:
    """``{layer: (ratio, verdict)}`` from ``History.update_ratio`` at ``epoch`` (default: last).

    history: a ``coursekit.train.History`` (or its ``to_dict()``)."""
    ratios = history["update_ratio"] if isinstance(history, dict) else history.update_ratio
    if not ratios or not any(len(v) for v in ratios.values()):
        raise ValueError("history has no update ratios: train with coursekit.train.fit first")
    return {k: (float(v[epoch]), update_ratio_verdict(float(v[epoch])))
            for k, v in ratios.items() if len(v)}
