"""Losses for imbalanced classes: focal loss from scratch and weighted cross-entropy.

Focal loss (Lin et al. 2017) down-weights easy examples:
``FL = -alpha_t (1 - p_t)^gamma log p_t`` where ``p_t`` is the probability the model gives
the true class. ``gamma = 0`` (and no ``alpha``) is plain cross-entropy; the binary form
equals ``torchvision.ops.sigmoid_focal_loss`` (``tests/test_losses.py``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["focal_loss", "binary_focal_loss", "FocalLoss", "class_weights",
           "weighted_cross_entropy"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_gamma(gamma) -> float:
    """gamma must be a finite number >= 0 (0 gives cross-entropy)."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) and not (
            isinstance(gamma, torch.Tensor) and gamma.numel() == 1):
        raise TypeError(f"gamma must be a number >= 0, got {type(gamma).__name__}")
    g = float(gamma)
    if not np.isfinite(g) or g < 0:
        raise ValueError(f"gamma must be a finite number >= 0 (0 gives cross-entropy; larger "
                         f"values down-weight easy examples), got {gamma}")
    return g


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
               alpha: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
    """Multi-class focal loss ``-alpha_t (1 - p_t)^gamma log p_t``.

    logits: (N, C) raw scores; target: (N,) int64 class indices in [0, C);
    alpha: optional (C,) per-class weights (``alpha_t = alpha[target]``). With
    ``reduction="mean"`` the losses are averaged over the N examples.
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {tuple(logits.shape)}")
    if target.shape != logits.shape[:1] or target.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"target must be (N,) = ({logits.shape[0]},) integer class indices, "
                         f"got shape {tuple(target.shape)} dtype {target.dtype}")
    gamma = _check_gamma(gamma)
    _check_reduction(reduction)
    log_p = F.log_softmax(logits, dim=1)                    # stable log-probabilities
    log_pt = log_p.gather(1, target.long()[:, None])[:, 0]  # log p_t: (N,)
    pt = log_pt.exp()
    loss = -((1 - pt) ** gamma) * log_pt
    if alpha is not None:
        alpha = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
        if alpha.shape != (logits.shape[1],):
            raise ValueError(f"alpha must hold one weight per class, shape ({logits.shape[1]},), "
                             f"got {tuple(alpha.shape)}")
        loss = alpha[target.long()] * loss
    return _reduce(loss, reduction)


def binary_focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25,
                      gamma: float = 2.0, reduction: str = "none") -> torch.Tensor:
    """Binary (sigmoid) focal loss, elementwise; same arguments and defaults as
    ``torchvision.ops.sigmoid_focal_loss``.

    logits, targets: same shape (any), targets in {0, 1} (floats). ``alpha`` weighs the
    positives (``1 - alpha`` the negatives); ``alpha < 0`` switches the weighting off.
    """
    if logits.shape != targets.shape:
        raise ValueError(f"logits and targets must have the same shape, got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    gamma = _check_gamma(gamma)
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not (alpha < 0 or alpha <= 1):
        raise ValueError(f"alpha must be a number in [0, 1] (the positives' weight) or negative "
                         f"(no weighting), got {alpha!r}")
    _check_reduction(reduction)
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    # -log p_t computed stably from the logits: softplus(-x) for y=1, softplus(x) for y=0
    ce = F.softplus(logits) - logits * targets
    pt = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - pt) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


class FocalLoss(torch.nn.Module):
    """:func:`focal_loss` as a module, usable wherever ``nn.CrossEntropyLoss`` is."""

    def __init__(self, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction)
        gamma = _check_gamma(gamma)
        if alpha is not None:
            alpha = torch.as_tensor(alpha).float()
            if alpha.ndim != 1 or not torch.isfinite(alpha).all() or (alpha < 0).any():
                raise ValueError("alpha must be a 1-D sequence of finite per-class weights >= 0, "
                                 f"got {alpha.tolist()}")
        self.gamma, self.reduction = gamma, reduction
        self.register_buffer("alpha", alpha)

    def forward(self, logits, target):
        """logits: (N, C); target: (N,) -> scalar (or (N,) with reduction="none")."""
        return focal_loss(logits, target, self.gamma, self.alpha, self.reduction)

    def extra_repr(self):
        return f"gamma={self.gamma}, reduction={self.reduction!r}"


def class_weights(labels, num_classes: int | None = None, scheme: str = "inverse",
                  beta: float = 0.999) -> torch.Tensor:
    """Per-class weights (C,) from integer ``labels`` (N,), normalized to average 1 over classes.

    ``scheme``: ``"inverse"`` (1/n_c), ``"sqrt_inverse"`` (1/sqrt(n_c)), or ``"effective"``
    ((1 - beta) / (1 - beta^n_c), Cui et al. 2019). A class absent from ``labels`` gets
    weight 0 (there is nothing to weigh).
    """
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("labels must be a non-empty 1-D array of class indices >= 0")
    c = int(num_classes) if num_classes is not None else int(y.max()) + 1
    if y.max() >= c:
        raise ValueError(f"labels go up to {y.max()} but num_classes={c}")
    counts = np.bincount(y, minlength=c).astype(np.float64)
    present = counts > 0
    w = np.zeros(c)
    if scheme == "inverse":
        w[present] = 1.0 / counts[present]
    elif scheme == "sqrt_inverse":
        w[present] = 1.0 / np.sqrt(counts[present])
    elif scheme == "effective":
        if not 0 <= beta < 1:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        w[present] = (1 - beta) / (1 - beta ** counts[present])
    else:
        raise ValueError(f"scheme must be 'inverse', 'sqrt_inverse' or 'effective', got {scheme!r}")
    w *= present.sum() / w.sum()
    return torch.tensor(w, dtype=torch.float32)


def weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                           weight: torch.Tensor | None = None) -> torch.Tensor:
    """Class-weighted cross-entropy written out: ``sum_i w_{y_i} (-log p_{y_i}) / sum_i w_{y_i}``.

    logits: (N, C); target: (N,); weight: (C,). This is the normalization of
    ``F.cross_entropy(logits, target, weight=weight)`` (a weighted mean, not a plain mean).
    """
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (N, C) and target (N,), got {tuple(logits.shape)} "
                         f"and {tuple(target.shape)}")
    nll = -F.log_softmax(logits, dim=1).gather(1, target.long()[:, None])[:, 0]
    if weight is None:
        return nll.mean()
    weight = torch.as_tensor(weight, dtype=logits.dtype, device=logits.device)
    if weight.shape != (logits.shape[1],):
        raise ValueError(f"weight must be (C,) = ({logits.shape[1]},), got {tuple(weight.shape)}")
    w = weight[target.long()]
    return (w * nll).sum() / w.sum()
