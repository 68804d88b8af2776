"""Weight penalties: L2 (weight decay), L1 and elastic net, added to the data loss.

``loss = data_loss + penalty(model)``. By default only weight tensors (``ndim >= 2``:
conv kernels and linear matrices) are penalized, not biases or BatchNorm's gamma/beta,
as is usual. :func:`l2_penalty` uses ``lam/2 * ||w||^2`` so that its gradient is
``lam * w``: adding it to the loss equals SGD's ``weight_decay=lam``
(``tests/test_regularization.py`` checks this) for SGD, with or without momentum. Under
Adam it does not: the penalty's gradient is divided by Adam's running RMS like every
gradient, so weights with large gradients are hardly decayed; AdamW decouples the decay
(``coursekit.optim.Adam(decoupled=True)``).

L1 in the loss (:func:`l1_penalty`) gives the subgradient ``lam * sign(w)``: it pushes small
weights towards 0 but steps over it, so they end up *near* zero, not at it. Exact zeros come
from the **proximal** (soft-threshold) step, :class:`ProximalL1`: after each optimizer step,
``w <- sign(w) * max(|w| - lr * lam, 0)``.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["penalized_parameters", "l2_penalty", "l1_penalty", "elastic_net_penalty",
           "make_penalty", "sparsity", "soft_threshold_", "ProximalL1", "exact_zero_fraction"]


def penalized_parameters(model: nn.Module, include_bias: bool = False) -> list:
    """The parameters a penalty applies to: weights (``ndim >= 2``), plus the 1-D ones with
    ``include_bias=True``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [p for p in model.parameters() if p.requires_grad and (include_bias or p.dim() >= 2)]


def _check_lam(lam):
    if not isinstance(lam, (int, float)) or lam < 0:
        raise ValueError(f"the penalty strength lam must be a number >= 0, got {lam!r}")


def l2_penalty(model: nn.Module, lam: float, include_bias: bool = False) -> torch.Tensor:
    """``lam / 2 * sum ||w||^2`` (gradient ``lam * w``: weight decay). Scalar tensor."""
    _check_lam(lam)
    ps = penalized_parameters(model, include_bias)
    return lam / 2 * sum((p * p).sum() for p in ps) if ps else torch.zeros(())


def l1_penalty(model: nn.Module, lam: float, include_bias: bool = False) -> torch.Tensor:
    """``lam * sum |w|`` (gradient ``lam * sign(w)``: pushes small weights to exactly 0)."""
    _check_lam(lam)
    ps = penalized_parameters(model, include_bias)
    return lam * sum(p.abs().sum() for p in ps) if ps else torch.zeros(())


def elastic_net_penalty(model: nn.Module, lam: float, l1_ratio: float = 0.5,
                        include_bias: bool = False) -> torch.Tensor:
    """``l1_ratio * L1 + (1 - l1_ratio) * L2`` with the same ``lam`` (sklearn's convention)."""
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1] (1 = pure L1, 0 = pure L2), got {l1_ratio}")
    return (l1_ratio * l1_penalty(model, lam, include_bias)
            + (1 - l1_ratio) * l2_penalty(model, lam, include_bias))


def make_penalty(kind: str, lam: float, l1_ratio: float = 0.5, include_bias: bool = False):
    """A ``model -> scalar`` penalty by name: ``"none"``, ``"l2"``, ``"l1"`` or ``"elastic"``."""
    _check_lam(lam)
    if kind == "none":
        return lambda model: torch.zeros(())
    if kind == "l2":
        return lambda model: l2_penalty(model, lam, include_bias)
    if kind == "l1":
        return lambda model: l1_penalty(model, lam, include_bias)
    if kind == "elastic":
        return lambda model: elastic_net_penalty(model, lam, l1_ratio, include_bias)
    raise ValueError(f"kind must be 'none', 'l2', 'l1' or 'elastic', got {kind!r}")


def sparsity(model: nn.Module, threshold: float = 1e-3) -> float:
    """Fraction of penalized weights with ``|w| < threshold`` (L1 drives this up)."""
    ps = penalized_parameters(model)
    total = sum(p.numel() for p in ps)
    small = sum(int((p.detach().abs() < threshold).sum()) for p in ps)
    return small / max(total, 1)


def exact_zero_fraction(model: nn.Module) -> float:
    """Fraction of penalized weights that are exactly 0."""
    ps = penalized_parameters(model)
    return sum(int((p.detach() == 0).sum()) for p in ps) / max(sum(p.numel() for p in ps), 1)


@torch.no_grad()
def soft_threshold_(params, threshold: float) -> None:
    """In place ``w <- sign(w) * max(|w| - threshold, 0)``: the proximal step of
    ``threshold * |w|``. Weights within ``threshold`` of 0 become exactly 0."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    for p in params:
        p.copy_(p.sign() * (p.abs() - threshold).clamp_min(0))


class ProximalL1:
    """Proximal gradient for an L1 penalty: wrap an ``optimizer`` so that after each of its
    steps the penalized weights of ``model`` are soft-thresholded by ``lr * lam``.

    Use it in place of the optimizer (``fit(..., optimizer=ProximalL1(opt, model, lam))``) and
    leave the L1 term *out* of the loss. Gives exact zeros, unlike the subgradient of
    :func:`l1_penalty`.
    """

    def __init__(self, optimizer, model: nn.Module, lam: float, include_bias: bool = False):
        _check_lam(lam)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch optimizer, got {type(optimizer).__name__}")
        self.optimizer, self.lam = optimizer, float(lam)
        self.params = penalized_parameters(model, include_bias)

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        loss = self.optimizer.step(closure)
        soft_threshold_(self.params, self.param_groups[0]["lr"] * self.lam)
        return loss

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)
