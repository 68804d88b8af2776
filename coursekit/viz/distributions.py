"""Histograms of weights, gradients and activations by layer (first-layer filters: ``viz.filters``)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

__all__ = ["plot_distributions"]


def plot_distributions(values: dict, title: str = "Distributions by layer", bins: int = 50,
                       xlabel: str = "value", log: bool = False, axes=None, sharex: bool = True):
    """One histogram per entry of ``values`` ``{layer: array}`` (e.g. from
    ``coursekit.monitor.weight_values``), titled with mean, std and the fraction of exact
    zeros, in rows of at most three panels; the height of a bar is the percentage of that
    entry's values in the bin, so entries of different sizes compare. With ``sharex`` (the
    default: the panels are compared) every panel has the same x range, y range and bin
    edges, so a narrower distribution looks narrower. Returns the figure."""
    if not values:
        raise ValueError("values is empty")
    from .style import grid
    n = len(values)
    arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in values.items()}
    if axes is None:
        _, axes = grid(n, ncols=3, panel=(3.6, 2.7), sharex=sharex, sharey=sharex, extra_height=0.5)
    axes = np.ravel(axes)
    if sharex:
        lo = min(v.min() for v in arrays.values())
        hi = max(v.max() for v in arrays.values())
        bins = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for ax, (name, v) in zip(axes, arrays.items()):
        ax.hist(v, bins=bins, weights=np.full(v.size, 100.0 / max(v.size, 1)), color="C0", alpha=0.8, log=log)
        ax.set_title(f"{name}\nmean {v.mean():.2g}  std {v.std():.2g}  zeros {np.mean(v == 0):.0%}  (n={v.size})",
                     fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("% of values", fontsize=8)
        ax.tick_params(labelsize=7, labelbottom=True, labelleft=True)
        ax.xaxis.set_major_locator(MaxNLocator(5))         # long tick labels (-0.075) must not touch
    for ax in axes[n:]:
        ax.axis("off")
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes[0].figure
