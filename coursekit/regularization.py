"""Weight penalties: L2 (weight decay), L1 and elastic net, added to the data loss.

``loss = data_loss + penalty(model)``. By default only weight tensors (``ndim >= 2``:
conv kernels and linear matrices) are penalized, not biases or BatchNorm's gamma/beta,
as is usual. :func:`l2_penalty` uses ``lam/2 * ||w||^2`` so that its gradient is
``lam * w``: adding it to the loss equals SGD's ``weight_decay=lam``
(``tests/test_regularization.py`` checks this).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["penalized_parameters", "l2_penalty", "l1_penalty", "elastic_net_penalty",
           "make_penalty", "sparsity"]


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
