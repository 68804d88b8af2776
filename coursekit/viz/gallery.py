"""Augmentation galleries: what each transform does to a photo or a batch (matplotlib).

Images may be given as (H, W), (H, W, 3) arrays (photos, e.g. ``sample_images()``) or as
(C, H, W) / (N, C, H, W) batches (data sets); all values in [0, 1].
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["show_transform_gallery", "show_augmented_grid", "show_mixed_batch", "to_chw",
           "plot_tta_gain"]


def to_chw(image) -> np.ndarray:
    """An image (H, W), (H, W, 3) or (C, H, W) as float32 (C, H, W)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3 and a.shape[-1] in (1, 3) and a.shape[0] not in (1, 3):
        return np.ascontiguousarray(a.transpose(2, 0, 1))
    if a.ndim == 3:
        return a
    raise ValueError(f"image: expected (H, W), (H, W, 3) or (C, H, W), got shape {a.shape}")


def _show(ax, chw, title=None):
    img = np.clip(chw, 0, 1)
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img.transpose(1, 2, 0))
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def show_transform_gallery(image, names=None, strength=None, n: int = 4, seed: int = 0,
                           title: str | None = None):
    """One row per transform of ``names`` (default all of ``TRANSFORMS``): the original then
    ``n`` random draws at ``strength`` (None: each transform's default). Returns the figure."""
    from coursekit.data.augment import TRANSFORMS, augment_batch, make_transform
    chw = to_chw(image)
    names = list(TRANSFORMS) if names is None else list(names)
    fig, axes = plt.subplots(len(names), n + 1, figsize=(1.6 * (n + 1), 1.6 * len(names)),
                             squeeze=False)
    batch = np.repeat(chw[None], n, axis=0)
    for r, name in enumerate(names):
        t = make_transform(name, strength, size=chw.shape[-2:])
        out = augment_batch(batch, t, seed=seed + r)
        _show(axes[r, 0], chw, "original" if r == 0 else None)
        axes[r, 0].set_ylabel(name, fontsize=9)
        for c in range(n):
            _show(axes[r, c + 1], out[c], f"draw {c + 1}" if r == 0 else None)
    fig.suptitle(title or "Each augmentation, several random draws (seeded)", fontsize=11)
    fig.tight_layout()
    return fig


def show_augmented_grid(x, transform, labels=None, class_names=None, cols: int = 6,
                        seed: int = 0, title: str | None = None, axes=None):
    """A grid of ``transform`` applied to each image of ``x`` (N, C, H, W), titled with the
    (unchanged) labels. ``transform`` None shows the originals. Returns the figure."""
    from coursekit.data.augment import augment_batch
    x = np.asarray(x, np.float32)
    if x.ndim != 4:
        raise ValueError(f"x: expected (N, C, H, W), got shape {x.shape}")
    out = x if transform is None else augment_batch(x, transform, seed=seed)
    rows = -(-len(x) // cols)
    if axes is None:
        fig, axes = plt.subplots(rows, cols, figsize=(1.8 * cols, 2.0 * rows + 0.3), squeeze=False)
    axes = np.asarray(axes).reshape(-1)
    for i, ax in enumerate(axes):
        if i >= len(x):
            ax.axis("off")
            continue
        lab = None
        if labels is not None:
            lab = class_names[int(labels[i])] if class_names is not None else str(int(labels[i]))
        _show(ax, out[i], lab)
    fig = axes[0].figure
    fig.suptitle(title or f"augmented samples (seed {seed})", fontsize=10)
    fig.tight_layout()
    return fig


def show_mixed_batch(x, y_soft, class_names=None, n: int = 6, title: str | None = None):
    """MixUp/CutMix results: images ``x`` (N, C, H, W) with their soft labels (N, K) written
    as the two largest weights. Returns the figure."""
    x, y_soft = np.asarray(x), np.asarray(y_soft)
    n = min(n, len(x))
    fig, axes = plt.subplots(1, n, figsize=(1.9 * n, 2.3), squeeze=False)
    for i, ax in enumerate(axes[0]):
        top = np.argsort(y_soft[i])[::-1][:2]
        words = [f"{class_names[k] if class_names else k} {y_soft[i, k]:.2f}"
                 for k in top if y_soft[i, k] > 0]
        _show(ax, x[i], "\n".join(words))
    fig.suptitle(title or "mixed images and their soft labels", fontsize=10)
    fig.tight_layout()
    return fig


def plot_tta_gain(accuracies: dict, ax=None, title: str | None = None, chance: float | None = None):
    """Bar chart of test accuracy (fraction) per prediction method, e.g.
    ``{"plain": 0.81, "TTA flips": 0.83}``; or grouped bars for several models,
    ``{model: {method: accuracy or per-seed list}}`` (bar = mean, error bar = min..max over
    seeds). The bars start at 0; ``chance`` (a fraction) draws the chance level; the legend
    sits outside the bars. Returns the figure."""
    from .style import chance_line
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2) if not _nested(accuracies) else (9, 3.8))
    groups = accuracies if _nested(accuracies) else {m: {"accuracy": v} for m, v in accuracies.items()}
    methods = list(next(iter(groups.values())))
    width = 0.8 / len(methods)
    every = []
    for j, m in enumerate(methods):
        for g, (model, accs) in enumerate(groups.items()):
            v = 100 * np.atleast_1d(np.asarray(accs[m], dtype=float))
            every += list(v)
            x = g + (j - (len(methods) - 1) / 2) * width
            ax.bar(x, v.mean(), width, color=f"C{j}", label=m if g == 0 else None,
                   yerr=[[v.mean() - v.min()], [v.max() - v.mean()]] if len(v) > 1 else None,
                   capsize=3)
            ax.text(x, v.max(), f"{v.mean():.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(groups)), list(groups))
    if chance is not None:
        chance_line(ax, 100 * chance)
    ax.set_ylim(0, 110)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or "test-time augmentation", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    if len(groups) > 1 or chance is not None:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.figure.tight_layout()
    return ax.figure


def _nested(accuracies: dict) -> bool:
    return bool(accuracies) and all(isinstance(v, dict) for v in accuracies.values())
