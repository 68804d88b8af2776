"""Plots of :mod:`coursekit.signal_propagation`: gradient norms and singular values (layer 3)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_grad_norms_by_depth", "plot_singular_values"]


def plot_grad_norms_by_depth(norms: dict, title: str = "Weight-gradient norm by depth", ax=None):
    """One line per run: ``norms = {label: {weight name: ||dL/dW||}}`` (``weight_grad_norms``
    outputs), layer 1..L on x, the norm on a log y-axis. Exact zeros (underflow) are drawn at
    the bottom of the axis and counted in the legend. Returns the axes."""
    if not norms:
        raise ValueError("norms is empty: pass {label: weight_grad_norms(model, x, y)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    positive = [v for run in norms.values() for v in run.values() if v > 0]
    floor = min(positive) / 10 if positive else 1e-30
    for label, run in norms.items():
        vals = np.array(list(run.values()), dtype=float)
        zeros = int((vals == 0).sum())
        shown = np.where(vals > 0, vals, floor)
        ax.semilogy(np.arange(1, len(vals) + 1), shown, "-o", ms=3,
                    label=label + (f" ({zeros} layers exactly 0)" if zeros else ""))
    ax.set(xlabel="layer (depth, input side = 1)", ylabel="||dL/dW|| (log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


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
