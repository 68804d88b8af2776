"""Training curves from a ``coursekit.train.History`` (layer 3: matplotlib)."""
from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_history"]


def _get(history, name):
    if isinstance(history, dict):
        return list(history.get(name, []))
    return list(getattr(history, name, []))


def plot_history(history, title: str | None = None, axes=None, chance: float | None = None):
    """Loss (left) and accuracy (right) per epoch, train vs validation.

    history: a ``History`` (or its ``to_dict()``). axes: two matplotlib axes to draw on
    (default: a new 1x2 figure). chance: the accuracy of guessing (e.g. 1 / classes), drawn
    as a dotted line. Returns the figure. The best epoch is marked.
    """
    epochs = _get(history, "epoch")
    if not epochs:
        raise ValueError("history is empty: train with coursekit.train.fit for at least one "
                         "epoch before plotting")
    own = axes is None
    if own:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))
    else:
        if len(axes) != 2:
            raise ValueError(f"axes must be two matplotlib axes, got {len(axes)}")
        fig = axes[0].figure
    best = history.get("best_epoch") if isinstance(history, dict) else history.best_epoch
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "acc", "accuracy (%)")):
        scale = 100.0 if key == "acc" else 1.0
        for split, style in (("train", "-o"), ("val", "-s")):
            vals = np.asarray(_get(history, f"{split}_{key}"), dtype=float) * scale
            if vals.size and not np.all(np.isnan(vals)):
                ax.plot(epochs, vals, style, ms=3, label=split)
        if best is not None:
            ax.axvline(best, color="gray", ls=":", lw=1, label=f"best epoch ({best})")
        if key == "acc" and chance is not None:
            ax.axhline(100 * chance, color="0.4", ls="--", lw=1, label=f"chance ({100 * chance:.3g}%)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(("Loss" if key == "loss" else "Accuracy") + " per epoch")
        ax.grid(alpha=0.3)
        if ax.has_data() and not own:
            ax.legend()
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title)
    if own:  # one legend for both panels, below them: never over the curves
        handles, labels = axes[1].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    else:
        fig.tight_layout()
    return fig
