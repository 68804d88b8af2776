"""What dropout does to a trained network: single-unit ablation, uncertainty of errors (layer 2).

- :func:`unit_ablation`: zero one hidden unit at a time (a forward hook on one module's
  output) and measure how much the loss grows, unit by unit: a network that relies on
  a few co-adapted units shows a few large losses, one trained with dropout many small ones;
- :func:`error_detection_auc`: how well an uncertainty score separates wrong predictions
  from right ones (ROC AUC: 0.5 = no better than chance, 1 = perfect), with the number of
  wrong predictions it rests on.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .metrics import roc_curve
from .torchutil import Hooks, eval_mode

__all__ = ["unit_ablation", "error_detection_auc"]


@torch.no_grad()
def unit_ablation(model: nn.Module, module: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  loss=None) -> np.ndarray:
    """Increase of the eval-mode loss when each unit of ``module``'s output is set to 0.

    x: (N, ...) inputs, y: (N,) class indices; ``module`` must be a submodule of ``model``
    whose output is (N, units). Returns an array (units,): ``loss(unit j zeroed) - loss``.
    The model's mode is restored; no hook is left behind.
    """
    if not any(m is module for m in model.modules()):
        raise ValueError("module must be a submodule of model (e.g. model[3])")
    loss_fn = loss if loss is not None else nn.functional.cross_entropy
    state = {"unit": None, "width": None}

    def hook(mod, inputs, out):
        state["width"] = out.shape[1]
        if state["unit"] is None:
            return out
        out = out.clone()
        out[:, state["unit"]] = 0
        return out

    out = []
    with eval_mode(model), Hooks() as hooks:
        hooks.forward(module, hook)
        base = float(loss_fn(model(x), y))
        for j in range(state["width"]):
            state["unit"] = j
            out.append(float(loss_fn(model(x), y)) - base)
    return np.array(out)


def error_detection_auc(uncertainty, wrong) -> tuple:
    """``(auc, n_wrong)``: ROC AUC of ``uncertainty`` (N,) as a detector of ``wrong`` (N,
    booleans), and how many wrong predictions there are. NaN AUC if all or none are wrong."""
    u = np.asarray(uncertainty, dtype=float).ravel()
    w = np.asarray(wrong, dtype=bool).ravel()
    if u.shape != w.shape:
        raise ValueError(f"uncertainty and wrong differ in shape: {u.shape} vs {w.shape}")
    n_wrong = int(w.sum())
    if n_wrong == 0 or n_wrong == len(w):
        return float("nan"), n_wrong
    return roc_curve(w.astype(int), u).auc, n_wrong
