"""Batch normalization in NumPy (layer 0: numpy only).

Training mode normalizes each feature (each channel for images) with the statistics of
the current mini-batch, then scales and shifts with learnable ``gamma`` and ``beta``::

    mu = mean(x), var = mean((x - mu)**2)        # biased, over the batch (and H, W)
    xhat = (x - mu) / sqrt(var + eps)
    out = gamma * xhat + beta

It also keeps *running* statistics for evaluation mode. Two conventions exist:

- **torch** (used here): ``running = (1 - momentum) * running + momentum * batch`` with
  ``momentum=0.1``, and the running *variance* tracks the **unbiased** batch variance
  ``var * N / (N - 1)``. Running statistics start at mean 0, variance 1.
- **cs231n**: ``running = momentum * running + (1 - momentum) * batch`` with
  ``momentum=0.9`` (the same weighting, written the other way round) and the biased
  variance. Pass ``convention="cs231n"`` to use it.

Shapes: ``x`` is ``(N, D)`` (fully connected) or ``(N, C, H, W)`` (spatial batch norm,
statistics per channel over ``N, H, W``); ``gamma``, ``beta``: ``(D,)`` or ``(C,)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward", "batchnorm_state", "BatchNorm",
           "BatchNorm1d", "BatchNorm2d"]

_CONVENTIONS = ("torch", "cs231n")


def batchnorm_state(num_features: int, dtype=np.float64) -> dict:
    """Fresh running statistics for ``num_features`` features: mean 0, variance 1 (as torch)."""
    if not isinstance(num_features, (int, np.integer)) or num_features < 1:
        raise ValueError(f"num_features must be a positive int, got {num_features!r}")
    return {"running_mean": np.zeros(num_features, dtype=dtype),
            "running_var": np.ones(num_features, dtype=dtype),
            "num_batches_tracked": 0}


def _to_2d(x: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D); (N, C, H, W) -> (N*H*W, C)."""
    if x.ndim == 2:
        return x
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(-1, c)


def _from_2d(y: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`_to_2d` for an input of shape ``shape``."""
    if len(shape) == 2:
        return y
    n, c, h, w = shape
    return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def _check(x, gamma, beta, state, momentum, eps, convention):
    if not isinstance(x, np.ndarray) or x.ndim not in (2, 4):
        got = f"shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"x must be a NumPy array of shape (N, D) or (N, C, H, W), got {got}")
    c = x.shape[1]
    for name, v in (("gamma", gamma), ("beta", beta)):
        if np.shape(v) != (c,):
            raise ValueError(f"{name} must have shape ({c},) (one value per feature/channel "
                             f"of x with shape {x.shape}), got {np.shape(v)}")
    if not isinstance(state, dict):
        raise TypeError("state must be a dict holding running_mean/running_var "
                        f"(start with {{}} or batchnorm_state({c})), got {type(state).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")


def batchnorm_forward(x, gamma, beta, state, train=True, momentum=0.1, eps=1e-5,
                      convention="torch"):
    """Batch normalization forward pass; updates ``state`` in place in training mode.

    x: (N, D) or (N, C, H, W); gamma, beta: (D,) or (C,).
    state: dict with ``running_mean``, ``running_var`` (created when missing, as torch:
    zeros and ones). ``momentum`` follows ``convention`` (see the module docstring).
    Returns ``(out, cache)`` with ``out`` shaped like ``x``.
    """
    _check(x, gamma, beta, state, momentum, eps, convention)
    c = x.shape[1]
    if "running_mean" not in state:
        state.update(batchnorm_state(c, dtype=x.dtype))
    x2 = _to_2d(x)
    m = x2.shape[0]
    if train:
        if m < 2:
            raise ValueError("batch normalization in training mode needs more than one value "
                             f"per channel (got x of shape {x.shape}); use a larger batch or "
                             "train=False")
        mu = x2.mean(axis=0)
        xc = x2 - mu
        var = (xc ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        xhat = xc / std
        if convention == "torch":
            unbiased = var * m / (m - 1)
            state["running_mean"] = (1 - momentum) * state["running_mean"] + momentum * mu
            state["running_var"] = (1 - momentum) * state["running_var"] + momentum * unbiased
        else:
            state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
            state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
        state["num_batches_tracked"] = state.get("num_batches_tracked", 0) + 1
    else:
        std = np.sqrt(state["running_var"] + eps)
        xhat = (x2 - state["running_mean"]) / std
    out2 = gamma * xhat + beta
    cache = {"xhat": xhat, "std": std, "gamma": gamma, "train": train, "shape": x.shape}
    return _from_2d(out2, x.shape), cache


def batchnorm_backward(dout, cache):
    """Backward pass of :func:`batchnorm_forward`.

    dout: upstream gradient shaped like ``x``. Returns ``(dx, dgamma, dbeta)``.
    In training mode the batch statistics depend on ``x``; the compact formula is
    ``dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std``.
    """
    if np.shape(dout) != cache["shape"]:
        raise ValueError(f"dout must have the shape of x {cache['shape']}, got {np.shape(dout)}")
    d2 = _to_2d(dout)
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    dbeta = d2.sum(axis=0)
    dgamma = (d2 * xhat).sum(axis=0)
    dxhat = d2 * gamma
    if cache["train"]:
        dx2 = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    else:
        dx2 = dxhat / std
    return _from_2d(dx2, cache["shape"]), dgamma, dbeta


# --------------------------------------------------------------------------- module
from .modules import Module  # noqa: E402  (module classes below build on the functions above)


class BatchNorm(Module):
    """Batch normalization module for ``(N, D)`` or ``(N, C, H, W)`` input.

    params ``gamma: (C,)`` (ones), ``beta: (C,)`` (zeros); buffers ``running_mean``,
    ``running_var`` (torch's ``BatchNorm*d.weight/.bias/.running_mean/.running_var``).
    Uses batch statistics in training mode and the running ones after ``eval()``.
    """

    ndim: tuple = (2, 4)

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 dtype=np.float64):
        super().__init__()
        state = batchnorm_state(num_features, dtype)
        self.params["gamma"] = np.ones(num_features, dtype=dtype)
        self.params["beta"] = np.zeros(num_features, dtype=dtype)
        self.buffers["running_mean"] = state["running_mean"]
        self.buffers["running_var"] = state["running_var"]
        self.num_batches_tracked = 0
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        if np.ndim(x) not in self.ndim:
            raise ValueError(f"{type(self).__name__} expects input with {self.ndim} dimensions, "
                             f"got shape {np.shape(x)}")
        state = {"running_mean": self.buffers["running_mean"],
                 "running_var": self.buffers["running_var"],
                 "num_batches_tracked": self.num_batches_tracked}
        out, self._cache = batchnorm_forward(x, self.params["gamma"], self.params["beta"], state,
                                             self.training, self.momentum, self.eps)
        # update the buffers in place, so references held elsewhere stay valid
        self.buffers["running_mean"][...] = state["running_mean"]
        self.buffers["running_var"][...] = state["running_var"]
        self.num_batches_tracked = state["num_batches_tracked"]
        return out

    def backward(self, dout):
        dx, self.grads["gamma"], self.grads["beta"] = batchnorm_backward(dout, self._need_cache())
        return dx

    def extra_repr(self):
        return f"{self.params['gamma'].size}, momentum={self.momentum}, eps={self.eps}"


class BatchNorm1d(BatchNorm):
    """:class:`BatchNorm` for ``(N, D)`` input only (torch ``nn.BatchNorm1d``)."""

    ndim = (2,)


class BatchNorm2d(BatchNorm):
    """:class:`BatchNorm` for ``(N, C, H, W)`` input only (torch ``nn.BatchNorm2d``)."""

    ndim = (4,)
