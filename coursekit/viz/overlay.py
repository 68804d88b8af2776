"""Drawing attributions: a heat map over its image, and a grid of methods x images."""
from __future__ import annotations

import numpy as np


def to_image(x) -> np.ndarray:
    """One image (C, H, W) tensor/array -> (H, W, C) or (H, W) float array in [0, 1]."""
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if a.ndim == 4:
        a = a[0]
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    lo, hi = float(a.min()), float(a.max())
    if lo < 0 or hi > 1:
        a = (a - lo) / (hi - lo + 1e-12)
    return a


def normalize_map(m) -> np.ndarray:
    """A heat map scaled to [0, 1] (constant maps become zeros)."""
    m = np.asarray(m, dtype=np.float64)
    lo, hi = m.min(), m.max()
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def overlay(image, heatmap, ax=None, alpha: float = 0.5, cmap: str = "jet", title=None):
    """Draw ``heatmap`` (H, W) over ``image`` (C, H, W) on ``ax``; returns the axes.

    The heat map is normalized to [0, 1] for display only (the values are not changed).
    """
    import matplotlib.pyplot as plt
    img = to_image(image)
    hm = np.asarray(heatmap)
    if hm.ndim == 3:                       # (C, H, W) attribution: max |.| over channels
        hm = np.abs(hm).max(0)
    if hm.shape != img.shape[:2]:
        raise ValueError(f"heatmap shape {hm.shape} must match the image size {img.shape[:2]}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
    ax.imshow(normalize_map(hm), cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_attributions(images, maps: dict, titles=None, alpha: float = 0.5, size: float = 2.0):
    """Grid: one row per image, first column the image, then one overlay per method.

    ``images``: (N, C, H, W); ``maps``: {method name: (N, H, W) or (N, C, H, W) array}.
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    images = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    n, k = len(images), len(maps)
    fig, axes = plt.subplots(n, k + 1, figsize=(size * (k + 1), size * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(to_image(images[i]), cmap="gray" if images.shape[1] == 1 else None)
        axes[i, 0].set_xticks([]), axes[i, 0].set_yticks([])
        axes[i, 0].set_title(titles[i] if titles is not None else "input", fontsize=9)
        for j, (name, m) in enumerate(maps.items()):
            a = m[i]
            if a.ndim == 3 and name.lower().startswith("guided"):
                axes[i, j + 1].imshow(to_image(a), cmap="gray" if a.shape[0] == 1 else None)
                axes[i, j + 1].set_xticks([]), axes[i, j + 1].set_yticks([])
                axes[i, j + 1].set_title(name, fontsize=9)
            else:
                overlay(images[i], a, ax=axes[i, j + 1], alpha=alpha, title=name)
    fig.suptitle("Attribution maps (red = most important; each map scaled to its own max)",
                 fontsize=10)
    fig.tight_layout()
    return fig
