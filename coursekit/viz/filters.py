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


def filters(model: nn.Module, layer=None, max_filters: int = 32, max_channels: int = 8,
            vmax: float | None = None, title: str | None = None):
    """Plot the weights of conv ``layer`` (default: the first conv); returns the figure.

    - 3 input channels (first layer): each filter (3, k, k) as one RGB patch, scaled to
      [0, 1] per filter, in rows of 8.
    - 1 input channel: each filter (k, k) in rows of 8, in a diverging map (red > 0 > blue)
      with limits ``±vmax`` shared by all filters (default the largest |weight|; pass the same
      ``vmax`` to compare two models), and a colorbar.
    - otherwise: one row per filter (up to ``max_filters``), one column per input channel (up
      to ``max_channels``), same diverging map and colorbar.
    ``title`` replaces the default title.
    """
    import matplotlib.pyplot as plt
    from .style import DIVERGING, MIN_IMAGE_IN, grid, symmetric_limit
    conv = _first_conv(model) if layer is None else get_layer(model, layer)
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"layer must be an nn.Conv2d, got {type(conv).__name__}")
    w = conv.weight.detach().cpu().numpy()[:max_filters]          # (F, C, k, k)
    f, k = len(w), f"{w.shape[2]}x{w.shape[3]}"
    panel = (MIN_IMAGE_IN + 0.15, MIN_IMAGE_IN + 0.35)
    if w.shape[1] == 3:
        fig, axes = grid(f, ncols=8, panel=panel, extra_height=0.3, layout="constrained")
        for i, ax in enumerate(axes):
            p = w[i].transpose(1, 2, 0)
            ax.imshow((p - p.min()) / (p.max() - p.min() + 1e-12), interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"filter {i}", fontsize=8)
        fig.suptitle(title or f"{f} RGB filters {k} (each scaled to [0, 1])", fontsize=10)
        return fig
    v = vmax if vmax is not None else symmetric_limit(w)
    if w.shape[1] == 1:
        fig, axes = grid(f, ncols=8, panel=panel, extra_width=1.0, extra_height=0.3, layout="constrained")
        cells = [(ax, w[i, 0], f"filter {i}") for i, ax in enumerate(axes)]
        what = f"{f} filters {k}, one input channel"
    else:
        c = min(w.shape[1], max_channels)
        fig, axes = plt.subplots(f, c, figsize=(panel[0] * c + 1.2, panel[0] * f + 0.6), squeeze=False,
                                 layout="constrained")
        cells = [(axes[i, j], w[i, j], None) for i in range(f) for j in range(c)]
        for i in range(f):
            axes[i, 0].set_ylabel(f"filter {i}", fontsize=8)
        for j in range(c):
            axes[0, j].set_title(f"input ch. {j}", fontsize=8)
        what = f"filters (rows) x input channels (columns), {k}"
    for ax, a, t in cells:
        im = ax.imshow(a, cmap=DIVERGING, vmin=-v, vmax=v, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        if t:
            ax.set_title(t, fontsize=8)
    fig.suptitle(title or what, fontsize=10)
    fig.colorbar(im, ax=list(np.ravel(axes)), fraction=0.03, pad=0.02, label="weight (red > 0 > blue)")
    return fig
