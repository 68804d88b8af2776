"""Plots of :mod:`coursekit.signal_propagation`: gradient norms and singular values (layer 3)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_grad_norms_by_depth", "plot_singular_values"]


def plot_grad_norms_by_depth(norms: dict, title: str = "Weight-gradient norm by depth", ax=None):
    """One line per run: ``norms = {label: {weight name: ||dL/dW||}}`` (``weight_grad_norms``
    outputs), layer 1..L on x, the norm on a log y-axis. A log axis has no 0, so exact zeros
    (underflow) get a row of their own at the bottom, one empty decade below the smallest
    non-zero norm: marked ``x``, shaded, labelled "0" on the axis and counted in the legend.
    Returns the axes."""
    if not norms:
        raise ValueError("norms is empty: pass {label: weight_grad_norms(model, x, y)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    positive = [v for run in norms.values() for v in run.values() if v > 0]
    any_zero = any(v == 0 for run in norms.values() for v in run.values())
    low = math.floor(math.log10(min(positive))) if positive else 0
    zero_at = 10.0 ** (low - 2)                       # the zero row: below an empty decade
    for i, (label, run) in enumerate(norms.items()):
        vals = np.array(list(run.values()), dtype=float)
        layers, zero = np.arange(1, len(vals) + 1), vals == 0
        n0 = int(zero.sum())
        text = label + (f" ({n0} layer{'s' * (n0 != 1)} exactly 0)" if n0 else "")
        if not zero.all():
            ax.semilogy(layers, np.where(zero, np.nan, vals), "-o", ms=3, color=f"C{i}", label=text)
            text = None
        if n0:
            ax.semilogy(layers[zero], np.full(n0, zero_at), "x", ms=6, mew=1.5, color=f"C{i}", label=text)
    ax.set(xlabel="layer (depth, input side = 1)", ylabel="||dL/dW|| (log scale)", title=title)
    if any_zero:
        _zero_row(ax, zero_at, low, math.ceil(math.log10(max(positive))) if positive else low)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def _zero_row(ax, zero_at: float, low: int, high: int) -> None:
    """Label the row of exact zeros: shaded, ticked "0", decades ``10^low..10^high`` above it."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    step = max(1, math.ceil((high - low + 1) / 6))
    decades = list(range(low, high + 1, step))
    ax.set_ylim(zero_at / 10 ** 0.6, 10.0 ** high * 2)
    ax.axhspan(zero_at / 10 ** 0.5, zero_at * 10 ** 0.5, color="0.9", lw=0, zorder=0)
    ax.text(0.01, zero_at * 10 ** 0.55, "exactly 0 (a log axis has no 0: drawn in this row)",
            transform=ax.get_yaxis_transform(), fontsize=8, color="0.3", va="bottom")
    ax.yaxis.set_major_locator(FixedLocator([zero_at] + [10.0 ** e for e in decades]))
    ax.yaxis.set_major_formatter(FixedFormatter(["0"] + [f"$10^{{{e}}}$" for e in decades]))
    ax.yaxis.set_minor_locator(NullLocator())


def plot_singular_values(svs: dict, title: str = "Singular values of one weight matrix", ax=None,
                         bins: int = 40):
    """Histograms of singular values, one per label (``{label: array}``), on a shared axis,
    with a dotted line at each one's root mean square. Returns the axes."""
    if not svs:
        raise ValueError("svs is empty: pass {label: singular_values(weight)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    hi = max(float(np.max(s)) for s in svs.values())
    for i, (label, s) in enumerate(svs.items()):
        rms = float(np.sqrt(np.mean(np.square(s))))
        ax.hist(s, bins=bins, range=(0, hi * 1.02), alpha=0.55, color=f"C{i}",
                label=f"{label} (rms {rms:.2f})")
        ax.axvline(rms, color=f"C{i}", ls=":", lw=1.6, zorder=3)
    ax.axvline(1.0, color="0.5", lw=0.8, zorder=1)   # under the rms lines: xavier's rms is exactly 1
    ax.set(xlabel="singular value (factor by which W stretches a direction)", ylabel="count",
           title=title)
    ax.legend(fontsize=8)
    return ax
