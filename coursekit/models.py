"""Small reference models for 32x32 images, weight initialization, NumPy -> torch (layer 2).

- :func:`lesson_cnn`: the NumPy lesson's CNN (``coursekit.nn.lesson_cnn``) in PyTorch,
  with the same layer indices; :func:`numpy_to_torch` copies a NumPy network's weights
  into the equivalent torch network so that both compute the same function.
- :func:`small_cnn`, :func:`vgg_style`, :func:`resnet_style`: the course's reference CNNs.
- :func:`deep_mlp` and :func:`init_weights`: the deep plain networks of the
  initialization lesson (zero, small random, Xavier/Glorot, He).

All models take ``x: (N, C, H, W)`` and return class scores ``(N, num_classes)``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .architectures import BasicBlock, conv_bn_relu

__all__ = ["lesson_cnn", "small_cnn", "vgg_style", "resnet_style", "BasicBlock", "deep_mlp",
           "init_weights", "INIT_SCHEMES", "numpy_to_torch", "conv_bn_relu"]


def _check_pos_int(name, v):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")


# --------------------------------------------------------------------------- CNNs
def lesson_cnn(in_channels: int = 3, num_classes: int = 10, size: int = 32,
               channels=(8, 16)) -> nn.Sequential:
    """``[Conv3x3(pad 1) - ReLU - MaxPool2] x len(channels) - Flatten - Linear`` in torch.

    Same architecture and layer indices as ``coursekit.nn.lesson_cnn`` (the NumPy lesson).
    """
    for name, v in (("in_channels", in_channels), ("num_classes", num_classes), ("size", size)):
        _check_pos_int(name, v)
    layers, c, s = [], in_channels, size
    for f in channels:
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c, s = f, s // 2
    if s < 1:
        raise ValueError(f"size={size} is too small for {len(channels)} pooling blocks")
    layers += [nn.Flatten(), nn.Linear(c * s * s, num_classes)]
    return nn.Sequential(*layers)


def small_cnn(in_channels: int = 3, num_classes: int = 10, width: int = 16,
              batchnorm: bool = True, dropout: float = 0.0) -> nn.Sequential:
    """Three conv stages (``width``, 2x, 4x channels; [Conv3x3-BN-ReLU] then max-pool for
    the first two), global average pooling, (dropout), Linear. About 25k parameters at
    ``width=16``. The benchmark model."""
    _check_pos_int("width", width)
    w = width
    layers = [*conv_bn_relu(in_channels, w, batchnorm), nn.MaxPool2d(2),
              *conv_bn_relu(w, 2 * w, batchnorm), nn.MaxPool2d(2),
              *conv_bn_relu(2 * w, 4 * w, batchnorm),
              nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(4 * w, num_classes))
    return nn.Sequential(*layers)


def vgg_style(in_channels: int = 3, num_classes: int = 10, widths=(16, 32, 64),
              convs_per_stage: int = 2, batchnorm: bool = True, dropout: float = 0.5,
              hidden: int = 128, size: int = 32) -> nn.Sequential:
    """VGG-style: stages of ``convs_per_stage`` x [Conv3x3-(BN)-ReLU] + MaxPool2, then the
    classifier Flatten - Linear(hidden) - ReLU - Dropout - Linear (input ``size`` x ``size``)."""
    _check_pos_int("convs_per_stage", convs_per_stage)
    layers, c, s = [], in_channels, size
    for w in widths:
        for _ in range(convs_per_stage):
            layers += conv_bn_relu(c, w, batchnorm)
            c = w
        layers.append(nn.MaxPool2d(2))
        s //= 2
    if s < 1:
        raise ValueError(f"size={size} is too small for {len(widths)} pooling stages")
    layers += [nn.Flatten(), nn.Linear(c * s * s, hidden), nn.ReLU(inplace=True),
               nn.Dropout(dropout), nn.Linear(hidden, num_classes)]
    return nn.Sequential(*layers)


def resnet_style(in_channels: int = 3, num_classes: int = 10, widths=(16, 32, 64),
                 blocks_per_stage: int = 1) -> nn.Sequential:
    """ResNet-style: stem Conv3x3-BN-ReLU, stages of :class:`BasicBlock` (stride 2 at the
    start of every stage after the first), global average pooling, Linear."""
    _check_pos_int("blocks_per_stage", blocks_per_stage)
    layers = conv_bn_relu(in_channels, widths[0])
    c = widths[0]
    for i, w in enumerate(widths):
        for j in range(blocks_per_stage):
            layers.append(BasicBlock(c, w, stride=2 if (i > 0 and j == 0) else 1))
            c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- initialization
INIT_SCHEMES = ("zero", "small", "xavier", "he", "default")
"""Initialization schemes of :func:`init_weights` (``default`` = torch's own)."""


def init_weights(model: nn.Module, scheme: str = "he", small_std: float = 0.01,
                 seed: int | None = None) -> nn.Module:
    """Re-initialize every Conv2d/Linear weight of ``model`` in place; biases to zero.

    scheme: ``"zero"`` (all zeros), ``"small"`` (N(0, small_std^2)), ``"xavier"`` (Glorot
    normal, std = sqrt(2 / (fan_in + fan_out))), ``"he"`` (Kaiming normal for ReLU,
    std = sqrt(2 / fan_in)), ``"default"`` (leave torch's initialization). Returns ``model``.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    if scheme == "default":
        return model
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    for m in model.modules():
        if not isinstance(m, (nn.Conv2d, nn.Linear)):
            continue
        w = m.weight
        fan_out, fan_in = w.shape[0] * w[0, 0].numel(), w[0].numel()
        std = {"zero": 0.0, "small": small_std, "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
               "he": math.sqrt(2.0 / fan_in)}[scheme]
        with torch.no_grad():
            w.copy_(torch.randn(w.shape, generator=gen, dtype=w.dtype) * std)
            if m.bias is not None:
                m.bias.zero_()
    return model


def deep_mlp(in_features: int, num_classes: int = 10, depth: int = 10, width: int = 256,
             activation: str = "relu", batchnorm: bool = False,
             dropout: float = 0.0, norm: str | None = None, groups: int = 8) -> nn.Sequential:
    """A plain deep network: Flatten, ``depth`` x [Linear(width) - (norm) - act - (Dropout)],
    Linear(num_classes). activation: "relu" or "tanh". norm: None, ``"batch"``
    (BatchNorm1d; ``batchnorm=True`` is the same) or ``"group"`` (GroupNorm with ``groups``
    groups: statistics per example, independent of the batch)."""
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"activation must be one of {tuple(acts)}, got {activation!r}")
    _check_pos_int("depth", depth)
    norm = "batch" if batchnorm and norm is None else norm
    norms = {None: lambda: [], "batch": lambda: [nn.BatchNorm1d(width)],
             "group": lambda: [nn.GroupNorm(groups, width)]}
    if norm not in norms:
        raise ValueError(f"norm must be None, 'batch' or 'group', got {norm!r}")
    layers, d = [nn.Flatten()], in_features
    for _ in range(depth):
        layers += [nn.Linear(d, width), *norms[norm](), acts[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        d = width
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- NumPy -> torch
def _torch_layer(layer, prev_flat: bool, dtype):
    """One ``coursekit.nn`` module -> the equivalent torch module with its values copied."""
    from coursekit import nn as cnn

    def t(a):
        return torch.tensor(np.array(a, copy=True), dtype=dtype)

    def put(param, value):
        with torch.no_grad():
            param.copy_(t(value))

    if isinstance(layer, cnn.Conv2d):
        w = layer.params["w"]
        m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride=layer.stride,
                      padding=layer.padding).to(dtype)
        put(m.weight, w)
        put(m.bias, layer.params["b"])
    elif isinstance(layer, cnn.Linear):
        w = layer.params["w"]
        m = nn.Linear(w.shape[0], w.shape[1]).to(dtype)
        put(m.weight, w.T)
        put(m.bias, layer.params["b"])
    elif isinstance(layer, cnn.BatchNorm):
        c = layer.params["gamma"].size
        one_d = isinstance(layer, cnn.BatchNorm1d) or (
            not isinstance(layer, cnn.BatchNorm2d) and prev_flat)
        m = (nn.BatchNorm1d if one_d else nn.BatchNorm2d)(
            c, eps=layer.eps, momentum=layer.momentum).to(dtype)
        put(m.weight, layer.params["gamma"])
        put(m.bias, layer.params["beta"])
        put(m.running_mean, layer.buffers["running_mean"])
        put(m.running_var, layer.buffers["running_var"])
        m.num_batches_tracked.fill_(layer.num_batches_tracked)
    elif isinstance(layer, cnn.Dropout):
        if layer.mode != "inverted":
            raise ValueError("only inverted dropout has a torch equivalent (nn.Dropout); "
                             "build the NumPy Dropout with mode='inverted'")
        m = nn.Dropout(layer.p)
    elif isinstance(layer, cnn.ReLU):
        m = nn.ReLU()
    elif isinstance(layer, cnn.AvgPool2d):  # before MaxPool2d: AvgPool2d subclasses it
        m = nn.AvgPool2d(layer.kernel_size, layer.stride)
    elif isinstance(layer, cnn.MaxPool2d):
        m = nn.MaxPool2d(layer.kernel_size, layer.stride)
    elif isinstance(layer, cnn.Flatten):
        m = nn.Flatten()
    elif isinstance(layer, cnn.Sequential):
        m = numpy_to_torch(layer, dtype=dtype)
    else:
        raise TypeError(f"numpy_to_torch: no torch equivalent known for "
                        f"{type(layer).__name__}; supported: Conv2d, Linear, BatchNorm(1d/2d), "
                        "Dropout, ReLU, MaxPool2d, AvgPool2d, Flatten, Sequential")
    return m.train(layer.training)


def numpy_to_torch(numpy_net, dtype=None) -> nn.Sequential:
    """The torch ``nn.Sequential`` equivalent to a ``coursekit.nn.Sequential``, weights copied.

    Same layer indices (``"0.w"`` -> ``"0.weight"``), Linear weights transposed
    (NumPy ``w: (D, M)`` -> torch ``(M, D)``), BatchNorm running statistics copied, same
    train/eval mode. dtype: torch dtype (default: that of the NumPy parameters, so float64
    networks give the same outputs up to rounding, ~1e-12). The copy shares no memory.
    """
    from coursekit import nn as cnn

    if not isinstance(numpy_net, cnn.Sequential):
        raise TypeError("numpy_net must be a coursekit.nn.Sequential (e.g. coursekit.nn."
                        f"lesson_cnn()), got {type(numpy_net).__name__}")
    if dtype is None:
        arrays = list(numpy_net.params.values())
        dtype = {np.dtype(np.float32): torch.float32}.get(
            arrays[0].dtype if arrays else np.dtype(np.float64), torch.float64)
    layers, flat = [], False
    for layer in numpy_net.layers:
        layers.append(_torch_layer(layer, flat, dtype))
        flat = flat or isinstance(layer, (cnn.Flatten, cnn.Linear))
    return nn.Sequential(*layers).train(numpy_net.training)
