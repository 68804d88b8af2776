"""Class activation maps: CAM (Zhou et al. 2016) and Grad-CAM (Selvaraju et al. 2017).

Both weight the feature maps A_k (K, h, w) of a conv layer and sum them:
CAM uses the final linear layer's weights (needs global average pooling + one linear
layer), Grad-CAM the spatial mean of d score / d A_k (works for any CNN), followed by ReLU.
The (h, w) map is upsampled bilinearly to the input size.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._model import as_input, as_targets, capture, last_conv
from ..torchutil import Hooks, eval_mode, get_layer, layer_name


def _upsample(m: torch.Tensor, size) -> torch.Tensor:
    """(N, h, w) -> (N, H, W) bilinear (align_corners=False)."""
    return F.interpolate(m[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def _resolve(model, x, layer):
    return last_conv(model, x) if layer is None else get_layer(model, layer)


def grad_cam(model: nn.Module, x, target=None, layer=None, upsample: bool = True,
             relu: bool = True) -> np.ndarray:
    """Grad-CAM of ``target`` for ``x`` (N, C, H, W) at ``layer`` (module or name).

    ``layer=None`` picks the last ``nn.Conv2d`` run by the forward pass. Returns (N, H, W)
    (or the layer's (N, h, w) with ``upsample=False``), unnormalized: equal to captum's
    ``LayerGradCam(..., relu_attributions=True)`` followed by bilinear interpolation.
    """
    x = as_input(x, model)
    with eval_mode(model):
        mod = _resolve(model, x, layer)
        store = {}
        with Hooks() as h:
            capture(model, mod, h, store)
            out = model(x.requires_grad_(True))   # also when the parameters are frozen
        if "act" not in store:
            raise ValueError(f"layer {layer_name(model, mod)!r} did not run in the forward pass")
        act = store.pop("act")
        if act.dim() != 4:
            raise ValueError(f"grad_cam needs a layer with (N, C, h, w) output, "
                             f"{layer_name(model, mod)!r} gives {tuple(act.shape)}")
        t = as_targets(target, out.detach())
        (g,) = torch.autograd.grad(out.gather(1, t[:, None]).sum(), act)
        weights = g.mean((2, 3), keepdim=True)
        m = (weights * act).sum(1).detach()
    if relu:
        m = m.clamp(min=0)
    if upsample:
        m = _upsample(m, x.shape[2:])
    return m.cpu().numpy()


def _final_linear(model: nn.Module) -> nn.Linear:
    lin = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not lin:
        raise ValueError("cam needs a final nn.Linear layer after global average pooling; "
                         "use grad_cam for other architectures")
    return lin[-1]


def _cam_layer(model: nn.Module, x: torch.Tensor, channels: int) -> nn.Module:
    """The last module run whose output is an (N, channels, h, w) map with h*w > 1: the
    feature maps that global average pooling turns into the linear layer's inputs."""
    seen = []
    with Hooks() as h, torch.no_grad():
        for m in model.modules():
            if not list(m.children()):
                h.forward(m, lambda mod, i, o: seen.append((mod, tuple(o.shape))))
        model(x[:1])
    for mod, shape in reversed(seen):
        if len(shape) == 4 and shape[1] == channels and shape[2] * shape[3] > 1:
            return mod
    raise ValueError(f"cam found no (N, {channels}, h, w) feature map feeding the final linear "
                     "layer: the model must be conv -> global average pool -> Linear; use grad_cam")


def cam(model: nn.Module, x, target=None, layer=None, upsample: bool = True) -> np.ndarray:
    """Class activation map: sum_k w[target, k] * A_k at ``layer`` (default: the last feature
    map with as many channels as the final linear layer has inputs, i.e. what GAP pools).

    Valid for models ending in conv features -> global average pooling -> ``nn.Linear``
    (the layer's channels must equal the linear layer's inputs). Returns (N, H, W) (or
    (N, h, w) with ``upsample=False``). For such models it equals Grad-CAM without the ReLU
    up to the factor 1/(h*w).
    """
    x = as_input(x, model)
    lin = _final_linear(model)
    with eval_mode(model), torch.no_grad():
        mod = _cam_layer(model, x, lin.in_features) if layer is None else get_layer(model, layer)
        store = {}
        with Hooks() as h:
            capture(model, mod, h, store)
            out = model(x)
        act = store.pop("act")
        if act.dim() != 4 or act.shape[1] != lin.in_features:
            raise ValueError(
                f"cam needs the layer's channels ({tuple(act.shape)}) to equal the final "
                f"linear layer's in_features ({lin.in_features}): the model must be "
                "conv -> global average pool -> Linear; use grad_cam otherwise")
        t = as_targets(target, out)
        w = lin.weight[t]                                  # (N, K)
        m = (w[:, :, None, None] * act).sum(1)
        if upsample:
            m = _upsample(m, x.shape[2:])
    return m.cpu().numpy()
