"""Activation maps: what each channel of a layer responds to in one image."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._model import as_input
from ..torchutil import Hooks, eval_mode, get_layer, layer_name


def get_activations(model: nn.Module, x, layers) -> dict:
    """{layer name: activation array (N, C, h, w)} of ``x`` (N, C, H, W) at ``layers``
    (modules or names), under ``torch.no_grad`` in eval mode."""
    x = as_input(x, model)
    mods = [get_layer(model, l) for l in (layers if isinstance(layers, (list, tuple)) else [layers])]
    store = {}
    with eval_mode(model), torch.no_grad(), Hooks() as h:
        for m in mods:
            name = layer_name(model, m)
            h.forward(m, lambda mod, i, o, name=name: store.__setitem__(name, o.detach().clone()))
        model(x)
    return {layer_name(model, m): store[layer_name(model, m)].cpu().numpy() for m in mods}


def dead_channels(act: np.ndarray) -> np.ndarray:
    """Indices of channels that are exactly zero everywhere in ``act`` (N, C, h, w)."""
    a = np.asarray(act)
    return np.flatnonzero(np.all(a == 0, axis=(0, 2, 3)))


def _frame(ax, color, width):
    for s in ax.spines.values():
        s.set_visible(True), s.set_color(color), s.set_linewidth(width)


def activations(model: nn.Module, x, layers, max_channels: int = 16, plot: bool = True,
                cols: int = 8) -> dict:
    """Activation maps of the first image of ``x`` at each of ``layers``.

    Returns {layer name: (N, C, h, w) array}. With ``plot``, one block per layer: the input
    image first, then up to ``max_channels`` channels in rows of ``cols`` (2x8 for 16), all on
    one colour scale per layer (0 to the layer's largest value, colorbar;
    a diverging map with symmetric limits when the layer's output is signed). A dead channel
    (zero for every image of ``x``) is framed in red and titled "dead"; the block's title
    counts the layer's channels and dead channels.
    """
    acts = get_activations(model, x, layers)
    if plot:
        import matplotlib.pyplot as plt
        from .overlay import to_image
        from .style import MAX_WIDTH_IN, MIN_IMAGE_IN
        rows = [-(-min(max_channels, a.shape[1]) // cols) for a in acts.values()]
        panel = MIN_IMAGE_IN + 0.15                      # a row's height in inches
        fig = plt.figure(figsize=(min(MAX_WIDTH_IN, (cols + 1) * panel + 1.0), sum(r * panel + 0.45 for r in rows)),
                         layout="constrained")
        subs = np.atleast_1d(fig.subfigures(len(acts), 1, height_ratios=[r * panel + 0.45 for r in rows]))
        image = to_image(x[0])
        for sub, r, (name, a) in zip(subs, rows, acts.items()):
            dead = set(dead_channels(a).tolist())
            n = min(max_channels, a.shape[1])
            axes = sub.subplots(r, cols + 1, squeeze=False)
            signed = float(a[0, :n].min()) < 0          # e.g. a conv output before its ReLU
            vmax = float(np.abs(a[0, :n]).max()) or 1.0
            im = None
            for ax in axes.flat:
                ax.set_xticks([]), ax.set_yticks([])
                for s in ax.spines.values():
                    s.set_visible(False)
            axes[0, 0].imshow(image, cmap="gray" if image.ndim == 2 else None)
            axes[0, 0].set_title("input", fontsize=8)
            _frame(axes[0, 0], "0.3", 1)
            for k in range(n):
                ax = axes[k // cols, 1 + k % cols]
                im = ax.imshow(a[0, k], cmap="RdBu_r" if signed else "viridis",
                               vmin=-vmax if signed else 0, vmax=vmax)
                ax.set_title(f"ch {k}" + (" dead" if k in dead else ""), fontsize=8,
                             color="red" if k in dead else "k")
                _frame(ax, "red", 3) if k in dead else _frame(ax, "0.3", 1)
            for ax in list(axes[1:, 0]) + [axes[k // cols, 1 + k % cols] for k in range(n, r * cols)]:
                ax.axis("off")
            shown = f"{n} shown" if n < a.shape[1] else "all shown"
            sub.suptitle(f"{name}: {a.shape[1]} channels ({shown}, {a.shape[-2]}x{a.shape[-1]}), "
                         f"{len(dead)} dead (framed red)", fontsize=9, x=0.02, ha="left")
            sub.colorbar(im, ax=axes[:, 1:], shrink=0.9, fraction=0.03, pad=0.01, label="activation")
    return acts
