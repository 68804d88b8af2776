"""Embeddings: penultimate-layer codes (or raw pixels) of many images, embedded in 2-D
(t-SNE or PCA), and how well their neighbourhoods keep the classes (:func:`neighbour_agreement`) or any
other property (:func:`neighbour_distance`)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._model import as_input
from ..torchutil import Hooks, eval_mode, get_layer, model_device


def _batches(loader):
    """Yield (x, y-or-None) from a DataLoader, a list of batches or an (x, y) pair of arrays."""
    if isinstance(loader, tuple) and len(loader) == 2 and hasattr(loader[0], "shape"):
        yield loader
        return
    for b in loader:
        if isinstance(b, (list, tuple)):
            yield b[0], (b[1] if len(b) > 1 else None)
        else:
            yield b, None


def _penultimate(model):
    lin = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not lin:
        raise ValueError("no nn.Linear in the model: pass layer= (the layer whose codes to embed)")
    return lin[-1]


def codes(model: nn.Module, loader, layer=None, n: int = 1000):
    """(codes (M, D), labels (M,) or None, images (M, C, H, W)) for the first ``n`` images.

    ``layer=None`` takes the *input* of the last linear layer (the penultimate codes);
    otherwise the flattened output of ``layer``.
    """
    mod = _penultimate(model) if layer is None else get_layer(model, layer)
    feats, labels, imgs, store = [], [], [], {}
    with eval_mode(model), torch.no_grad(), Hooks() as h:
        if layer is None:
            h.forward_pre(mod, lambda m, i: store.__setitem__("z", i[0]))
        else:
            h.forward(mod, lambda m, i, o: store.__setitem__("z", o))
        seen = 0
        for x, y in _batches(loader):
            x = as_input(x, model)
            model(x)
            feats.append(store.pop("z").flatten(1).cpu().numpy())
            imgs.append(x.cpu().numpy())
            if y is not None:
                labels.append(np.asarray(y))
            seen += len(x)
            if seen >= n:
                break
    z, im = np.concatenate(feats)[:n], np.concatenate(imgs)[:n]
    lab = np.concatenate(labels)[:n] if labels else None
    return z, lab, im


def embed_2d(z, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """(M, D) vectors -> (M, 2) with scikit-learn: "tsne" (local neighbourhoods) or "pca"
    (linear, global)."""
    if method not in ("tsne", "pca"):
        raise ValueError(f"method must be 'tsne' or 'pca', got {method!r}")
    z = np.asarray(z, dtype=np.float32).reshape(len(z), -1)
    if method == "pca":
        from sklearn.decomposition import PCA
        return PCA(2, random_state=seed).fit_transform(z)
    from sklearn.manifold import TSNE
    return TSNE(2, perplexity=min(30, max(2, len(z) // 4)), init="pca",
                random_state=seed).fit_transform(z)


def neighbour_agreement(z, labels, k: int = 5) -> float:
    """Share of each point's ``k`` nearest neighbours (Euclidean, in the space of ``z``
    (M, D)) that carry its label, averaged over the points: 1 = classes form tight groups,
    about 1/classes = neighbours ignore the class."""
    labels = np.asarray(labels)
    idx = _neighbours(z, labels, k, "label")
    return float((labels[idx] == labels[:, None]).mean())


def neighbour_distance(z, values, k: int = 5) -> tuple:
    """How alike in ``values`` (M, V), e.g. each image's mean colour, neighbours in the space
    of ``z`` (M, D) are: ``(near, pairs)``, the mean Euclidean distance in ``values`` between
    each point and its ``k`` nearest neighbours in ``z``, and between all pairs of distinct
    points (the level of neighbours that ignore ``values``)."""
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    idx = _neighbours(z, values, k, "value")
    near = np.linalg.norm(values[idx] - values[:, None], axis=2).mean()
    m = len(values)
    pairs = np.linalg.norm(values[:, None] - values[None], axis=2).sum() / (m * (m - 1))
    return float(near), float(pairs)


def _neighbours(z, per_point, k: int, what: str) -> np.ndarray:
    """Indices (M, k) of each point's ``k`` nearest neighbours in ``z`` (M, D), itself excluded."""
    from sklearn.neighbors import NearestNeighbors
    z = np.asarray(z, dtype=np.float32).reshape(len(z), -1)
    if len(z) != len(per_point) or len(z) <= k:
        raise ValueError(f"need more than k={k} points with one {what} each, got {len(z)} points "
                         f"and {len(per_point)} {what}s")
    return NearestNeighbors(n_neighbors=k + 1).fit(z).kneighbors(z, return_distance=False)[:, 1:]


def embedding(model: nn.Module, loader, layer=None, method: str = "tsne", n: int = 500,
              thumbnails: int = 60, seed: int = 0, classes=None, ax=None):
    """Embed penultimate codes in 2-D with scikit-learn and draw them with thumbnails.

    ``method``: "tsne" (local neighbourhoods) or "pca" (linear, global). Returns
    ``(xy (M, 2), labels (M,) or None)``; the plot colours points by label and shows
    ``thumbnails`` images at their positions.
    """
    if method not in ("tsne", "pca"):
        raise ValueError(f"method must be 'tsne' or 'pca', got {method!r}")
    z, lab, im = codes(model, loader, layer, n)
    xy = embed_2d(z, method, seed)
    _draw(xy, lab, im, thumbnails, seed, classes, ax,
          f"{method.upper()} of penultimate-layer codes ({len(xy)} images)", method)
    return xy, lab


def embed_points(z, labels=None, images=None, method: str = "tsne", thumbnails: int = 60,
                 seed: int = 0, classes=None, ax=None, title: str | None = None):
    """Embed any vectors ``z`` (M, D) (e.g. raw pixels, flattened) in 2-D and draw them like
    :func:`embedding`; ``images`` (M, C, H, W) for the thumbnails. Returns xy (M, 2)."""
    xy = embed_2d(z, method, seed)
    _draw(xy, None if labels is None else np.asarray(labels), images,
          thumbnails if images is not None else 0, seed, classes, ax,
          title or f"{method.upper()} of {len(xy)} vectors", method)
    return xy


def _draw(xy, lab, im, thumbnails, seed, classes, ax, title, method):
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    from .overlay import to_image
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=lab if lab is not None else "C0", cmap="tab10", s=8)
    if lab is not None:
        names = classes if classes is not None else None
        handles, _ = sc.legend_elements()
        labels = [names[int(u)] if names is not None else str(int(u)) for u in np.unique(lab)]
        ax.legend(handles, labels, fontsize=8, title="class", ncol=min(len(labels), 5), loc="upper center",
                  bbox_to_anchor=(0.5, -0.13), frameon=False)       # below the axes, off the points
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(xy), size=min(thumbnails, len(xy)), replace=False):
        a = to_image(im[i])
        box = OffsetImage(a, zoom=0.6, cmap="gray" if a.ndim == 2 else None)
        ax.add_artist(AnnotationBbox(box, xy[i], frameon=False))
    ax.set_title(title)
    ax.set_xlabel(f"{method} dimension 1"), ax.set_ylabel(f"{method} dimension 2")
    ax.figure.tight_layout()
