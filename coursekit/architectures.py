"""Classic CNN building blocks, compact and checked against torchvision.

- :func:`vgg_block` and :func:`two_3x3_vs_one_5x5` (same receptive field, fewer parameters),
- :class:`Inception` (GoogLeNet), :class:`BasicBlock` (ResNet), :class:`DenseBlock` (DenseNet),
  whose submodule names follow torchvision so torchvision's weights load into them,
- :func:`fc_to_conv`: a classifier's linear layers as convolutions, so the trained network
  slides over a larger image in one forward pass (OverFeat / FCN),
- :func:`deep_cnn`: a 20-layer plain net and its residual twin (:class:`ConvPair`), for
  gradient flow at initialization and training curves,
- :class:`ConvAutoencoder` (strided convs down, transposed convs up) and :class:`SegNet`
  (per-pixel prediction), with :func:`fit_dense` to train them.
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .arithmetic import count_parameters
from .torchutil import eval_mode, model_device


# ----------------------------------------------------------------------------- conv-BN-ReLU
def conv_bn_relu(cin: int, cout: int, batchnorm: bool = True, stride: int = 1,
                 inplace: bool = True, kernel_size: int = 3, eps: float = 1e-5) -> list:
    """``[Conv k x k (padding k//2, no bias with BN), (BatchNorm2d), ReLU]`` as a list of
    layers to splice into an ``nn.Sequential``: (N, cin, H, W) -> (N, cout, H/stride, W/stride).

    The one conv-BN-ReLU of coursekit (the models, the source CNN, :class:`ConvBN`). A list
    rather than a module keeps the ``Sequential`` indices (and so the state-dict names) flat.
    ``inplace=False`` for models whose ReLU outputs get backward hooks."""
    return [nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=kernel_size // 2,
                      bias=not batchnorm),
            *([nn.BatchNorm2d(cout, eps=eps)] if batchnorm else []), nn.ReLU(inplace=inplace)]


# ----------------------------------------------------------------------------- VGG
def vgg_block(in_channels: int, out_channels: int, num_convs: int = 2, kernel_size: int = 3,
              pool: bool = True) -> nn.Sequential:
    """VGG block: ``num_convs`` x (conv k x k, padding k//2, ReLU) then 2x2 max-pool.

    (N, in, H, W) -> (N, out, H/2, W/2). ``vgg_block(3, 64)`` has the layout and parameter
    count of ``torchvision.models.vgg16().features[:5]``.
    """
    layers, c = [], in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, out_channels, kernel_size, padding=kernel_size // 2),
                   nn.ReLU(inplace=True)]
        c = out_channels
    if pool:
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def two_3x3_vs_one_5x5(channels: int = 64) -> dict:
    """Parameters and receptive field of two stacked 3x3 convs vs one 5x5 conv (C -> C).

    Both see a 5x5 window; the stack has 2*9*C^2 weights (+ an extra ReLU) vs 25*C^2.
    """
    from .arithmetic import receptive_field
    two = vgg_block(channels, channels, 2, 3, pool=False)
    one = vgg_block(channels, channels, 1, 5, pool=False)
    return {"two 3x3": {"params": count_parameters(two), "receptive_field": receptive_field([(3, 1), (3, 1)]).size,
                        "nonlinearities": 2},
            "one 5x5": {"params": count_parameters(one), "receptive_field": receptive_field([(5, 1)]).size,
                        "nonlinearities": 1}}


# ----------------------------------------------------------------------------- Inception
class ConvBN(nn.Sequential):
    """:func:`conv_bn_relu` (k x k, padding k//2) as one module whose children are named
    ``conv``/``bn``/``relu``, so torchvision's ``BasicConv2d`` weights load into it."""

    def __init__(self, cin: int, cout: int, kernel_size: int, eps: float = 1e-3):
        super().__init__(OrderedDict(zip(("conv", "bn", "relu"),
                                         conv_bn_relu(cin, cout, kernel_size=kernel_size, eps=eps))))


class Inception(nn.Module):
    """GoogLeNet's Inception module: four parallel branches concatenated on channels.

    1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1;
    (N, in, H, W) -> (N, c1 + c3 + c5 + pool_proj, H, W). The 1x1 "bottleneck" convs keep
    the 3x3/5x5 branches cheap. torchvision's GoogLeNet uses a 3x3 kernel in the "5x5"
    branch (a known quirk kept for its weights): ``five_kernel=3`` reproduces it.
    """

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj,
                 five_kernel: int = 5):
        super().__init__()
        self.branch1 = ConvBN(in_channels, c1, 1)
        self.branch2 = nn.Sequential(ConvBN(in_channels, c3_reduce, 1), ConvBN(c3_reduce, c3, 3))
        self.branch3 = nn.Sequential(ConvBN(in_channels, c5_reduce, 1),
                                     ConvBN(c5_reduce, c5, five_kernel))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     ConvBN(in_channels, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


# ----------------------------------------------------------------------------- ResNet
class BasicBlock(nn.Module):
    """ResNet basic block: relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x)).

    (N, in, H, W) -> (N, out, H/stride, W/stride); the shortcut is the identity, or a 1x1
    conv + BN ("downsample") when the stride or channel count changes. Names match
    ``torchvision.models.resnet.BasicBlock``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


# ----------------------------------------------------------------------------- plain vs residual
class ConvPair(nn.Module):
    """Two 3x3 convolutions (width -> width, padding 1) with ReLUs, no normalization:
    ``relu(conv2(relu(conv1(x))))``, or with ``residual=True``
    ``relu(conv2(relu(conv1(x))) + x)``. (N, width, H, W) -> (N, width, H, W)."""

    def __init__(self, width: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        out = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(out + x if self.residual else out)


def deep_cnn(depth: int = 20, width: int = 16, residual: bool = False, in_channels: int = 1,
             num_classes: int = 10, init: str = "default") -> nn.Sequential:
    """A ``depth``-layer CNN counted like ResNet-20: a stem conv, (depth - 2) / 2
    :class:`ConvPair` blocks, global average pooling, one linear layer. No BatchNorm, so
    that what the shortcuts change is visible.

    (N, in_channels, H, W) -> (N, num_classes). ``residual`` switches every block's identity
    shortcut on; the layers and parameter count are identical either way. ``init``:
    ``"default"`` (PyTorch's layer defaults) or ``"he"`` (Kaiming normal for ReLU, zero biases).
    """
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be an even number >= 4 (stem + pairs + head), got {depth}")
    if init not in ("default", "he"):
        raise ValueError(f"init must be 'default' or 'he', got {init!r}")
    blocks = [ConvPair(width, residual) for _ in range((depth - 2) // 2)]
    net = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), *blocks,
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
    if init == "he":
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
    return net


# ----------------------------------------------------------------------------- DenseNet
class DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (bn_size*growth) -> BN-ReLU-conv3x3 (growth): the new feature maps."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4):
        super().__init__()
        mid = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(mid)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(mid, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.Module):
    """DenseNet block: every layer sees the concatenation of all earlier feature maps.

    (N, in, H, W) -> (N, in + num_layers * growth_rate, H, W). Names match torchvision's
    ``_DenseBlock`` (``denselayer1`` ...).
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int = 32, bn_size: int = 4):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size))

    def forward(self, x):
        feats = [x]
        for layer in self.children():
            feats.append(layer(torch.cat(feats, 1)))
        return torch.cat(feats, 1)


# ----------------------------------------------------------------------------- FC -> conv
def _leaves(model: nn.Module) -> list:
    """The modules of a (nested) ``nn.Sequential`` in execution order."""
    if isinstance(model, nn.Sequential):
        return [m for child in model for m in _leaves(child)]
    return [model]


def fc_to_conv(model: nn.Sequential, input_size) -> nn.Sequential:
    """Turn a classifier ``features -> Flatten -> Linear -> ... -> Linear`` into a fully
    convolutional network with the same weights.

    ``input_size``: (C, H, W) the classifier was trained on. The first linear layer becomes a
    conv whose kernel covers the whole (c, h, w) feature map, later ones 1x1 convs. On an
    (N, C, H, W) input the result equals the classifier's scores (N, K, 1, 1); on a larger
    image it returns a map (N, K, H', W') of scores of every crop at steps of the network's
    total stride -- exactly equal when the convs use no padding (with padding the crops'
    borders see real neighbours instead of zeros).
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError("fc_to_conv expects an nn.Sequential classifier (features, Flatten, Linear...)")
    mods = _leaves(model)
    flat = [i for i, m in enumerate(mods) if isinstance(m, nn.Flatten)]
    if len(flat) != 1:
        raise ValueError(f"the model must contain exactly one nn.Flatten, found {len(flat)}")
    k = flat[0]
    if any(isinstance(m, nn.Linear) for m in mods[:k]):
        raise ValueError("linear layers before Flatten are not supported")
    head = [m for m in mods[k + 1:]]
    bad = [type(m).__name__ for m in head if not isinstance(m, (nn.Linear, nn.ReLU, nn.Dropout,
                                                                 nn.Identity, nn.Sigmoid, nn.Tanh))]
    if bad:
        raise ValueError(f"after Flatten only Linear layers and elementwise activations can be "
                         f"converted, found {bad}")
    c, h, w = (int(v) for v in input_size)
    features = nn.Sequential(*[copy.deepcopy(m) for m in mods[:k]])
    with torch.no_grad(), eval_mode(features):
        fshape = features(torch.zeros(1, c, h, w, device=model_device(model))).shape[1:]
    if len(fshape) != 3:
        raise ValueError(f"features must output (N, C, h, w) before Flatten, got {tuple(fshape)}")
    out, first = list(features), True
    for m in head:
        if isinstance(m, nn.Linear):
            fc, fh, fw = fshape if first else (m.in_features, 1, 1)
            if fc * fh * fw != m.in_features:
                raise ValueError(f"Linear expects {m.in_features} inputs but the features give "
                                 f"{fc}x{fh}x{fw}; check input_size")
            conv = nn.Conv2d(fc, m.out_features, (fh, fw), bias=m.bias is not None).to(m.weight.device)
            with torch.no_grad():
                conv.weight.copy_(m.weight.reshape(m.out_features, fc, fh, fw))
                if m.bias is not None:
                    conv.bias.copy_(m.bias)
            out.append(conv)
            first = False
        else:
            out.append(copy.deepcopy(m))
    return nn.Sequential(*out)


def classify_crops(model: nn.Module, image: torch.Tensor, crop: int, step: int) -> torch.Tensor:
    """Scores of every ``crop`` x ``crop`` window of ``image`` (N, C, H, W) at steps of ``step``,
    one crop at a time: (N, K, H', W'). The slow reference for :func:`fc_to_conv`."""
    n, _, hh, ww = image.shape
    rows = range(0, hh - crop + 1, step)
    cols = range(0, ww - crop + 1, step)
    with torch.no_grad():
        return torch.stack([torch.stack([model(image[:, :, i:i + crop, j:j + crop]) for j in cols], -1)
                            for i in rows], -2)


# ----------------------------------------------------------------------------- dense prediction
class ConvAutoencoder(nn.Module):
    """Strided convs down (32 -> 16 -> 8), transposed convs up (8 -> 16 -> 32).

    (N, C, H, W) -> (N, C, H, W) in [0, 1]: the last layer is a sigmoid because targets are
    pixel intensities in [0, 1] (train with MSE or binary cross-entropy). H, W divisible by 4.
    """

    def __init__(self, channels: int = 3, width: int = 16):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(w, channels, 4, stride=2, padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


class SegNet(nn.Module):
    """A small encoder-decoder for per-pixel classification (a mini U-Net, one skip).

    (N, C, H, W) -> logits (N, classes, H, W). No final activation: for a binary mask use
    ``BCEWithLogitsLoss`` (sigmoid + BCE, numerically stable), for several classes
    ``CrossEntropyLoss`` over the class dimension. H, W divisible by 4.
    """

    def __init__(self, channels: int = 3, classes: int = 1, width: int = 16):
        super().__init__()
        w = width
        self.enc1 = nn.Sequential(nn.Conv2d(channels, w, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU())
        self.enc3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU())
        self.up3 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv2d(4 * w, 2 * w, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = nn.Sequential(nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU())
        self.out = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([self.up3(e3), e2], 1))
        d1 = self.dec1(torch.cat([self.up2(d2), e1], 1))
        return self.out(d1)


def fit_dense(model: nn.Module, x, y, loss, epochs: int = 5, batch_size: int = 64,
              lr: float = 2e-3, seed: int = 0, progress: bool = True) -> list:
    """Train ``model`` to map ``x`` (N, C, H, W) to per-pixel targets ``y`` with Adam.

    Returns the per-epoch mean training loss. (Classification uses ``coursekit.train.fit``;
    this loop is for image-to-image outputs, where "accuracy" has no meaning.)
    """
    from tqdm.auto import tqdm
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress):
        perm, total = torch.randperm(len(x), generator=g), 0.0
        for k in range(0, len(x), batch_size):
            idx = perm[k:k + batch_size]
            batch_loss = loss(model(x[idx]), y[idx])
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            total += batch_loss.item() * len(idx)
        losses.append(total / len(x))
    model.eval()
    return losses


def iou(logits: torch.Tensor, masks) -> float:
    """Mean intersection-over-union of ``logits > 0`` (N, 1, H, W) and boolean ``masks`` (N, H, W)."""
    pred = (torch.as_tensor(logits)[:, 0] > 0).cpu().numpy()
    m = np.asarray(masks, bool)
    inter = (pred & m).sum((1, 2))
    union = (pred | m).sum((1, 2))
    return float(np.mean(np.where(union > 0, inter / np.maximum(union, 1), 1.0)))
