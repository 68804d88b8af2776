"""Activation statistics layer by layer: capture and plot (layer 3).

:func:`layer_activations` runs a model once and keeps the output of every activation
layer (ReLU, Tanh, ... by default); :func:`activation_stats` summarizes them (mean, std,
fraction of zeros / saturated units); :func:`plot_activation_stats` draws histograms per
layer plus mean and std against depth, the plots of the weight-initialization lesson.
"""
from __future__ import annotations

from contextlib import nullcontext

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..torchutil import Hooks, model_mode

__all__ = ["layer_activations", "activation_stats", "plot_activation_stats",
           "ACTIVATION_LAYERS"]

ACTIVATION_LAYERS = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.ELU)
"""Layer types whose outputs :func:`layer_activations` captures by default."""


@torch.no_grad()
def layer_activations(model: nn.Module, x, layer_types=ACTIVATION_LAYERS,
                      train: bool | None = None) -> dict:
    """Outputs of every ``layer_types`` module of ``model`` for input ``x``.

    x: a tensor or array ``(N, ...)``. train: run in train mode (batch statistics,
    dropout active) or eval mode; default: the model's current mode (restored afterwards).
    Returns ``{"<module name>": np.ndarray (N, ...)}`` in forward order.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    p = next(model.parameters(), None)
    x = torch.as_tensor(x, dtype=p.dtype if p is not None else torch.float32,
                        device=p.device if p is not None else None)
    acts: dict = {}
    with Hooks() as hooks, (nullcontext() if train is None else model_mode(model, train)):
        for name, m in model.named_modules():
            if isinstance(m, layer_types):
                hooks.forward(m, lambda mod, i, o, name=name:
                              acts.__setitem__(name, o.detach().float().cpu().numpy()))
        model(x)
    if not acts:
        raise ValueError(f"model has no layers of type {[t.__name__ for t in layer_types]}; "
                         "pass layer_types= the layers to capture")
    return acts


def activation_stats(acts: dict) -> dict:
    """Per layer: ``mean``, ``std``, ``zero_frac`` (exactly 0) and ``saturated_frac``
    (|a| > 0.99, for tanh) as lists in depth order, plus ``names``."""
    out = {"names": list(acts), "mean": [], "std": [], "zero_frac": [], "saturated_frac": []}
    for a in acts.values():
        out["mean"].append(float(a.mean()))
        out["std"].append(float(a.std()))
        out["zero_frac"].append(float((a == 0).mean()))
        out["saturated_frac"].append(float((np.abs(a) > 0.99).mean()))
    return out


def _shared_range(arrays) -> tuple:
    """One (lo, hi) covering every array; a constant layer (e.g. zero init) gets +-0.5."""
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def plot_activation_stats(acts: dict, title: str | None = None, max_hists: int = 6,
                          bins: int = 40, fig=None, xlim=None):
    """Histograms of the activations of up to ``max_hists`` layers (evenly spread over
    depth) and mean/std against depth. acts: ``layer_activations`` output. Returns the figure.

    The histograms share one x-range (``xlim=(lo, hi)``, default: the range of all the
    layers shown), so a distribution that collapses with depth *looks* narrower, instead of
    being stretched back to full width with only its tick labels shrinking.
    """
    if not acts:
        raise ValueError("acts is empty: pass the output of layer_activations(model, x)")
    names = list(acts)
    stats = activation_stats(acts)
    picks = sorted(set(np.linspace(0, len(names) - 1, min(max_hists, len(names))).astype(int)))
    ncols = len(picks) + 1
    if fig is None:
        fig = plt.figure(figsize=(2.3 * ncols + 1.5, 3.0))
    else:
        fig.clear()
    axes = fig.subplots(1, ncols, gridspec_kw={"width_ratios": [1] * len(picks) + [1.6]})
    lo, hi = xlim if xlim is not None else _shared_range([acts[names[i]] for i in picks])
    for ax, i in zip(axes, picks):
        a = acts[names[i]].ravel()
        ax.hist(a, bins=bins, range=(lo, hi), color="C0")
        ax.set_xlim(lo, hi)
        ax.set_title(f"layer {i + 1}\nmean {stats['mean'][i]:.2g}, std {stats['std'][i]:.2g}",
                     fontsize=8)
        ax.set_xlabel("activation value", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("count")
    depth = np.arange(1, len(names) + 1)
    ax = axes[-1]
    ax.plot(depth, stats["mean"], "-o", ms=3, label="mean")
    ax.plot(depth, stats["std"], "-s", ms=3, label="std")
    ax.set_xlabel("layer (depth)")
    ax.set_ylabel("activation statistic")
    ax.set_title("Mean and std by depth", fontsize=9)
    ax.axhline(0, color="gray", lw=0.5)
    ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
