"""Looking at learned filters: first-layer RGB filters as colour patches, deeper filters
one input channel at a time."""
from __future__ import annotations

import numpy as np
from torch import nn

from ..torchutil import get_layer


def _first_conv(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise ValueError("the model has no nn.Conv2d layer")


def filters(model: nn.Module, layer=None, max_filters: int = 32, max_channels: int = 8):
    """Plot the weights of conv ``layer`` (default: the first conv); returns the figure.

    - 3 input channels (first layer): each filter (3, k, k) as one RGB patch, scaled to
      [0, 1] per filter.
    - otherwise: a grid, one row per filter (up to ``max_filters``), one column per input
      channel (up to ``max_channels``), grey scale with a symmetric range.
    """
    import matplotlib.pyplot as plt
    conv = _first_conv(model) if layer is None else get_layer(model, layer)
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"layer must be an nn.Conv2d, got {type(conv).__name__}")
    w = conv.weight.detach().cpu().numpy()[:max_filters]          # (F, C, k, k)
    f = len(w)
    if w.shape[1] == 3:
        cols = min(8, f)
        rows = int(np.ceil(f / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows + 0.4), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for i in range(f):
            p = w[i].transpose(1, 2, 0)
            p = (p - p.min()) / (p.max() - p.min() + 1e-12)
            axes.flat[i].imshow(p, interpolation="nearest")
            axes.flat[i].set_title(str(i), fontsize=7)
        fig.suptitle(f"{f} RGB filters {w.shape[2]}x{w.shape[3]} (each scaled to [0, 1])", fontsize=10)
    else:
        c = min(w.shape[1], max_channels)
        fig, axes = plt.subplots(f, c, figsize=(0.8 * c + 0.6, 0.8 * f + 0.4), squeeze=False)
        v = np.abs(w).max()
        for i in range(f):
            for j in range(c):
                ax = axes[i, j]
                ax.imshow(w[i, j], cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
                ax.set_xticks([]), ax.set_yticks([])
                if j == 0:
                    ax.set_ylabel(f"f{i}", fontsize=7)
                if i == 0:
                    ax.set_title(f"in {j}", fontsize=7)
        fig.suptitle(f"filters (rows) x input channels (cols), red > 0 > blue", fontsize=10)
    fig.tight_layout()
    return fig
