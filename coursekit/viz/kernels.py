"""Draw a convolution on an image: input, kernel (with its numbers) and output, with shapes."""
from __future__ import annotations

import numpy as np

from .style import MAX_WIDTH_IN


def show_convolution(image, kernel, output, title: str | None = None, axes=None,
                     diverging: bool | None = None):
    """Three panels: grey input (H, W), the kernel (kh, kw) annotated, the output (Ho, Wo).

    diverging: colour the output with a red-blue map centred on 0 (default: when the
    output has both signs, e.g. edge detectors). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    image, kernel, output = np.asarray(image), np.asarray(kernel), np.asarray(output)
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.8),
                                 gridspec_kw={"width_ratios": [4, 1.6, 4]})
    else:
        fig = axes[0].figure
    ax_in, ax_k, ax_out = axes
    ax_in.imshow(image, cmap="gray")
    ax_in.set_title(f"input {image.shape[0]}x{image.shape[1]}")
    lim = np.abs(kernel).max() or 1.0
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if kernel.size <= 49:
        for (i, j), v in np.ndenumerate(kernel):
            ax_k.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=9,
                      color="white" if abs(v) > 0.6 * lim else "black")
    ax_k.set_title(f"kernel {kernel.shape[0]}x{kernel.shape[1]}")
    if diverging is None:
        diverging = output.min() < 0 < output.max()
    if diverging:
        m = np.abs(output).max() or 1.0
        im = ax_out.imshow(output, cmap="RdBu_r", vmin=-m, vmax=m)
    else:
        im = ax_out.imshow(output, cmap="gray")
    ax_out.set_title(f"output {output.shape[0]}x{output.shape[1]}")
    fig.colorbar(im, ax=ax_out, fraction=0.046, label="activation")
    for ax in axes:
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    ax_k.set_xlabel("j")
    ax_k.set_ylabel("i")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_feature_maps(maps, title: str = "feature maps", max_maps: int = 16, cols: int = 8,
                      diverging: bool | None = None, label: str = "activation", names=None):
    """Grid of the channels of ``maps: (C, H, W)`` (one image's activations, or filters), on
    one shared colour scale with a colorbar.

    diverging: a red-blue map centred on 0 (default: when the maps have both signs, e.g.
    filters or edge responses; red positive, blue negative), else viridis. ``label`` names
    the colorbar; ``names`` titles the panels (default ``channel k``). Returns the Figure.
    """
    import matplotlib.pyplot as plt

    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (C, H, W), got shape {maps.shape}")
    n = min(len(maps), max_maps)
    cols = min(cols, n, int((MAX_WIDTH_IN - 1.2) // 1.5))   # 1.5 in per panel, 1.2 in for the colorbar
    rows = -(-n // cols)
    cols = -(-n // rows)                                     # balanced rows: 8 maps as 2x4, not 7 + 1
    shown = maps[:n]
    if diverging is None:
        diverging = bool(shown.min() < 0 < shown.max())
    if diverging:
        m = float(np.abs(shown).max()) or 1.0
        style = dict(cmap="RdBu_r", vmin=-m, vmax=m)
    else:
        style = dict(cmap="viridis", vmin=float(shown.min()), vmax=float(shown.max()))
    side = min(2.4, (MAX_WIDTH_IN - 1.2) / cols)              # panel side (in): large when there are few maps
    fig, axes = plt.subplots(rows, cols, figsize=(side * cols + 1.2, (side + 0.15) * rows + 0.4), squeeze=False)
    im = None
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            im = ax.imshow(shown[k], **style)
            ax.set_title(names[k] if names is not None else f"channel {k}", fontsize=8)
    fig.suptitle(f"{title} ({maps.shape[0]} x {maps.shape[1]}x{maps.shape[2]})")
    fig.tight_layout()
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.85, label=label)
    return fig
