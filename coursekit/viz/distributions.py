"""Histograms of weights, gradients and activations by layer (first-layer filters: ``viz.filters``)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_distributions"]


def plot_distributions(values: dict, title: str = "Distributions by layer", bins: int = 50,
                       xlabel: str = "value", log: bool = False, axes=None):
    """One histogram per entry of ``values`` ``{layer: array}`` (e.g. from
    ``coursekit.monitor.weight_values``), titled with mean, std and the fraction of exact
    zeros. Returns the figure."""
    if not values:
        raise ValueError("values is empty")
    n = len(values)
    if axes is None:
        cols = min(n, 4)
        _, axes = plt.subplots(math.ceil(n / cols), cols, figsize=(3.2 * cols, 2.6 * math.ceil(n / cols)),
                               squeeze=False)
    axes = np.ravel(axes)
    for ax, (name, v) in zip(axes, values.items()):
        v = np.asarray(v, dtype=float).ravel()
        ax.hist(v, bins=bins, color="C0", alpha=0.8, log=log)
        ax.set_title(f"{name}\nmean {v.mean():.2g}  std {v.std():.2g}  zeros {np.mean(v == 0):.0%}",
                     fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("count", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes[0].figure
