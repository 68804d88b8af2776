"""Optimizers: SGD (momentum, Nesterov), RMSProp and Adam, step for step like ``torch.optim``.

An optimizer holds a model (anything with ``params`` and ``grads`` dicts, e.g.
``Sequential``) or a plain dict of parameter arrays. ``step(grads=None)`` updates every
parameter **in place** from ``grads`` (default: ``model.grads``). ``lr`` is a plain
attribute, so a schedule can set it before each step. Each optimizer writes its rule in
``update(p, g, state)``, and ``state[name]`` holds torch's keys (``momentum_buffer``,
``square_avg``, ``exp_avg``, ``exp_avg_sq``, ``step``), like the torch-side optimizers of
:mod:`coursekit.optim`.
"""
from __future__ import annotations

import numpy as np


class Optimizer:
    """Base class: keeps the parameters, per-parameter state and the learning rate."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        if hasattr(params, "params") and hasattr(params, "grads"):
            self.model, self._params = params, None
        elif isinstance(params, dict):
            self.model, self._params = None, params
        else:
            raise TypeError("params must be a model with .params/.grads dicts or a dict "
                            f"name -> array, got {type(params).__name__}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.state: dict[str, dict] = {}

    @property
    def params(self) -> dict:
        return self.model.params if self.model is not None else self._params

    def step(self, grads: dict | None = None):
        """Update every parameter in place from ``grads`` (default: the model's grads)."""
        if grads is None:
            if self.model is None:
                raise ValueError("pass grads= (dict name -> array) when the optimizer holds a plain dict")
            grads = self.model.grads
        params = self.params
        missing = [k for k in params if k not in grads]
        if missing:
            raise ValueError(f"no gradient for parameters {missing}: run backward before step()")
        for name, p in params.items():
            g = np.asarray(grads[name])
            if g.shape != p.shape:
                raise ValueError(f"grad '{name}' has shape {g.shape}, parameter has {p.shape}")
            if self.weight_decay:
                g = g + self.weight_decay * p
            self.update(p, g, self.state.setdefault(name, {}))

    def update(self, p, g, state):
        """The optimizer's rule for one parameter ``p`` (in place) from its gradient ``g``;
        ``state`` is ``p``'s state dict, keyed as ``torch.optim`` keys it."""
        raise NotImplementedError


class SGD(Optimizer):
    """SGD with optional (heavy-ball or Nesterov) momentum, as ``torch.optim.SGD``.

    buf = momentum * buf + g (buf = g at the first step);
    p -= lr * (g + momentum * buf if nesterov else buf).
    """

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def update(self, p, g, state):
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= self.momentum
                buf += g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class RMSProp(Optimizer):
    """RMSProp as ``torch.optim.RMSprop``: v = alpha*v + (1-alpha)*g^2; p -= lr*g/(sqrt(v)+eps).

    With ``momentum``: buf = momentum*buf + g/(sqrt(v)+eps); p -= lr*buf.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)

    def update(self, p, g, state):
        v = state.setdefault("square_avg", np.zeros_like(p))
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        step = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p))
            buf *= self.momentum
            buf += step
            step = buf
        p -= self.lr * step


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam``.

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.betas, self.eps = (float(b1), float(b2)), float(eps)

    def update(self, p, g, state):
        b1, b2 = self.betas
        m = state.setdefault("exp_avg", np.zeros_like(p))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p))
        t = state["step"] = state.get("step", 0) + 1
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        bc1 = 1 - b1 ** t
        bc2 = 1 - b2 ** t
        denom = np.sqrt(v) / np.sqrt(bc2) + self.eps
        p -= (self.lr / bc1) * m / denom
