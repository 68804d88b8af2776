"""Saliency maps: the gradient of a class score with respect to the input pixels.

Vanilla gradients (Simonyan et al. 2014) and SmoothGrad (Smilkov et al. 2017), which
averages the maps of noisy copies of the image to remove gradient "shattering" noise.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._model import as_input, as_targets
from ..torchutil import eval_mode


def input_gradient(model: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """d score[target] / d x for a prepared batch ``x`` (N, C, H, W); returns (N, C, H, W).

    Uses ``torch.autograd.grad`` so no ``.grad`` is left on the parameters or the input.
    """
    x = x.detach().requires_grad_(True)
    out = model(x)
    s = out.gather(1, targets[:, None]).sum()
    (g,) = torch.autograd.grad(s, x)
    return g.detach()


def reduce_channels(g: torch.Tensor, reduce: str | None) -> torch.Tensor:
    """(N, C, H, W) -> (N, H, W) with ``"max"`` (max |g| over channels, Simonyan's choice),
    ``"abs"`` (sum of |g|) or ``None`` (keep the signed (N, C, H, W) array)."""
    if reduce is None:
        return g
    if reduce == "max":
        return g.abs().amax(1)
    if reduce == "abs":
        return g.abs().sum(1)
    raise ValueError(f"reduce must be 'max', 'abs' or None, got {reduce!r}")


def saliency(model: nn.Module, x, target=None, smooth: bool = False, n_samples: int = 25,
             noise: float = 0.15, seed: int = 0, reduce: str | None = "max") -> np.ndarray:
    """Gradient saliency map of class ``target`` for images ``x`` (N, C, H, W), C in {1, 3}.

    ``target``: int, one int per image, or None (the predicted class). ``smooth=True`` is
    SmoothGrad: the mean map over ``n_samples`` copies with Gaussian noise of standard
    deviation ``noise * (max - min)`` of each image; the same noise patterns (fixed by
    ``seed``) are used for every image so the result does not depend on the batch.
    Returns a NumPy array (N, H, W) (or (N, C, H, W) with ``reduce=None``).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    x = as_input(x, model)
    with eval_mode(model):
        with torch.no_grad():
            t = as_targets(target, model(x))
        if not smooth:
            return reduce_channels(input_gradient(model, x, t), reduce).cpu().numpy()
        gen = torch.Generator().manual_seed(seed)
        sigma = noise * (x.amax((1, 2, 3)) - x.amin((1, 2, 3)))[:, None, None, None]
        total = 0
        for _ in range(n_samples):
            eps = torch.randn(x.shape[1:], generator=gen).to(x.device)
            g = input_gradient(model, x + sigma * eps, t)
            total = total + reduce_channels(g, reduce)
        return (total / n_samples).cpu().numpy()
