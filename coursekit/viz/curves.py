"""Training curves for diagnosis: LR finder, noisy step losses, update/weight ratios."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import chance_line, log_ticks

__all__ = ["smooth", "plot_lr_finder", "plot_step_losses", "plot_update_ratios",
           "plot_train_val_gap", "plot_step_update_ratios", "plot_loss_views"]


def smooth(values, beta: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average of a 1-D sequence (what TensorBoard shows)."""
    v = np.asarray(values, dtype=float)
    out, avg = np.empty_like(v), 0.0
    for i, x in enumerate(v):
        avg = beta * avg + (1 - beta) * x
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def plot_lr_finder(result, ax=None):
    """Loss against learning rate (log axis) from ``coursekit.lr_finder.lr_find``, raw and
    smoothed, with the suggested rate marked. Returns the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.plot(result.lrs, result.losses, color="0.75", lw=1, label="loss per step")
    ax.plot(result.lrs, result.smoothed, lw=2, label="smoothed")
    ax.axvline(result.suggestion, color="C3", ls="--", label=f"suggestion {result.suggestion:.1e}")
    ax.axvline(result.min_lr, color="C2", ls=":", label=f"lowest loss {result.min_lr:.1e}")
    ax.set_xscale("log")
    top = np.nanmax(result.smoothed[: max(3, len(result.smoothed) // 3)]) * 1.5
    ax.set_ylim(max(0.0, np.nanmin(result.losses) * 0.8), top)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("LR range test: the loss as the learning rate grows each step")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def plot_step_losses(step_losses: dict, beta: float = 0.95, ax=None, xlabel="optimizer step",
                     epochs: float | None = None):
    """Per-step training losses ``{label: sequence}`` (e.g. ``History.step_loss`` for several
    batch sizes): faint raw curves and a smoothed line each; the band width is the noise of
    the gradient estimate. With ``epochs`` (runs of different batch sizes over the same data)
    the x axis is the epoch, so runs with different numbers of steps span the same range.
    The legend sits below the axes, off the curves. Returns the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    for i, (label, losses) in enumerate(step_losses.items()):
        v = np.asarray(losses, dtype=float)
        x = np.arange(1, len(v) + 1) * (epochs / len(v)) if epochs else np.arange(len(v))
        ax.plot(x, v, color=f"C{i}", alpha=0.3, lw=0.8)
        ax.plot(x, smooth(v, beta), color=f"C{i}", lw=2,
                label=f"{label} (std of step-to-step change {np.std(np.diff(v)):.3f})")
    ax.set_xlabel("epoch" if epochs else xlabel)
    ax.set_ylabel("training loss")
    ax.set_title("Loss per step: raw (faint) and smoothed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2 if len(step_losses) > 2 else 1,
              frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def plot_update_ratios(histories: dict, ax=None, healthy=(1e-3, 1e-2)):
    """Per-layer update/weight ratio per epoch from ``History.update_ratio``, for one or
    more runs ``{label: history}`` (log axis, the lectures' healthy band 1e-3..1e-2 shaded).
    Returns the figure."""
    if not isinstance(histories, dict):
        histories = {"": histories}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    styles = ["-", "--", ":", "-."]
    for i, (label, h) in enumerate(histories.items()):
        ratios = h["update_ratio"] if isinstance(h, dict) else h.update_ratio
        for j, (layer, vals) in enumerate(ratios.items()):
            ax.plot(np.arange(1, len(vals) + 1), vals, styles[j % 4], color=f"C{i}", marker="o",
                    ms=3, label=f"{label} {layer}".strip())
    ax.axhspan(*healthy, color="C2", alpha=0.1, label=f"healthy band ({healthy[0]:.0e}..{healthy[1]:.0e})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("||update|| / ||weights||")
    ax.set_title("Update/weight ratio per layer")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    ax.figure.tight_layout()
    return ax.figure


def _gap_text(train: float, val: float, metric: str) -> str:
    """The final gap *with its sign*: train minus validation (negative: validation is higher)."""
    if metric == "acc":
        return f"final gap (train − val) {(train - val) * 100:+.1f} points"
    return f"final gap (train − val) {train - val:+.3f}"


def plot_train_val_gap(histories: dict, metric: str = "acc", axes=None, chance: float | None = None):
    """Train (solid) vs validation (dashed) curves for several runs ``{label: History}`` (or
    dicts with ``train_<metric>`` and ``val_<metric>`` lists), one panel each, sharing the
    y axis, titled with the final gap train − val *with its sign* (a negative gap means the
    validation score is the higher one): a big positive accuracy gap = overfitting, both low =
    underfitting. The panels share the x axis too: a run of fewer epochs ends early. ``chance``
    (a fraction, e.g. 0.1 for 10 classes) draws the chance level. Returns the figure."""
    n = len(histories)
    if n == 0:
        raise ValueError("histories is empty")
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(min(12.0, 3.9 * n), 3.6), squeeze=False, sharex=True, sharey=True)
        axes = axes[0]
    for ax, (label, h) in zip(axes, histories.items()):
        get = (lambda k: h[k]) if isinstance(h, dict) else (lambda k: getattr(h, k))
        tr, va = np.asarray(get(f"train_{metric}")), np.asarray(get(f"val_{metric}"))
        scale = 100 if metric == "acc" else 1
        ep = np.arange(1, len(tr) + 1)
        ax.plot(ep, tr * scale, "-o", ms=3, label="train")
        ax.plot(ep, va * scale, "--s", ms=3, label="val")
        if chance is not None:
            chance_line(ax, chance * scale)
        ax.set_title(f"{label}\n{_gap_text(tr[-1], va[-1], metric)}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)" if metric == "acc" else metric)
        if metric == "acc":
            ax.set_ylim(0, 102)
        ax.grid(alpha=0.3)
        ax.tick_params(labelleft=True)
    fig = axes[0].figure
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def plot_step_update_ratios(histories: dict, steps: int = 300, healthy=(1e-3, 1e-2), axes=None):
    """Per-step update/weight ratio of every layer over the first ``steps`` steps
    (``History.step_update_ratio``), one panel per run ``{label: history}``, shared log y
    axis, the healthy band shaded. Zeros (a layer that no longer moves) are drawn at the
    bottom of the axis. Returns the figure."""
    n = len(histories)
    if n == 0:
        raise ValueError("histories is empty")
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(min(12.0, 3.9 * n), 3.8), squeeze=False, sharex=True, sharey=True)
        axes = axes[0]
    floor = 1e-7
    for ax, (label, h) in zip(axes, histories.items()):
        ratios = h["step_update_ratio"] if isinstance(h, dict) else h.step_update_ratio
        if not ratios:
            raise ValueError(f"{label}: no per-step ratios; train with coursekit.train.fit")
        for j, (layer, vals) in enumerate(ratios.items()):
            v = np.maximum(np.asarray(vals[:steps], dtype=float), floor)
            ax.plot(np.arange(1, len(v) + 1), v, lw=1, color=f"C{j}", label=layer)
        ax.axhspan(*healthy, color="C2", alpha=0.12, label=f"band {healthy[0]:.0e}..{healthy[1]:.0e}")
        ax.set_yscale("log")
        log_ticks(ax, "y")
        ax.tick_params(labelleft=True)                 # every panel labelled, though the axis is shared
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("||update|| / ||weights|| (per step)")
    fig = axes[0].figure
    fig.suptitle(f"Update/weight ratio of each layer, first {steps} steps")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    return fig


def plot_loss_views(curves: dict, axes=None, title: str | None = None, chance: float | None = None):
    """Loss (left) and accuracy (right) per epoch for several measurements of the same run,
    ``{"loss": {name: [...]}, "acc": {name: [...]}}`` (e.g. from
    ``coursekit.monitor.loss_three_ways``). ``chance`` (a fraction) draws the chance accuracy.
    Returns the figure."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, key, ylabel in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "acc", "accuracy (%)")):
        for i, (name, vals) in enumerate(curves[key].items()):
            v = np.asarray(vals, dtype=float) * (100 if key == "acc" else 1)
            ax.plot(np.arange(1, len(v) + 1), v, "-o", ms=3, color=f"C{i}", label=name)
        if key == "acc" and chance is not None:
            chance_line(ax, 100 * chance)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)   # off the curves
    axes[0].set_title("Loss per epoch")
    axes[1].set_title("Accuracy per epoch")
    if title:
        axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes[0].figure
