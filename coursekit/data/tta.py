"""Test-time augmentation: average a model's predicted probabilities over views of x."""
from __future__ import annotations

import numpy as np
import torch


def _shift(dx: int, dy: int):
    """A view moving the content by (dx, dy) pixels (right/down positive), edges replicated."""
    left, right, top, bottom = max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)

    def view(x):
        h, w = x.shape[-2:]
        p = torch.nn.functional.pad(x, (left, right, top, bottom), mode="replicate")
        return p[..., bottom:bottom + h, right:right + w]
    return view


TTA_VIEWS = {
    "identity": lambda x: x,
    "hflip": lambda x: torch.flip(x, dims=[-1]),
    "shift_left": _shift(-2, 0), "shift_right": _shift(2, 0),
    "shift_up": _shift(0, -2), "shift_down": _shift(0, 2),
}
"""Name -> function of a batch (N, C, H, W) giving one test-time view."""

def shift_views(max_shift: int = 1) -> list:
    """Every shift (dx, dy) with ``|dx|, |dy| <= max_shift`` pixels as TTA views (the identity
    included): ``(2 max_shift + 1)^2`` callables, for ``predict_tta(views=shift_views(1))``."""
    if not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift={max_shift!r}: expected an int >= 0 (pixels)")
    r = range(-max_shift, max_shift + 1)
    return [_shift(dx, dy) for dy in r for dx in r]


_VIEW_SETS = {"flips": ("identity", "hflip"),
              "shifts": ("identity", "shift_left", "shift_right", "shift_up", "shift_down"),
              "flips+shifts": ("identity", "hflip", "shift_left", "shift_right", "shift_up",
                               "shift_down")}


def _views(views):
    if isinstance(views, str):
        if views in _VIEW_SETS:
            views = _VIEW_SETS[views]
        else:
            views = [views]
    out = []
    for v in views:
        if callable(v):
            out.append(v)
        elif v in TTA_VIEWS:
            out.append(TTA_VIEWS[v])
        else:
            raise ValueError(f"unknown TTA view {v!r}; use callables or names from "
                             f"{list(TTA_VIEWS)} or sets {list(_VIEW_SETS)}")
    if not out:
        raise ValueError("views must name at least one view")
    return out


@torch.no_grad()
def predict_tta(model, x, views="flips", batch_size: int = 512):
    """Average softmax probabilities of ``model`` over test-time ``views`` of ``x``.

    x: (N, C, H, W) NumPy array or tensor (already normalized as the model expects);
    views: "flips" (identity + horizontal flip), "shifts", "flips+shifts", or a list of
    names from ``TTA_VIEWS`` / callables on a batch. Returns (N, K) probabilities as a CPU
    float32 tensor; ``views=["identity"]`` gives the plain prediction. The model is put in
    eval mode (and restored to its previous mode afterwards).
    """
    fns = _views(views)
    xt = torch.as_tensor(np.asarray(x) if isinstance(x, np.ndarray) else x, dtype=torch.float32)
    if xt.ndim != 4:
        raise ValueError(f"predict_tta: expected x of shape (N, C, H, W), got {tuple(xt.shape)}")
    try:
        dev = next(model.parameters()).device
    except StopIteration:
        dev = torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        out = []
        for i in range(0, len(xt), batch_size):
            xb = xt[i:i + batch_size].to(dev)
            p = sum(torch.softmax(model(f(xb)).float(), dim=1) for f in fns) / len(fns)
            out.append(p.cpu())
        return torch.cat(out) if out else torch.zeros(0, 0)
    finally:
        model.train(was_training)
