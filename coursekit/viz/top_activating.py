"""The images -- and the receptive-field patches -- that excite one unit most."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._model import as_input
from .embedding import _batches
from ..torchutil import Hooks, eval_mode, get_layer


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def unit_geometry(model: nn.Module, layer, x: torch.Tensor) -> dict:
    """Receptive field of one unit of ``layer``: {"size", "jump", "start"} along one axis.

    Walks the Conv2d / pooling layers run before (and including) ``layer`` in forward
    order; unit (i, j) sees the input window centred on ``start + jump * (i, j)``. Exact
    for chains (Sequential models); for branching models an estimate.
    """
    from ..arithmetic import receptive_field
    mod = get_layer(model, layer)
    seq = []
    with Hooks() as h, torch.no_grad(), eval_mode(model):
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                h.forward(m, lambda mm, i, o: seq.append(mm))
        h.forward(mod, lambda mm, i, o: seq.append("stop"))
        model(x[:1])
    chain = []
    for m in seq:
        if m == "stop":
            break
        if m not in chain:
            chain.append(m)
    geo = []
    for m in chain:
        k = _pair(m.kernel_size)[0]
        s = _pair(m.stride if m.stride is not None else m.kernel_size)[0]
        p = _pair(m.padding)[0]
        d = _pair(getattr(m, "dilation", 1))[0]
        geo.append((k, s, d, p))
    rf = receptive_field([(k, s, d) for k, s, d, _ in geo]) if geo else None
    start, jump = 0.0, 1
    for k, s, d, p in geo:
        start += ((d * (k - 1)) / 2 - p) * jump
        jump *= s
    return {"size": rf.size if rf else 1, "jump": jump, "start": start}


def top_activating(model: nn.Module, loader, layer, channel: int, k: int = 9, n: int = 2000,
                   crop: bool = True, plot: bool = True) -> dict:
    """The ``k`` images (of the first ``n`` of ``loader``) whose unit ``channel`` of
    ``layer`` reaches the highest activation (max over positions for conv layers).

    Returns {"scores" (k,), "index" (k,), "position" (k, 2) (h, w), "images" (k, C, H, W),
    "patches": list of (C, r, r) receptive-field crops (clipped at the border)}.
    """
    mod = get_layer(model, layer)
    store, best, imgs = {}, [], []
    with eval_mode(model), torch.no_grad(), Hooks() as h:
        h.forward(mod, lambda m, i, o: store.__setitem__("a", o))
        seen = 0
        for x, _ in _batches(loader):
            x = as_input(x, model)
            model(x)
            a = store.pop("a")
            if channel < 0 or channel >= a.shape[1]:
                raise ValueError(f"channel must be in [0, {a.shape[1] - 1}], got {channel}")
            a = a[:, channel]
            if a.dim() == 3:
                flat = a.flatten(1)
                v, idx = flat.max(1)
                pos = torch.stack([idx // a.shape[2], idx % a.shape[2]], 1)
            else:
                v, pos = a, torch.zeros(len(a), 2, dtype=torch.long)
            for j in range(len(x)):
                best.append((float(v[j]), seen + j, pos[j].tolist()))
            imgs.append(x.cpu().numpy())
            seen += len(x)
            if seen >= n:
                break
        geo = unit_geometry(model, mod, x) if crop else None
    images = np.concatenate(imgs)
    best.sort(key=lambda t: -t[0])
    best = best[:k]
    res = {"scores": np.array([b[0] for b in best]), "index": np.array([b[1] for b in best]),
           "position": np.array([b[2] for b in best]), "images": images[[b[1] for b in best]]}
    if crop:
        res["patches"] = [_crop(images[i], p, geo) for _, i, p in best]
        res["receptive_field"] = geo["size"]
    if plot:
        _plot(res, layer, channel)
    return res


def _crop(img, pos, geo):
    half = geo["size"] / 2
    cy, cx = (geo["start"] + geo["jump"] * p for p in pos)
    h, w = img.shape[1:]
    y0, y1 = int(max(0, np.floor(cy - half + 0.5))), int(min(h, np.floor(cy + half + 0.5)))
    x0, x1 = int(max(0, np.floor(cx - half + 0.5))), int(min(w, np.floor(cx + half + 0.5)))
    return img[:, y0:y1, x0:x1]


def _plot(res, layer, channel):
    import matplotlib.pyplot as plt

    from .overlay import to_image
    k = len(res["scores"])
    rows = 2 if "patches" in res else 1
    fig, axes = plt.subplots(rows, k, figsize=(min(12.0, 1.45 * k), 1.6 * rows + 0.5), squeeze=False)
    for j in range(k):
        axes[0, j].imshow(to_image(res["images"][j]))
        axes[0, j].set_title(f"{res['scores'][j]:.2f}", fontsize=8)
        if rows == 2:
            axes[1, j].imshow(to_image(res["patches"][j]))
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=8)
    if rows == 2:
        axes[1, 0].set_ylabel(f"RF {res['receptive_field']}px", fontsize=8)
    fig.suptitle(f"Top-{k} images for channel {channel} of layer {layer!s:.20} (title: activation)",
                 fontsize=9)
    fig.tight_layout()
