"""Activation maximization: synthesize the input that excites one unit most.

Gradient ascent on the *image* (the weights stay fixed) on the mean activation of channel
``channel`` of ``layer``, with the regularizers that make the result look like an image
rather than adversarial noise (Yosinski et al. 2015, Olah et al. 2017):

- ``jitter``: roll the image by up to this many pixels at every step (robust to shifts),
- ``blur_every`` / ``blur_sigma``: Gaussian-blur the image every few steps,
- ``tv``: total-variation (high-frequency) penalty, ``l2``: weight decay on the image,
- ``init="natural"`` (or an image): start from a natural image instead of noise.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..torchutil import Hooks, eval_mode, get_layer, model_device

DEFAULT_REGULARIZERS = {"jitter": 2, "blur_every": 4, "blur_sigma": 0.5, "tv": 0.05, "l2": 1e-3}


def _in_channels(model: nn.Module) -> int:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    raise ValueError("cannot infer the number of input channels: the model has no Conv2d")


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel of ``x`` (N, C, H, W) with a 3x3-to-7x7 Gaussian of std ``sigma``."""
    r = max(1, int(round(2 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (a high-frequency penalty)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def activation_maximization(model: nn.Module, layer, channel: int, steps: int = 200,
                            regularizers: dict | None = None, lr: float = 0.05,
                            size: int = 32, init="noise", seed: int = 0,
                            return_history: bool = False):
    """Image (C, size, size) in [0, 1] maximizing channel ``channel`` of ``layer``.

    ``layer``: module or name (conv output: the channel's spatial mean; linear output: that
    unit, e.g. a class logit). ``regularizers``: dict overriding ``DEFAULT_REGULARIZERS``
    (``{}`` values of 0 switch a term off; ``regularizers=False`` switches all off).
    ``init``: "noise" (grey + small noise), "natural" (not allowed without an image) or an
    image (C, H, W) to start from (natural-image initialization). With
    ``return_history=True`` returns ``(image, objective per step)``.
    """
    mod = get_layer(model, layer)
    reg = {} if regularizers is False else dict(DEFAULT_REGULARIZERS, **(regularizers or {}))
    unknown = set(reg) - set(DEFAULT_REGULARIZERS)
    if unknown:
        raise ValueError(f"unknown regularizers {sorted(unknown)}; known: {sorted(DEFAULT_REGULARIZERS)}")
    dev = model_device(model)
    c = _in_channels(model)
    gen = torch.Generator().manual_seed(seed)
    if isinstance(init, str):
        if init != "noise":
            raise ValueError("init must be 'noise' or an image (C, H, W) to start from "
                             "(natural-image initialization)")
        img = 0.5 + 0.05 * torch.randn(1, c, size, size, generator=gen)
    else:
        img = torch.as_tensor(np.asarray(init), dtype=torch.float32).reshape(1, c, *np.shape(init)[-2:]).clone()
    img = img.to(dev).requires_grad_(True)
    opt = torch.optim.Adam([img], lr=lr)
    store, hist = {}, []
    with eval_mode(model), Hooks() as h:
        h.forward(mod, lambda m, i, o: store.__setitem__("act", o))
        for step in range(steps):
            x = img
            j = int(reg.get("jitter", 0))
            if j:
                dy, dx = torch.randint(-j, j + 1, (2,), generator=gen).tolist()
                x = torch.roll(x, (dy, dx), (2, 3))
            model(x)
            a = store.pop("act")
            if channel < 0 or channel >= a.shape[1]:
                raise ValueError(f"channel must be in [0, {a.shape[1] - 1}] for this layer, got {channel}")
            obj = a[:, channel].mean()
            loss = -obj + reg.get("tv", 0) * total_variation(img) + reg.get("l2", 0) * (img - 0.5).pow(2).mean()
            (g,) = torch.autograd.grad(loss, img)
            img.grad = g
            opt.step()
            with torch.no_grad():
                every = int(reg.get("blur_every", 0))
                if every and (step + 1) % every == 0 and reg.get("blur_sigma", 0) > 0:
                    img.copy_(gaussian_blur(img, reg["blur_sigma"]))
                img.clamp_(0, 1)
            hist.append(float(obj.detach()))
    out = img.detach()[0].cpu().numpy()
    return (out, hist) if return_history else out


def plot_actmax(images: dict, ax_size: float = 1.6, title: str = "Synthesized inputs maximizing each unit"):
    """Draw {title: image (C, H, W)} in a row under the figure's ``title``; returns the figure."""
    import matplotlib.pyplot as plt

    from .overlay import to_image
    fig, axes = plt.subplots(1, len(images), figsize=(ax_size * len(images), ax_size + 0.4), squeeze=False)
    for ax, (t, im) in zip(axes[0], images.items()):
        a = to_image(im)
        ax.imshow(a, cmap="gray" if a.ndim == 2 else None)
        ax.set_title(str(t), fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
