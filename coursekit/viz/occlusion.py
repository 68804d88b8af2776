"""Occlusion sensitivity (Zeiler & Fergus 2014): slide a grey square over the image and
record how much the class score drops. Model-agnostic, needs only forward passes."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._model import as_input, as_targets
from ..torchutil import eval_mode


def _pair(v, name):
    if isinstance(v, int):
        v = (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2 or min(v) < 1:
        raise ValueError(f"{name} must be a positive int or (height, width), got {v}")
    return v


def window_positions(size: int, window: int, stride: int) -> list[int]:
    """Top/left corners of the windows along one axis: ceil((size - window)/stride) + 1
    positions, the last one clipped at the border (the convention captum uses)."""
    n = math.ceil((size - window) / stride) + 1
    return [i * stride for i in range(n)]


def occlusion(model: nn.Module, x, target=None, window=8, stride=4, baseline: float = 0.0,
              batch_size: int = 256) -> np.ndarray:
    """Occlusion map of ``target`` for images ``x`` (N, C, H, W); returns (N, H, W).

    Each pixel gets the mean over all windows covering it of ``score(x) - score(x with the
    window set to baseline)`` (all channels occluded together). Positive: hiding the pixel
    lowers the class score. Occluded copies are evaluated ``batch_size`` at a time under
    ``torch.no_grad``.
    """
    x = as_input(x, model)
    n, c, h, w = x.shape
    wh, ww = _pair(window, "window")
    sh, sw = _pair(stride, "stride")
    if wh > h or ww > w:
        raise ValueError(f"window {(wh, ww)} is larger than the image {(h, w)}")
    corners = [(i, j) for i in window_positions(h, wh, sh) for j in window_positions(w, ww, sw)]
    total = torch.zeros(n, h, w, device=x.device)
    count = torch.zeros(h, w, device=x.device)
    with eval_mode(model), torch.no_grad():
        out = model(x)
        t = as_targets(target, out)
        base = out.gather(1, t[:, None])[:, 0]
        per = max(1, batch_size // n)
        for k in range(0, len(corners), per):
            chunk = corners[k:k + per]
            xs = x.unsqueeze(0).repeat(len(chunk), 1, 1, 1, 1)   # (P, N, C, H, W)
            for p, (i, j) in enumerate(chunk):
                xs[p, :, :, i:i + wh, j:j + ww] = baseline
            s = model(xs.reshape(-1, c, h, w)).reshape(len(chunk), n, -1)
            drop = base[None] - s.gather(2, t[None, :, None].expand(len(chunk), n, 1))[..., 0]
            for p, (i, j) in enumerate(chunk):
                total[:, i:i + wh, j:j + ww] += drop[p][:, None, None]
                count[i:i + wh, j:j + ww] += 1
    return (total / count).cpu().numpy()
