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


def _grey(img) -> np.ndarray:
    """(H, W, 3) or (H, W) image in [0, 1] -> (H, W) luminance."""
    return img if img.ndim == 2 else img @ np.array([0.299, 0.587, 0.114])


def _magnitude(m) -> np.ndarray:
    """An attribution (H, W) or (C, H, W) -> (H, W): max |.| over channels for (C, H, W)."""
    m = np.asarray(m, dtype=np.float64)
    return np.abs(m).max(0) if m.ndim == 3 else m


def overlay(image, heatmap, ax=None, alpha: float = 0.6, cmap: str = "inferno", title=None):
    """Draw ``heatmap`` (H, W) over ``image`` (C, H, W) on ``ax``; returns the axes.

    The image is drawn in grey (its colours would mix with the map's); the heat map,
    normalized to [0, 1] for display only (the values are not changed), on top with
    transparency ``alpha``. A (C, H, W) attribution is reduced to max |.| over channels.
    """
    import matplotlib.pyplot as plt
    img = to_image(image)
    hm = _magnitude(heatmap)
    if hm.shape != img.shape[:2]:
        raise ValueError(f"heatmap shape {hm.shape} must match the image size {img.shape[:2]}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(_grey(img), cmap="gray", vmin=0, vmax=1)
    ax.imshow(normalize_map(hm), cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_attributions(images, maps: dict, titles=None, masks=None, cmap: str = "inferno",
                      size: float = 1.45):
    """Grid: one row per image, first column the image, then one map per method.

    ``images``: (N, C, H, W); ``maps``: {method name: (N, H, W) or (N, C, H, W) array};
    ``masks``: optional (N, H, W) object masks, outlined in cyan on every panel. Every method
    is drawn the same way: a (C, H, W) map reduced to max |.| over channels, each map scaled
    to [0, 1] (its own min to its own max), one colour map and one colorbar for all. Without
    ``masks`` the maps are drawn over the grey image (:func:`overlay`). Returns the figure.
    """
    import matplotlib.pyplot as plt
    from .style import MAX_WIDTH_IN
    images = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    n, k = len(images), len(maps)
    size = min(size, (MAX_WIDTH_IN - 1.0) / (k + 1))
    fig, axes = plt.subplots(n, k + 1, figsize=(size * (k + 1) + 1.0, size * n + 0.5), squeeze=False,
                             layout="constrained")
    im = None
    for i in range(n):
        img = to_image(images[i])
        axes[i, 0].imshow(img, cmap="gray" if img.ndim == 2 else None)
        axes[i, 0].set_title(titles[i] if titles is not None else "input", fontsize=9)
        for j, (name, m) in enumerate(maps.items()):
            ax = axes[i, j + 1]
            if masks is None:
                overlay(images[i], m[i], ax=ax, cmap=cmap)
                im = ax.images[-1]
            else:
                im = ax.imshow(normalize_map(_magnitude(m[i])), cmap=cmap, vmin=0, vmax=1)
            ax.set_title(name, fontsize=9)
        for ax in axes[i]:
            ax.set_xticks([]), ax.set_yticks([])
            if masks is not None:
                ax.contour(np.asarray(masks[i], dtype=float), levels=[0.5], colors="cyan", linewidths=1)
    what = "object outline in cyan; " if masks is not None else ""
    fig.suptitle(f"Attribution maps ({what}each map scaled from its own minimum to its own maximum)", fontsize=10)
    fig.colorbar(im, ax=axes[:, 1:], fraction=0.03, pad=0.02, label="attribution (0 = map's min, 1 = max)")
    return fig
