"""Pictures of classification metrics: confusion matrix, PR and ROC curves, anchors."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_confusion_matrix", "plot_pr_roc", "plot_anchors"]


def plot_confusion_matrix(cm, class_names=None, normalize: bool = True, ax=None, title=None):
    """Confusion matrix (C, C) as an image, rows = true class, normalized per row (recall on
    the diagonal) when ``normalize``. Returns the figure."""
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {cm.shape}")
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    if ax is None:
        _, ax = plt.subplots(figsize=(1 + 0.6 * len(cm), 0.8 + 0.6 * len(cm)))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    names = class_names or [str(i) for i in range(len(cm))]
    ax.set_xticks(range(len(cm)), labels=names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(cm)), labels=names, fontsize=8)
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}", ha="center",
                    va="center", fontsize=7, color="white" if shown[i, j] > 0.6 * shown.max() else "k")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or ("Confusion matrix (row-normalized)" if normalize else "Confusion matrix"))
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.figure.tight_layout()
    return ax.figure


def plot_pr_roc(curves: dict, axes=None):
    """PR (left) and ROC (right) curves for several models ``{label: (pr_curve, roc_curve)}``
    (``coursekit.metrics.Curve`` objects), with chance levels dashed. Returns the figure."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, (label, (pr, roc)) in enumerate(curves.items()):
        axes[0].step(pr.x, pr.y, where="post", color=f"C{i}", label=f"{label} (AP {pr.auc:.3f})")
        axes[1].plot(roc.x, roc.y, color=f"C{i}", label=f"{label} (AUC {roc.auc:.3f})")
    if curves:
        pr0 = next(iter(curves.values()))[0]
        axes[0].axhline(pr0.baseline, color="0.5", ls="--", label=f"chance ({pr0.baseline:.2f})")
    axes[1].plot([0, 1], [0, 1], color="0.5", ls="--", label="chance (0.5)")
    axes[0].set(xlabel="recall", ylabel="precision", title="Precision-recall curve",
                xlim=(0, 1), ylim=(0, 1.02))
    axes[1].set(xlabel="false positive rate", ylabel="true positive rate (recall)",
                title="ROC curve", xlim=(0, 1), ylim=(0, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if ax is axes[0] else "lower right")
    axes[0].figure.tight_layout()
    return axes[0].figure


def plot_anchors(anchors, gt_boxes, stats, image_size: int, ax=None, max_background: int = 150,
                 seed: int = 0):
    """Ground-truth boxes (red), foreground anchors (green) and a random sample of
    background anchors (grey) of ``coursekit.metrics.label_anchors``. Returns the figure."""
    anchors, gt = np.asarray(anchors), np.asarray(gt_boxes)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    rng = np.random.default_rng(seed)
    bg = np.flatnonzero(stats.labels == 0)
    for a in anchors[rng.choice(bg, min(max_background, len(bg)), replace=False)]:
        ax.add_patch(plt.Rectangle(a[:2], *(a[2:] - a[:2]), fill=False, ec="0.7", lw=0.5))
    for a in anchors[stats.labels == 1]:
        ax.add_patch(plt.Rectangle(a[:2], *(a[2:] - a[:2]), fill=False, ec="C2", lw=1.2))
    for g in gt:
        ax.add_patch(plt.Rectangle(g[:2], *(g[2:] - g[:2]), fill=False, ec="C3", lw=2.5))
    ax.set_xlim(0, image_size)
    ax.set_ylim(image_size, 0)
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_title(f"{len(anchors)} anchors: {stats.foreground} foreground (green), "
                 f"{stats.background} background\n(grey: {min(max_background, len(bg))} of them); "
                 "objects in red", fontsize=9)
    ax.figure.tight_layout()
    return ax.figure
