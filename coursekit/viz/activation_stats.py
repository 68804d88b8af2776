"""Activation statistics layer by layer: capture and plot (layer 3).

:func:`layer_activations` runs a model once and keeps the output of every activation
layer (ReLU, Tanh, ... by default); :func:`activation_stats` summarizes them (mean, std,
fraction of zeros / saturated units); :func:`plot_activation_stats` draws histograms per
layer plus the std against depth (:func:`plot_std_by_depth`), the plots of the weight-initialization lesson.
"""
from __future__ import annotations

from contextlib import nullcontext

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..torchutil import Hooks, model_mode

__all__ = ["layer_activations", "activation_stats", "plot_activation_stats", "plot_std_by_depth",
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
    """Histograms of the activations of up to ``max_hists`` layers (evenly spread over depth;
    rows of three) and, at the right, the std against depth on a log scale. acts:
    ``layer_activations`` output. Returns the figure.

    The histograms share one x-range (``xlim=(lo, hi)``, default: the range of all the layers
    shown) and one y-range (the fraction of a layer's activations per bin), so a distribution
    that collapses with depth *looks* collapsed: a spike at 0, not a bell curve stretched back
    to full width. The log-scale std shows how fast it collapses (layer means are in the titles).
    """
    if not acts:
        raise ValueError("acts is empty: pass the output of layer_activations(model, x)")
    names = list(acts)
    stats = activation_stats(acts)
    picks = sorted(set(np.linspace(0, len(names) - 1, min(max_hists, len(names))).astype(int)))
    ncols = min(3, len(picks))
    nrows = -(-len(picks) // ncols)
    size = (2.6 * ncols + 3.8, 2.3 * nrows + 0.8)
    if fig is None:
        fig = plt.figure(figsize=size)
    else:
        fig.clear()
        fig.set_size_inches(*size)
    gs = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1] * ncols + [1.45])
    lo, hi = xlim if xlim is not None else _shared_range([acts[names[i]] for i in picks])
    axes, first = [], None
    for k, i in enumerate(picks):
        ax = fig.add_subplot(gs[k // ncols, k % ncols], sharex=first, sharey=first)
        first = first or ax
        a = np.asarray(acts[names[i]]).ravel()
        ax.hist(a, bins=bins, range=(lo, hi), color="C0", weights=np.full(a.size, 1 / max(a.size, 1)))
        ax.set_title(f"layer {i + 1}: mean {stats['mean'][i]:.2g}, std {stats['std'][i]:.2g}", fontsize=8)
        if k // ncols == nrows - 1 or k + ncols >= len(picks):
            ax.set_xlabel("activation value", fontsize=8)
        if k % ncols == 0:
            ax.set_ylabel("fraction per bin", fontsize=8)
        ax.tick_params(labelsize=7)
        axes.append(ax)
    first.set_xlim(lo, hi)
    ax = fig.add_subplot(gs[:, -1])
    plot_std_by_depth({"std": stats["std"]}, ax=ax, legend=False)
    ax.set_title("std by depth (log scale)", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_std_by_depth(stds: dict, predictions: dict | None = None, ax=None, legend: bool = True):
    """The activations' std against depth on a log y-axis, one line per ``{label: [std per
    layer]}`` (``activation_stats(acts)["std"]``), and dashed ``predictions`` (same form).
    Exact zeros are left out (a log axis cannot show them). The axis spans at least two
    decades, so that a slow drift (He: 0.8 to 0.7) is not stretched into a steep fall.
    Returns the axes."""
    from .style import legend_outside, log_ticks

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6))
    for k, (label, s) in enumerate(stds.items()):
        s = np.asarray(s, dtype=float)
        depth = np.arange(1, len(s) + 1)
        ax.plot(depth[s > 0], s[s > 0], "-o", ms=3, color=f"C{k}", label=label)
    for k, (label, s) in enumerate((predictions or {}).items()):
        s = np.asarray(s, dtype=float)
        ax.plot(np.arange(1, len(s) + 1), s, "--", color="0.35", lw=1, label=label)
    ax.set_yscale("log")
    shown = np.concatenate([np.asarray(v, dtype=float) for v in [*stds.values(), *(predictions or {}).values()]])
    shown = shown[shown > 0]
    if shown.size:
        lo, hi = float(shown.min()), float(shown.max())
        ax.set_ylim(min(lo, hi / 100) / 1.5, hi * 1.5)
    log_ticks(ax, "y")
    ax.set(xlabel="layer (depth)", ylabel="activation std (log scale)")
    ax.grid(alpha=0.3, which="major")
    if legend:
        legend_outside(ax)
    return ax
