"""Shared checks for the viz functions: input tensors, targets, the Grad-CAM layer.

Model plumbing (device, layer look-up, hooks) lives in :mod:`coursekit.torchutil`."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..torchutil import Hooks, layers_in_forward_order, model_device


def as_input(x, model: nn.Module | None = None, name: str = "x") -> torch.Tensor:
    """Validate and copy an image batch: returns a float tensor (N, C, H, W), C in {1, 3}.

    Accepts a tensor or array of shape (N, C, H, W) or a single image (C, H, W). The result
    is a detached copy on the model's device, so callers never mutate the user's input.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of shape (N, C, H, W), "
                        f"got {type(x).__name__}")
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W) or (C, H, W), got {tuple(x.shape)}")
    if x.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels (dim 1), got shape {tuple(x.shape)}; "
                         "pass images as (N, C, H, W), e.g. x.permute(0, 3, 1, 2) for NHWC")
    dev = model_device(model) if model is not None else x.device
    return x.detach().to(dev, torch.float32).clone()


def as_targets(target, logits: torch.Tensor) -> torch.Tensor:
    """Target classes as a long tensor (N,): an int, a sequence of N ints, or None (= argmax)."""
    n, k = logits.shape[0], logits.shape[1]
    if target is None:
        return logits.argmax(1)
    t = torch.as_tensor(target, dtype=torch.long, device=logits.device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"target must be an int or one class per image ({n}), got {t.numel()} values")
    if (t < 0).any() or (t >= k).any():
        raise ValueError(f"target classes must lie in [0, {k - 1}] (the model has {k} outputs), "
                         f"got {t.tolist()}")
    return t.clone()


def score(model: nn.Module, x: torch.Tensor, target) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward ``x``; returns (per-image target scores (N,), the targets (N,))."""
    out = model(x)
    if out.dim() != 2:
        raise ValueError(f"the model must return class scores of shape (N, classes), "
                         f"got {tuple(out.shape)}")
    t = as_targets(target, out)
    return out.gather(1, t[:, None])[:, 0], t


def conv_layers(model: nn.Module, x: torch.Tensor) -> list:
    """The Conv2d layers of ``model`` in the order a forward pass of ``x[:1]`` runs them."""
    return layers_in_forward_order(model, x, nn.Conv2d)


def last_conv(model: nn.Module, x: torch.Tensor) -> nn.Conv2d:
    """The last Conv2d executed in a forward pass (the usual Grad-CAM layer)."""
    convs = conv_layers(model, x)
    if not convs:
        raise ValueError("model has no nn.Conv2d layer; pass layer= explicitly")
    return convs[-1]


def capture(model: nn.Module, layer: nn.Module, hooks: Hooks, store: dict) -> None:
    """Store ``layer``'s output in ``store['act']`` and pass a clone downstream.

    The clone keeps the stored activation intact when the next module is an in-place ReLU.
    """
    def fn(mod, inputs, output):
        store["act"] = output
        return output.clone()
    hooks.forward(layer, fn)
