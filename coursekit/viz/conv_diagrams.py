"""Figures of lesson 01: 1-D signals, kernels on a photo, and why the border washes away.

The numbers come from :mod:`coursekit.nn` (the cross-correlation every CNN layer computes)
and :mod:`coursekit.arithmetic` (how many windows read each pixel); this module only draws.
"""
from __future__ import annotations

import numpy as np

from .style import grid, is_signed, show_signed, symmetric_limit

__all__ = ["plot_signals", "show_kernel_responses", "plot_border_effect", "repeated_blur"]


def plot_signals(signals: dict, xlabel: str = "position (samples)", ylabel: str = "value"):
    """One stem plot per 1-D signal ``{title: (n,) array}``, side by side on a shared y axis.

    Each title gets the signal's length. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not signals:
        raise ValueError("signals is empty: pass {title: 1-D array}")
    fig, axes = grid(len(signals), panel=(3.9, 2.8), sharey=True)
    for ax, (name, y) in zip(axes, signals.items()):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"signal {name!r} must be 1-D, got shape {y.shape}")
        ax.stem(np.arange(len(y)), y)
        ax.set(title=f"{name} ({len(y)} samples)", xlabel=xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def show_kernel_responses(image, kernels: dict, padding: int = 0):
    """The grey ``image: (H, W)`` and, for each ``{name: (k, k) kernel}``, the feature map
    of a cross-correlation (``coursekit.nn.apply_kernel``), sizes in the titles.

    Maps with both signs (edge detectors) use a diverging colormap centred on 0, on one
    shared scale clipped at the 99.5th percentile of ``|response|`` (so that ordinary edges are
    not washed out by a few extreme pixels), each with a colorbar; the others are grey. Two
    panels per row. Returns the figure.
    """
    from ..nn import apply_kernel

    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be grey (H, W), got shape {image.shape}")
    outs = {name: apply_kernel(image, np.asarray(k, dtype=float), padding=padding) for name, k in kernels.items()}
    signed = [o for o in outs.values() if is_signed(o)]
    m = float(np.percentile(np.abs(np.concatenate([o.ravel() for o in signed])), 99.5)) if signed else 1.0
    fig, axes = grid(len(kernels) + 1, ncols=2, panel=(5.4, 3.7))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title(f"input {image.shape[0]}×{image.shape[1]}")
    for ax, (name, out) in zip(axes[1:], outs.items()):
        if is_signed(out):
            show_signed(ax, out, vmax=m, label="response (red +, blue −)")
        else:
            ax.imshow(out, cmap="gray")
        ax.set_title(f"{name}: {out.shape[0]}×{out.shape[1]}")
    for ax in axes:
        ax.set(xlabel="column (pixels)", ylabel="row (pixels)")
    fig.tight_layout()
    return fig


def repeated_blur(image, kernel_size: int = 5, times: int = 6) -> np.ndarray:
    """``image: (H, W)`` after ``times`` box blurs of ``kernel_size`` (odd) with zero
    'same' padding: the zeros leak in and darken the border. Returns (H, W)."""
    from ..nn import apply_kernel

    if kernel_size % 2 != 1:
        raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}")
    out = np.asarray(image, dtype=float)
    box = np.full((kernel_size, kernel_size), 1.0 / kernel_size ** 2)
    for _ in range(times):
        out = apply_kernel(out, box, padding=kernel_size // 2)
    return out


def plot_border_effect(counts, blurred, blur_label: str = "blurred, zero padding"):
    """Two panels: ``counts: (n, n)`` how many windows read each pixel (a colorbar), and
    ``blurred: (H, W)`` an image after repeated zero-padded blurs (``repeated_blur``).

    ``counts`` is e.g. ``np.outer(c, c)`` with ``c = arithmetic.read_counts(n, k)``.
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(counts)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    im = axes[0].imshow(counts, cmap="viridis")
    for (i, j), v in np.ndenumerate(counts):
        if counts.size <= 144:
            axes[0].text(j, i, str(int(v)), ha="center", va="center", fontsize=8,
                         color="white" if v < counts.max() / 2 else "black")
    fig.colorbar(im, ax=axes[0], label="windows reading the pixel")
    n = counts.shape[0]
    axes[0].set_title(f"valid conv on {n}×{n}: how often each pixel is read")
    axes[1].imshow(blurred, cmap="gray", vmin=0, vmax=max(1.0, float(np.max(blurred))))
    axes[1].set_title(blur_label)
    for ax in axes:
        ax.set(xlabel="column (pixels)", ylabel="row (pixels)")
    fig.tight_layout()
    return fig
