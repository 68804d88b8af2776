"""Bar charts of where a model's parameters and multiply-accumulates live, layer by layer."""
from __future__ import annotations

import matplotlib.pyplot as plt

from .style import MAX_WIDTH_IN

__all__ = ["param_bars", "layer_labels"]

COLOUR_KEY = "blue: convolution, red: fully connected, grey: other"
_SHORT = {"Conv2d": "conv", "Linear": "fc", "ConvTranspose2d": "deconv", "BatchNorm2d": "bn",
          "BatchNorm1d": "bn"}


def layer_labels(rows) -> list[str]:
    """Readable names for summary rows: each kind numbered in forward order, with its output,
    e.g. ``"conv3: 128@112×112"``, ``"fc1: 4096"``, ``"bn2"`` (instead of ``features.5``)."""
    counts: dict[str, int] = {}
    labels = []
    for r in rows:
        short = _SHORT.get(r.type, r.type.lower())
        counts[short] = counts.get(short, 0) + 1
        label = f"{short}{counts[short]}"
        shape = tuple(r.output_shape)
        if short in ("conv", "deconv") and len(shape) == 3:
            label += f": {shape[0]}@{shape[1]}×{shape[2]}"
        elif short == "fc" and len(shape) == 1:
            label += f": {shape[0]}"
        labels.append(label)
    return labels


def param_bars(summary, *, log: bool = False, title: str | None = None, axes=None,
               horizontal: bool | None = None):
    """Two bar charts over the layers of ``summary`` (a :class:`coursekit.arithmetic.Summary`
    from ``summary(model, input_size)`` or ``stack_summary``): parameters (top) and
    multiply-accumulates per example (bottom), each bar named by :func:`layer_labels`
    (``conv3: 128@112×112``). Layers with neither are left out. Returns the
    figure; ``axes``: two matplotlib axes to draw on. ``log=True`` uses a log scale.

    ``horizontal`` (default: when there are more than 24 layers): horizontal bars, parameters
    (left) and multiply-accumulates (right) on a shared layer axis read top to bottom, so the
    layer names stay horizontal and readable however many layers there are.
    """
    rows = [r for r in getattr(summary, "rows", ()) if r.params or r.macs]
    if not rows:
        raise ValueError("summary has no layer with parameters or multiply-accumulates; "
                         "pass the result of coursekit.arithmetic.summary(model, input_size)")
    if horizontal is None:
        horizontal = axes is None and len(rows) > 24
    if horizontal:
        return _param_barh(summary, rows, log, title, axes)
    if axes is None:
        width = min(MAX_WIDTH_IN, max(6.0, 0.26 * len(rows) + 1.5))
        fig, axes = plt.subplots(2, 1, figsize=(width, 6.5), sharex=True)
    fig = axes[0].figure
    xs = range(len(rows))
    colors = ["#1f77b4" if r.type.startswith("Conv") else
              "#d62728" if r.type == "Linear" else "#7f7f7f" for r in rows]
    total_p, total_m = summary.total_params, summary.total_macs
    for ax, values, label, total in ((axes[0], [r.params / 1e6 for r in rows],
                                      "parameters (millions)", total_p),
                                     (axes[1], [r.macs / 1e9 for r in rows],
                                      "multiply-accumulates (billions)", total_m)):
        ax.bar(xs, values, color=colors)
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title((title or f"{summary.total_params:,} parameters, "
                       f"{summary.total_macs / 1e9:.2f} G multiply-accumulates per "
                       f"{'×'.join(map(str, summary.input_size))} input") + f"\n({COLOUR_KEY})")
    axes[1].set_xticks(list(xs), layer_labels(rows), rotation=90, fontsize=8 if len(rows) <= 36 else 7)
    axes[1].set_xlim(-0.6, len(rows) - 0.4)
    axes[1].set_xlabel("layer")
    fig.tight_layout()
    return fig


def _param_barh(summary, rows, log, title, axes):
    """:func:`param_bars` with horizontal bars: parameters (left), MACs (right), layers top to bottom."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(MAX_WIDTH_IN - 0.5, 0.19 * len(rows) + 1.6), sharey=True)
    fig = axes[0].figure
    ys = range(len(rows))
    colors = ["#1f77b4" if r.type.startswith("Conv") else
              "#d62728" if r.type == "Linear" else "#7f7f7f" for r in rows]
    for ax, values, label in ((axes[0], [r.params / 1e6 for r in rows], "parameters (millions)"),
                              (axes[1], [r.macs / 1e9 for r in rows], "multiply-accumulates (billions)")):
        ax.barh(list(ys), values, color=colors)
        ax.set_xlabel(label)
        if log:
            ax.set_xscale("log")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(list(ys), layer_labels(rows), fontsize=8)
    axes[0].set_ylim(len(rows) - 0.4, -0.6)          # first layer on top
    axes[0].set_ylabel("layer (forward order)")
    fig.suptitle(title or f"{summary.total_params:,} parameters, {summary.total_macs / 1e9:.2f} G multiply-accumulates")
    axes[0].set_title(f"parameters ({COLOUR_KEY})", fontsize=9)
    axes[1].set_title("multiply-accumulates per example", fontsize=9)
    fig.tight_layout()
    return fig
