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
        side = max(3.2, 0.7 * len(cm) + 1.6)            # readable at notebook width, even for 2 classes
        _, ax = plt.subplots(figsize=(side + 1.2, side))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    names = class_names or [str(i) for i in range(len(cm))]
    rotate = max(len(str(n)) for n in names) > 3 and len(cm) > 2
    ax.set_xticks(range(len(cm)), labels=names, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", fontsize=10)
    ax.set_yticks(range(len(cm)), labels=names, fontsize=10)
    size = 12 if len(cm) <= 4 else 9
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}", ha="center",
                    va="center", fontsize=size, color="white" if shown[i, j] > 0.6 * shown.max() else "k")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or ("Confusion matrix (row-normalized)" if normalize else "Confusion matrix"), fontsize=10)
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="fraction of the true class" if normalize else "images")
    ax.figure.tight_layout()
    return ax.figure


def plot_pr_roc(curves: dict, axes=None):
    """PR (left) and ROC (right) curves for several models ``{label: (pr_curve, roc_curve)}``
    (``coursekit.metrics.Curve`` objects), with chance levels dashed. Returns the figure."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4.2 + 0.2 * len(curves)))
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
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)   # off the curves
    axes[0].figure.tight_layout()
    return axes[0].figure


def plot_anchors(anchors, gt_boxes, stats, image_size: int, ax=None, max_background: int = 4,
                 seed: int = 0):
    """Ground-truth boxes (red), the foreground anchors (green), the centres of all anchors
    (grey dots: the grid they tile) and, dashed gold, ``max_background`` background anchors of a
    random sample, of ``coursekit.metrics.label_anchors``. Drawing every background anchor
    would hide the image under hundreds of outlines. Returns the figure."""
    anchors, gt = np.asarray(anchors), np.asarray(gt_boxes)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    rng = np.random.default_rng(seed)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    ax.scatter(*np.unique(centres, axis=0).T, s=6, color="0.85", edgecolors="k", linewidths=0.3,
               label="anchor centres", zorder=3)
    bg = np.flatnonzero(stats.labels == 0)
    shown_bg = rng.choice(bg, min(max_background, len(bg)), replace=False)
    for k, a in enumerate(anchors[shown_bg]):
        ax.add_patch(plt.Rectangle(a[:2], *(a[2:] - a[:2]), fill=False, ec="gold", ls="--", lw=1.2,
                                   label="background anchor (a few)" if k == 0 else None))
    for k, a in enumerate(anchors[stats.labels == 1]):
        ax.add_patch(plt.Rectangle(a[:2], *(a[2:] - a[:2]), fill=False, ec="lime", lw=1.2,
                                   label="foreground anchor" if k == 0 else None))
    for k, g in enumerate(gt):
        ax.add_patch(plt.Rectangle(g[:2], *(g[2:] - g[:2]), fill=False, ec="red", lw=2.5,
                                   label="object box" if k == 0 else None))
    ax.set_xlim(0, image_size)
    ax.set_ylim(image_size, 0)
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_title(f"{len(anchors)} anchors at {len(np.unique(centres, axis=0))} centres: "
                 f"{stats.foreground} foreground,\n{stats.background} background, "
                 f"{int((stats.labels == -1).sum())} ignored (IoU between the thresholds)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.figure.tight_layout()
    return ax.figure
