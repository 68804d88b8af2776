"""Pictures of hyper-parameter searches: where each method looked, and how well it did."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_search_points", "plot_search_comparison", "plot_coarse_to_fine", "plot_data_vs_search"]


def plot_search_points(results: list, x: str = "lr", y: str = "weight_decay", task=None,
                       space: dict | None = None, axes=None):
    """One panel per ``SearchResult``: the tried (x, y) values on log axes, coloured by
    score, the best one circled; with a ``task`` (``SyntheticTask``) the true optimum is a
    star. Above each panel, the distinct x values tried: a grid tests few of them. With
    ``space`` (the searched ranges) every panel shows the whole range."""
    n = len(results)
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(min(12.0, 3.6 * n + 1.2), 4.4), squeeze=False, layout="constrained")
        axes = axes[0]
    scores = np.concatenate([[t.score for t in r.trials] for r in results])
    vmin, vmax = np.percentile(scores, [0, 90])
    for ax, r in zip(axes, results):
        xs, ys = r.values(x), r.values(y)
        s = np.array([t.score for t in r.trials])
        sizes = 12 + 40 * np.array([t.resource for t in r.trials]) / max(t.resource for t in r.trials)
        sc = ax.scatter(xs, ys, c=s, s=sizes, cmap="viridis_r", vmin=vmin, vmax=vmax,
                        edgecolors="k", linewidths=0.3)
        b = r.best
        ax.plot(b.config[x], b.config[y], "o", mfc="none", mec="C3", ms=14, mew=2, label="chosen")
        if task is not None:
            ax.plot(task.lr_opt, task.wd_opt, "r*", ms=14, label="true optimum")
        ax.vlines(np.unique(xs), 0, 1, transform=ax.get_xaxis_transform(), color="0.85", lw=0.6, zorder=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        if space is not None:
            ax.set_xlim(space[x].low, space[x].high)
            ax.set_ylim(space[y].low, space[y].high)
        ax.set_xlabel(x + " (log scale)")
        ax.set_ylabel(y + " (log scale)")
        ax.set_title(f"{r.method}: {len(np.unique(xs))} distinct {x} values, cost {r.cost}\n"
                     f"best val loss {b.score:.3f}", fontsize=9)
    fig = axes[0].figure
    fig.colorbar(sc, ax=list(axes), label="validation loss", shrink=0.8)
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    outside = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center" if outside else "lower center",
               ncol=2, fontsize=8, frameon=False)             # one legend, off the points
    return axes[0].figure


def plot_search_comparison(comparison: dict, ax=None):
    """Box plots of the regret (loss of the chosen config above the best possible) of each
    method over many tasks, from ``hpsearch.compare_search_methods``. Returns the figure."""
    methods = [m for m in ("grid", "random", "halving") if m in comparison]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    data = [comparison[m]["regret"] for m in methods]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(methods) + 1), labels=[
        f"{m}\nmedian {np.median(d):.3f}, mean {np.mean(d):.3f}" for m, d in zip(methods, data)])
    ax.set_ylabel("regret (val loss above the best possible)")
    ax.set_title(f"{comparison['n_tasks']} random tasks, budget {comparison['budget']} full runs each: "
                 f"random better than grid in {comparison['random_beats_grid']:.0%}, "
                 f"grid better in {comparison['grid_beats_random']:.0%}", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax.figure.tight_layout()
    return ax.figure


def plot_coarse_to_fine(rounds: list, x: str = "lr", y: str = "weight_decay", task=None, ax=None):
    """All rounds of ``hpsearch.coarse_to_fine`` in one log-log panel, one colour per round,
    with each round's search box drawn. Returns the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.6))
    for i, r in enumerate(rounds):
        sx, sy = r.space[x], r.space[y]
        ax.add_patch(plt.Rectangle((sx.low, sy.low), sx.high - sx.low, sy.high - sy.low,
                                   fill=False, ec=f"C{i}", lw=1.5, ls="--"))
        ax.scatter(r.values(x), r.values(y), color=f"C{i}", s=20,
                   label=f"{r.method}: best {r.best.score:.3f}")
    if task is not None:
        ax.plot(task.lr_opt, task.wd_opt, "r*", ms=14, label="true optimum")
    s0 = rounds[0].space
    ax.set_xlim(s0[x].low, s0[x].high)
    ax.set_ylim(s0[y].low, s0[y].high)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x + " (log scale)")
    ax.set_ylabel(y + " (log scale)")
    ax.set_title("Coarse-to-fine: each round searches\nthe box around the last round's best", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.figure.tight_layout()
    return ax.figure


def plot_data_vs_search(result: dict, axes=None):
    """Test accuracy against training-set size (left) and against search budget (right), from
    ``coursekit.hpsearch.data_vs_search``: mean and min..max over the random subsets, shared
    y axis. Returns the figure."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    labels = {"size": ("training examples (C = 1)", "more data"),
              "budget": ("values of C tried (fixed small training set)", "more tuning")}
    for ax, key in zip(axes, ("size", "budget")):
        xs = list(result[key])
        vals = [100 * np.asarray(result[key][k], dtype=float) for k in xs]
        m = np.array([v.mean() for v in vals])
        err = [m - [v.min() for v in vals], [v.max() for v in vals] - m]
        ax.errorbar(xs, m, yerr=err, fmt="-o", capsize=3)
        ax.set_xscale("log")
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.minorticks_off()
        ax.set_xlabel(labels[key][0])
        ax.set_title(labels[key][1])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].figure.suptitle("Logistic regression: mean and range over random training subsets")
    axes[0].figure.tight_layout()
    return axes[0].figure
