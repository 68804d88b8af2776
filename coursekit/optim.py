"""Optimizers written out in PyTorch tensors: SGD, momentum, Nesterov, RMSProp and Adam.

Each class is a ``torch.optim.Optimizer`` subclass whose ``update`` spells out the update
rule of the lectures in a few lines, so it can be read side by side with the formula and
used in any PyTorch training loop. The updates equal ``torch.optim``'s step for step, and the
per-parameter state uses torch's keys (``momentum_buffer``, ``square_avg``, ``exp_avg``,
``exp_avg_sq``, ``step``), as do the NumPy optimizers of :mod:`coursekit.nn.optim`
(``tests/test_optim.py``):

- SGD:       w <- w - lr * g
- momentum:  v <- mu * v + g;           w <- w - lr * v          (torch's convention)
- Nesterov:  v <- mu * v + g;           w <- w - lr * (g + mu * v)
- RMSProp:   s <- a * s + (1 - a) g^2;  w <- w - lr * g / (sqrt(s) + eps)
- Adam:      m <- b1 m + (1 - b1) g;    v <- b2 v + (1 - b2) g^2
             m_hat = m / (1 - b1^t);    v_hat = v / (1 - b2^t)
             w <- w - lr * m_hat / (sqrt(v_hat) + eps)

``weight_decay`` adds ``weight_decay * w`` to the gradient (L2 regularization); Adam with
``decoupled=True`` is AdamW (the weights shrink by ``lr * weight_decay`` directly).

Also here: :func:`scale_lr` (the linear scaling rule for batch size), a few 2-D loss
surfaces (:data:`SURFACES`) and :func:`optimizer_path`, which runs any of these optimizers
on such a surface for the optimizer explorer and the loss-surface plots.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
import torch

__all__ = ["SGD", "RMSProp", "Adam", "make_optimizer", "OPTIMIZERS", "scale_lr",
           "SURFACES", "ravine", "rosenbrock", "saddle", "optimizer_path"]


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not isinstance(value, (int, float)) or not math.isfinite(value) or not ok:
        need = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {need}, got {value!r}")


class _WrittenOut(torch.optim.Optimizer):
    """Shared ``step``: the closure and the loop over parameters that have a gradient; each
    optimizer writes its rule in ``update(w, g, state, group)`` (in place, under no_grad)."""

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is not None:
                    self.update(w, w.grad, self.state[w], group)
        return loss

    def update(self, w: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


class SGD(_WrittenOut):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    ``momentum=0``: plain SGD. ``momentum=mu``: heavy-ball momentum in torch's convention
    (the velocity accumulates raw gradients, ``v = mu v + g``; the first step sets
    ``v = g``). ``nesterov=True``: the "look-ahead" form ``w -= lr (g + mu v)``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        _check_positive("lr", lr)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0 (e.g. momentum=0.9)")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def update(self, w, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * w                      # L2: d/dw (wd/2 ||w||^2)
        if mu:                                  # the velocity v, under torch's state key
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()           # first step: v = g
            else:
                state["momentum_buffer"].mul_(mu).add_(g)      # v = mu v + g
            v = state["momentum_buffer"]
            g = g + mu * v if group["nesterov"] else v
        w.add_(g, alpha=-lr)                    # w = w - lr * g


class RMSProp(_WrittenOut):
    """RMSProp: divide the gradient by a running root-mean-square of recent gradients.

    ``s = alpha s + (1 - alpha) g^2``; ``w -= lr g / (sqrt(s) + eps)``. Defaults are
    torch's (``alpha=0.99``, ``eps=1e-8``).
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0):
        _check_positive("lr", lr)
        _check_positive("eps", eps)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha (the decay rate) must be in [0, 1), got {alpha!r}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    def update(self, w, g, state, group):
        lr, a, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        if wd:
            g = g + wd * w
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(w)
        s = state["square_avg"]
        s.mul_(a).add_((1 - a) * g * g)                 # s = a s + (1-a) g^2
        w.sub_(lr * g / (s.sqrt() + eps))               # w = w - lr g / (sqrt(s)+eps)


class Adam(_WrittenOut):
    """Adam with its bias correction written out; ``decoupled=True`` gives AdamW.

    ``m = b1 m + (1-b1) g`` (first moment), ``v = b2 v + (1-b2) g^2`` (second moment);
    both start at zero, so early on they are biased towards 0 and are divided by
    ``1 - b^t``: ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``; then
    ``w -= lr m_hat / (sqrt(v_hat) + eps)``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False):
        _check_positive("lr", lr)
        _check_positive("eps", eps)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), e.g. (0.9, 0.999); got {betas!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, decoupled=decoupled))

    def update(self, w, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd and group["decoupled"]:
            w.mul_(1 - lr * wd)                  # AdamW: shrink the weights directly
        elif wd:
            g = g + wd * w                       # Adam + L2: through the gradient
        if "step" not in state:                  # torch's state keys: step t, exp_avg m, exp_avg_sq v
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(w)
            state["exp_avg_sq"] = torch.zeros_like(w)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_((1 - b1) * g)            # first moment
        v.mul_(b2).add_((1 - b2) * g * g)        # second moment
        m_hat = m / (1 - b1 ** t)                # bias correction
        v_hat = v / (1 - b2 ** t)
        w.sub_(lr * m_hat / (v_hat.sqrt() + eps))


OPTIMIZERS = {
    "sgd": lambda p, lr, momentum=0.9, betas=(0.9, 0.999): SGD(p, lr=lr),
    "momentum": lambda p, lr, momentum=0.9, betas=(0.9, 0.999): SGD(p, lr=lr, momentum=momentum),
    "nesterov": lambda p, lr, momentum=0.9, betas=(0.9, 0.999):
        SGD(p, lr=lr, momentum=momentum, nesterov=True),
    "rmsprop": lambda p, lr, momentum=0.9, betas=(0.9, 0.999): RMSProp(p, lr=lr, alpha=betas[1]),
    "adam": lambda p, lr, momentum=0.9, betas=(0.9, 0.999): Adam(p, lr=lr, betas=betas),
}


def make_optimizer(name: str, params: Iterable, lr: float, momentum: float = 0.9,
                   betas: tuple = (0.9, 0.999)) -> torch.optim.Optimizer:
    """Build one of :data:`OPTIMIZERS` by name (``"sgd"``, ``"momentum"``, ``"nesterov"``,
    ``"rmsprop"``, ``"adam"``); RMSProp takes its decay rate from ``betas[1]``."""
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer name {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[key](params, lr, momentum=momentum, betas=betas)


def scale_lr(base_lr: float, batch_size: int, base_batch_size: int = 256,
             rule: str = "linear") -> float:
    """Learning rate for ``batch_size`` given one tuned at ``base_batch_size``.

    ``rule="linear"`` (Goyal et al. 2017): ``lr = base_lr * batch_size / base_batch_size``
    (k times the batch averages k times as many gradients, so take k-times bigger steps);
    ``rule="sqrt"``: scale by the square root (keeps the gradient-noise variance fixed).
    """
    _check_positive("base_lr", base_lr)
    if int(batch_size) < 1 or int(base_batch_size) < 1:
        raise ValueError(f"batch sizes must be >= 1, got batch_size={batch_size}, "
                         f"base_batch_size={base_batch_size}")
    k = batch_size / base_batch_size
    if rule == "linear":
        return base_lr * k
    if rule == "sqrt":
        return base_lr * math.sqrt(k)
    raise ValueError(f"rule must be 'linear' or 'sqrt', got {rule!r}")


# ----------------------------------------------------------------------------- 2-D surfaces
def ravine(x, y, a: float = 20.0):
    """An elongated quadratic bowl ``0.5 (x^2 + a y^2) / 10``: steep across (y), flat along (x).

    Works on floats, NumPy arrays and torch tensors (same shape for ``x`` and ``y``).
    Minimum 0 at (0, 0); condition number ``a``.
    """
    return 0.05 * (x * x + a * y * y)


def rosenbrock(x, y, b: float = 10.0):
    """Rosenbrock's banana ``(1 - x)^2 + b (y - x^2)^2`` (minimum 0 at (1, 1))."""
    return (1 - x) ** 2 + b * (y - x * x) ** 2


def saddle(x, y):
    """A saddle plus a gentle bowl, ``0.5 x^2 - 0.5 y^2 + 0.05 y^4`` (minima at y = +-sqrt(5))."""
    return 0.5 * x * x - 0.5 * y * y + 0.05 * y ** 4


SURFACES = {
    "ravine": dict(f=ravine, start=(-4.5, 1.5), extent=(-5, 5, -2.5, 2.5), minimum=(0.0, 0.0)),
    "rosenbrock": dict(f=rosenbrock, start=(-1.5, 2.0), extent=(-2, 2, -1, 3), minimum=(1.0, 1.0)),
    "saddle": dict(f=saddle, start=(-2.0, 0.02), extent=(-2.5, 2.5, -3, 3),
                   minimum=(0.0, math.sqrt(5.0))),
}


def optimizer_path(surface: str | Callable = "ravine", optimizer: str = "sgd", lr: float = 0.1,
                   steps: int = 100, start: tuple | None = None, momentum: float = 0.9,
                   betas: tuple = (0.9, 0.999)) -> np.ndarray:
    """Positions visited by ``optimizer`` minimizing a 2-D ``surface`` from ``start``.

    ``surface`` is a name in :data:`SURFACES` or a function ``f(x, y)`` of two scalar
    tensors. Returns an array ``(steps + 1, 2)`` of (x, y) positions (the first row is
    ``start``); a diverging path is cut at the first non-finite point.
    """
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; choose one of {sorted(SURFACES)} "
                             "or pass a function f(x, y)")
        spec = SURFACES[surface]
        f, start = spec["f"], start if start is not None else spec["start"]
    elif callable(surface):
        f = surface
        if start is None:
            raise ValueError("start=(x, y) is needed when surface is a function")
    else:
        raise TypeError(f"surface must be a name or a function f(x, y), got {type(surface).__name__}")
    if int(steps) < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    p = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(optimizer, [p], lr=lr, momentum=momentum, betas=betas)
    path = [p.detach().clone().numpy()]
    for _ in range(int(steps)):
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        q = p.detach().clone().numpy()
        if not np.all(np.isfinite(q)) or np.abs(q).max() > 1e6:
            break
        path.append(q)
    return np.stack(path)
