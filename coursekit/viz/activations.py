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


def activations(model: nn.Module, x, layers, max_channels: int = 16, plot: bool = True) -> dict:
    """Activation maps of the first image of ``x`` at each of ``layers``.

    Returns {layer name: (N, C, h, w) array}. With ``plot``, one row per layer shows up to
    ``max_channels`` channels; dead channels (zero for every image of ``x``) are framed in
    red and counted in the row title.
    """
    acts = get_activations(model, x, layers)
    if plot:
        import matplotlib.pyplot as plt
        n = min(max_channels, max(a.shape[1] for a in acts.values()))
        fig, axes = plt.subplots(len(acts), n, figsize=(0.9 * n, 1.2 * len(acts) + 0.3), squeeze=False)
        for r, (name, a) in enumerate(acts.items()):
            dead = set(dead_channels(a).tolist())
            for c in range(n):
                ax = axes[r, c]
                ax.set_xticks([]), ax.set_yticks([])
                if c >= a.shape[1]:
                    ax.axis("off")
                    continue
                ax.imshow(a[0, c], cmap="viridis")
                if c in dead:
                    for s in ax.spines.values():
                        s.set_color("red"), s.set_linewidth(2)
            axes[r, 0].set_ylabel(name, fontsize=8)
            axes[r, 0].set_title(f"layer {name}: {a.shape[1]} channels, {len(dead)} dead (red)",
                                 fontsize=8, loc="left")
        fig.tight_layout()
    return acts
