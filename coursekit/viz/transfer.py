"""Pictures of lesson 15's measurements (``coursekit.transfer`` computes them): the 2x2 table
as grouped bars, and the linear probe of every backbone stage, pretrained vs random init."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..transfer import EXTRACTION, FINETUNE, HANDCRAFTED, SCRATCH, TARGETS
from .style import chance_line, grid

__all__ = ["plot_two_by_two", "plot_stage_probes"]


def _seeds(cell: dict, methods) -> int:
    """How many seeds the cell's spreads summarise (the largest ``n`` among ``methods``)."""
    return max(len(getattr(cell[m], "values", ()) or ()) for m in methods) or 1


def plot_two_by_two(results: dict, methods=(HANDCRAFTED, EXTRACTION, FINETUNE, SCRATCH),
                    chance: dict | None = None):
    """Grouped bars (mean, error bar = std over seeds) of ``transfer.two_by_two``'s results
    ``{(dataset, size): {method: Spread}}``: one panel per target data set, one group per data
    size, shared accuracy axis, chance (``{dataset: level}``) dotted; the legend below the
    panels. Returns the figure."""
    datasets = list(dict.fromkeys(d for d, _ in results))
    sizes = list(dict.fromkeys(s for _, s in results))
    fig, axes = grid(len(datasets), panel=(5.0, 3.6), sharey=True, extra_height=0.9)
    width = 0.8 / len(methods)
    for ax, ds in zip(axes, datasets):
        for j, m in enumerate(methods):
            means = [results[(ds, s)][m].mean for s in sizes]
            stds = [results[(ds, s)][m].std for s in sizes]
            ax.bar(np.arange(len(sizes)) + (j - (len(methods) - 1) / 2) * width, means, width,
                   yerr=stds, capsize=3, color=f"C{j}", label=m)
        if chance and ds in chance:
            chance_line(ax, chance[ds])
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels([f"{s}\n({results[(ds, s)]['images']} images)" for s in sizes])
        ax.set_title(f"target: {ds} ({TARGETS.get(ds, '')} data)", fontsize=10)
        ax.set_ylim(0, 1)
        ax.tick_params(labelleft=True)
    n = _seeds(results[(datasets[0], sizes[0])], methods)
    axes[0].set_ylabel(f"test accuracy (mean ± std, n={n} seeds)")
    handles, labels = axes[0].get_legend_handles_labels()
    if chance:      # the chance levels differ per panel: name them once, without the value
        labels = [("chance (1 / classes)" if l.startswith("chance") else l) for l in labels]
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    return fig


def plot_stage_probes(results: dict, chance: dict | None = None):
    """Linear-probe accuracy per backbone stage, pretrained (solid) vs random init (dashed),
    one panel per cell of the 2x2 table in a 2x2 grid (shared axes), chance
    (``{dataset: level}``) dotted. Returns the figure."""
    cells = list(results)
    stages = [m for m in results[cells[0]] if m.startswith("stage ")]
    fig, axes = grid(len(cells), ncols=2, panel=(4.4, 2.9), sharex=True, sharey=True, extra_height=0.8)
    for ax, c in zip(axes, cells):
        for prefix, style, color in (("", "o-", "C1"), ("random init: ", "s--", "0.4")):
            sp = [results[c][prefix + s] for s in stages]
            ax.errorbar(range(len(stages)), [v.mean for v in sp], yerr=[v.std for v in sp], fmt=style,
                        color=color, capsize=3, label=("pretrained" if not prefix else "random init"))
        if chance and c[0] in chance:
            chance_line(ax, chance[c[0]], label="chance")
        ax.set_xticks(range(len(stages)))
        ax.set_xticklabels([s.replace("stage ", "") for s in stages])
        ax.set_title(f"{c[0]}, {c[1]} ({results[c]['images']} images)", fontsize=9)
        ax.set_ylim(0, 1)
        ax.tick_params(labelleft=True, labelbottom=True)
        ax.set_xlabel("backbone stage (1 = lowest)")
        ax.set_ylabel(f"probe test accuracy (n={_seeds(results[c], [prefix + s for s in stages])} seeds)")
    handles, labels = axes[0].get_legend_handles_labels()
    labels = [("chance (1 / classes)" if l.startswith("chance") else l) for l in labels]
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    return fig
