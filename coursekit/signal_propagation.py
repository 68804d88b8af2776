"""How a signal and its gradient travel through depth at initialization (layer 2).

The initialization lesson (06) and the batch-normalization lesson (07) measure what their
formulas predict:

- :func:`glorot_std` / :func:`glorot_uniform_bound` / :func:`he_std`: the Xavier/Glorot
  normal standard deviation ``sqrt(2/(n_in+n_out))``, the uniform bound
  ``a = sqrt(6/(n_in+n_out))`` (U(-a, a) has variance a²/3) and He's ``sqrt(2/n_in)``;
- :func:`relu_std_prediction`: the std of ReLU activations layer by layer when every layer
  passes on the *second moment* times ``gain`` (variance halves with ReLU: std x 1/sqrt 2);
- :func:`weight_grad_norms`: the L2 norm of every weight tensor's gradient on one batch,
  in depth order (gradient flow);
- :func:`singular_values`: the singular values of a weight matrix, whose root mean
  square is ``sigma * sqrt(n)`` for i.i.d. N(0, sigma²) entries: the factor by which the
  layer scales a random input's norm.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .monitor import grad_values
from .torchutil import model_mode

__all__ = ["glorot_std", "glorot_uniform_bound", "he_std", "relu_std_prediction",
           "weight_grad_norms", "singular_values"]

RELU_STD_FACTOR = math.sqrt(0.5 - 1.0 / (2.0 * math.pi))
"""std(relu(z)) / std(z) for z ~ N(0, s²): sqrt(1/2 - 1/(2 pi)) ~ 0.584."""


def _fans(n_in, n_out):
    for name, v in (("n_in", n_in), ("n_out", n_out)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


def glorot_std(n_in: int, n_out: int) -> float:
    """Xavier/Glorot normal: ``sqrt(2 / (n_in + n_out))`` (``torch.nn.init.xavier_normal_``)."""
    _fans(n_in, n_out)
    return math.sqrt(2.0 / (n_in + n_out))


def glorot_uniform_bound(n_in: int, n_out: int) -> float:
    """Xavier/Glorot uniform: weights ~ U(-a, a) with ``a = sqrt(6 / (n_in + n_out))``,
    the same variance ``a²/3 = 2/(n_in+n_out)`` as :func:`glorot_std` (``xavier_uniform_``)."""
    _fans(n_in, n_out)
    return math.sqrt(6.0 / (n_in + n_out))


def he_std(n_in: int) -> float:
    """He/Kaiming normal for ReLU: ``sqrt(2 / n_in)`` (``kaiming_normal_``, fan_in mode)."""
    _fans(n_in, 1)
    return math.sqrt(2.0 / n_in)


def relu_std_prediction(depth: int, gain: float, input_second_moment: float = 1.0) -> np.ndarray:
    """Predicted std of the ReLU outputs of layers 1..depth of a wide plain ReLU net.

    Layer k's pre-activation z_k has variance ``gain * E[x_{k-1}²]`` (gain = n_in σ²) and
    ``E[relu(z)²] = Var(z)/2``: the second moment is multiplied by ``gain/2`` per layer, so the
    std by ``sqrt(gain/2)`` (1/sqrt 2 for Xavier on square layers, 1 for He). The std of a
    ReLU output is ``RELU_STD_FACTOR * std(z)``. Returns an array (depth,).
    """
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    var_z = gain * input_second_moment * (gain / 2.0) ** np.arange(depth)
    return RELU_STD_FACTOR * np.sqrt(var_z)


def weight_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss=None,
                      train: bool = True) -> dict:
    """``{weight name: ||dL/dW||_2}`` in depth order for one batch (x: (N, ...), y: (N,)).

    loss defaults to cross-entropy; the model runs in train mode (batch statistics) unless
    ``train=False``; existing gradients are cleared before and after, the mode restored.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loss_fn = loss if loss is not None else nn.functional.cross_entropy
    model.zero_grad(set_to_none=True)
    try:
        with model_mode(model, train):
            loss_fn(model(x), y).backward()
        return {name: float(np.linalg.norm(g)) for name, g in grad_values(model).items()}
    finally:
        model.zero_grad(set_to_none=True)


def singular_values(weight) -> np.ndarray:
    """Singular values (descending) of a weight matrix ``(n_out, n_in)`` (tensor or array)."""
    w = weight.detach().cpu().double().numpy() if isinstance(weight, torch.Tensor) \
        else np.asarray(weight, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D weight matrix (n_out, n_in), got shape {w.shape}")
    return np.linalg.svd(w, compute_uv=False)
