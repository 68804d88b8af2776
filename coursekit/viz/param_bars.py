"""Bar charts of where a model's parameters and multiply-accumulates live, layer by layer."""
from __future__ import annotations

import matplotlib.pyplot as plt

from .style import MAX_WIDTH_IN

__all__ = ["param_bars", "layer_labels"]

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


def param_bars(summary, *, log: bool = False, title: str | None = None, axes=None):
    """Two bar charts over the layers of ``summary`` (a :class:`coursekit.arithmetic.Summary`
    from ``summary(model, input_size)`` or ``stack_summary``): parameters (top) and
    multiply-accumulates per example (bottom), each bar named by :func:`layer_labels`
    (``conv3: 128@112×112``). Layers with neither are left out. Returns the
    figure; ``axes``: two matplotlib axes to draw on. ``log=True`` uses a log scale.
    """
    rows = [r for r in getattr(summary, "rows", ()) if r.params or r.macs]
    if not rows:
        raise ValueError("summary has no layer with parameters or multiply-accumulates; "
                         "pass the result of coursekit.arithmetic.summary(model, input_size)")
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
    axes[0].set_title(title or f"{summary.total_params:,} parameters, "
                      f"{summary.total_macs / 1e9:.2f} G multiply-accumulates per "
                      f"{'×'.join(map(str, summary.input_size))} input\n"
                      "(blue: convolution, red: fully connected)")
    axes[1].set_xticks(list(xs), layer_labels(rows), rotation=90, fontsize=8 if len(rows) <= 36 else 7)
    axes[1].set_xlim(-0.6, len(rows) - 0.4)
    axes[1].set_xlabel("layer")
    fig.tight_layout()
    return fig
