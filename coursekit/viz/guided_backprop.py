"""Guided backpropagation (Springenberg et al. 2015): the input gradient, but every ReLU
passes back only positive gradients where its input was positive. Sharp, image-like maps
-- which the sanity checks show depend little on the upper layers' weights."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..torchutil import Hooks, eval_mode
from ._model import as_input, as_targets
from .saliency import input_gradient, reduce_channels


class _GuidedGate(torch.autograd.Function):
    """Identity forward; backward lets only positive gradients through."""

    @staticmethod
    def forward(ctx, y):
        return y.clone()

    @staticmethod
    def backward(ctx, g):
        return g.clamp(min=0)


def _gate(module, inputs, output):
    # Placed after a ReLU: the ReLU's own backward masks by (input > 0), the gate by
    # (grad > 0). Works for in-place ReLU too: only the output is used.
    return _GuidedGate.apply(output)


def guided_backprop(model: nn.Module, x, target=None, reduce: str | None = None) -> np.ndarray:
    """Guided-backprop attribution of ``target`` for ``x`` (N, C, H, W); returns (N, C, H, W),
    or (N, H, W) with ``reduce="max"``/``"abs"`` (as :func:`coursekit.viz.saliency.saliency`).

    Only ``nn.ReLU`` modules are modified (as in captum): ReLUs called as functions inside
    ``forward`` (``F.relu``) stay plain and the result then equals ordinary gradients there.
    Pass ``reduce="max"`` for a heat map (max |g| over channels).
    """
    x = as_input(x, model)
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("guided_backprop needs nn.ReLU modules in the model; "
                         "F.relu calls cannot be hooked -- use nn.ReLU layers")
    with eval_mode(model):
        with torch.no_grad():
            t = as_targets(target, model(x))
        with Hooks() as h:
            for m in relus:
                h.forward(m, _gate)
            g = input_gradient(model, x, t)
    return reduce_channels(g, reduce).cpu().numpy()
