"""Sanity checks to run before a long training run, each returning a pass/fail :class:`CheckResult`.

- :func:`check_initial_loss`: at initialization a classifier should be at chance, so the
  cross-entropy should be about ``ln(C)`` for ``C`` classes.
- :func:`check_overfit_small_batch`: a healthy model + loss + optimizer drives the
  training accuracy on a handful of examples to 100%.
- :func:`check_regularization_raises_loss`: switching the weight penalty on must raise the
  loss (and give the weights a gradient).
- :func:`find_nonfinite`: locates the first layer whose parameters, forward output or
  backward gradient holds NaN/Inf (forward hooks, backward hooks and
  ``torch.autograd.detect_anomaly``).
- :func:`run_sanity_checks`: all of the above, as a list.

Each function leaves the model it is given unchanged (training happens on a copy).
"""
from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .optim import make_optimizer
from .regularization import l2_penalty
from .torchutil import Hooks, eval_mode, leaves, model_device

__all__ = ["CheckResult", "check_initial_loss", "check_overfit_small_batch",
           "check_regularization_raises_loss", "find_nonfinite", "run_sanity_checks"]


@dataclass
class CheckResult:
    """Outcome of one sanity check: truthy when it passed; ``str()`` is a one-line verdict.

    ``value`` is the measured number (a loss, an accuracy, ...), ``expected`` what a
    healthy set-up gives, ``details`` anything else useful (curves, the layer name).
    """

    name: str
    passed: bool
    message: str
    value: float | None = None
    expected: float | None = None
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.passed)

    def __str__(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.message}"

    __repr__ = __str__


def _check_inputs(model, x, y=None):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor batch (N, ...), got {type(x).__name__}")
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y must be a 1-D tensor of {len(x)} class indices (one per row of x),"
                             f" got {type(y).__name__} {tuple(getattr(y, 'shape', ()))}")


# --------------------------------------------------------------------------- initial loss
def check_initial_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                       loss: Callable | None = None, num_classes: int | None = None,
                       rtol: float = 0.1) -> CheckResult:
    """Is the loss of the untrained ``model`` on ``(x, y)`` close to ``ln(C)``?

    x: (N, ...) a batch; y: (N,) class indices; loss(scores, y) (default cross-entropy, the
    name ``train.fit`` uses);
    ``C`` defaults to the number of model outputs. Passes when
    ``|loss - ln C| <= rtol * ln C``.
    """
    _check_inputs(model, x, y)
    loss_fn = loss or F.cross_entropy
    dev = model_device(model)
    with torch.no_grad(), eval_mode(model):
        scores = model(x.to(dev))
        loss = float(loss_fn(scores, y.to(dev)))
    c = int(num_classes or scores.shape[1])
    if c < 2:
        raise ValueError(f"need at least 2 classes, got C={c}; pass num_classes=")
    expected = math.log(c)
    ok = math.isfinite(loss) and abs(loss - expected) <= rtol * expected
    if ok:
        msg = f"loss {loss:.3f} ~ ln({c}) = {expected:.3f}: the untrained model is at chance"
    elif not math.isfinite(loss):
        msg = f"loss is {loss}: look for NaN/Inf with find_nonfinite(model, x, y)"
    elif loss < expected:
        msg = (f"loss {loss:.3f} is well below ln({c}) = {expected:.3f}: is the loss missing its "
               "log (or softmax), or do the inputs leak the labels?")
    else:
        msg = (f"loss {loss:.3f} is well above ln({c}) = {expected:.3f}: the initial scores are "
               "too large (last-layer weights too big?) or the loss is not cross-entropy")
    return CheckResult("initial loss", ok, msg, loss, expected,
                       {"num_classes": c, "rtol": rtol})


# --------------------------------------------------------------------------- overfit
def check_overfit_small_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                              loss: Callable | None = None, optimizer: str | Callable = "adam",
                              lr: float = 1e-2, steps: int = 200, target_acc: float = 1.0
                              ) -> CheckResult:
    """Can a copy of ``model`` reach ``target_acc`` training accuracy on the tiny batch ``(x, y)``?

    x: (N, ...) a few examples (say 10-50); y: (N,) class indices. ``optimizer`` is a name
    for :func:`coursekit.optim.make_optimizer` or a callable ``params -> optimizer``. Trains
    full-batch for at most ``steps`` steps. ``details["losses"]`` holds the loss curve.
    """
    _check_inputs(model, x, y)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    loss_fn = loss or F.cross_entropy
    net = copy.deepcopy(model)
    dev = model_device(net)
    x, y = x.to(dev), y.to(dev)
    opt = optimizer(net.parameters()) if callable(optimizer) else \
        make_optimizer(optimizer, net.parameters(), lr=lr)
    net.train()
    losses, acc = [], 0.0
    for step in range(1, steps + 1):
        opt.zero_grad()
        scores = net(x)
        loss = loss_fn(scores, y)
        losses.append(float(loss.detach()))
        acc = float((scores.argmax(1) == y).float().mean())
        if not math.isfinite(losses[-1]):
            return CheckResult("overfit a tiny batch", False,
                               f"the loss became {losses[-1]} at step {step}: the learning rate "
                               f"(lr={lr}) is probably too high", acc, target_acc,
                               {"losses": losses, "steps": step})
        if acc >= target_acc:
            break
        loss.backward()
        opt.step()
    ok = acc >= target_acc
    if ok:
        msg = (f"reached {acc:.0%} training accuracy on {len(y)} examples after {step} steps "
               f"(loss {losses[0]:.3f} -> {losses[-1]:.3f})")
    elif losses[-1] < 0.1 * losses[0]:
        msg = (f"only {acc:.0%} training accuracy on {len(y)} examples after {steps} steps although "
               f"the loss fell ({losses[0]:.3f} -> {losses[-1]:.3f}): the loss does not measure "
               "agreement with these labels (wrong targets or wrong loss function?)")
    else:
        trend = "went UP" if losses[-1] > losses[0] else "barely moved" \
            if losses[-1] > 0.9 * losses[0] else "went down"
        msg = (f"only {acc:.0%} training accuracy on {len(y)} examples after {steps} steps; the "
               f"loss {trend} ({losses[0]:.3f} -> {losses[-1]:.3f}). Suspect the learning rate "
               f"(lr={lr}: too high if the loss went up, too low if it barely moved), the loss "
               "function, or the labels")
    return CheckResult("overfit a tiny batch", ok, msg, acc, target_acc,
                       {"losses": losses, "steps": step})


# --------------------------------------------------------------------------- regularization
def check_regularization_raises_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                                     penalty: Callable | None = None, lam: float = 1.0,
                                     loss: Callable | None = None) -> CheckResult:
    """Does switching the penalty on raise the loss, with a gradient on the weights?

    penalty(model) -> scalar tensor (default ``l2_penalty(model, lam)``). A penalty that
    lowers the loss has the wrong sign; one without a gradient (computed from detached
    weights, e.g. via ``.item()``) does not regularize anything.
    """
    _check_inputs(model, x, y)
    loss_fn = loss or F.cross_entropy
    penalty = penalty or (lambda m: l2_penalty(m, lam))
    dev = model_device(model)
    with eval_mode(model):
        data_loss = loss_fn(model(x.to(dev)), y.to(dev))
        reg = penalty(model)
        if not isinstance(reg, torch.Tensor):
            reg = torch.as_tensor(float(reg))
        total = data_loss + reg
    weights = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    grads = torch.autograd.grad(reg, weights, allow_unused=True) if reg.requires_grad else \
        [None] * len(weights)
    has_grad = any(g is not None and bool(g.abs().sum() > 0) for g in grads)
    d0, d1 = float(data_loss.detach()), float(total.detach())
    ok = d1 > d0 + 1e-9 * max(1.0, abs(d0)) and has_grad
    if ok:
        msg = f"loss {d0:.4f} -> {d1:.4f} with the penalty on, and the weights get its gradient"
    elif d1 <= d0:
        msg = (f"loss {d0:.4f} -> {d1:.4f}: the penalty did not raise the loss (wrong sign, "
               "zero strength, or not added to the loss?)")
    else:
        msg = (f"loss {d0:.4f} -> {d1:.4f}, but the penalty has no gradient w.r.t. the weights "
               "(computed from detached values, e.g. .item() or .detach()?), so it cannot "
               "regularize")
    return CheckResult("regularization raises the loss", ok, msg, d1, d0,
                       {"data_loss": d0, "penalty": d1 - d0, "has_grad": has_grad})


# --------------------------------------------------------------------------- NaN / Inf
def _finite(t) -> bool:
    if isinstance(t, torch.Tensor):
        return not t.is_floating_point() or bool(torch.isfinite(t).all())
    if isinstance(t, (tuple, list)):
        return all(_finite(u) for u in t)
    if isinstance(t, dict):
        return all(_finite(u) for u in t.values())
    return True


def find_nonfinite(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None,
                   loss: Callable | None = None) -> CheckResult:
    """Find the first place NaN/Inf appears: parameters, forward pass, loss, or backward pass.

    x: (N, ...); y: (N,) targets (needed for the backward check; default loss
    cross-entropy). Forward: hooks on every leaf module report the first one whose output
    is non-finite although its inputs were finite. Backward: module backward hooks find
    the first module (in backward order) that turns finite gradients into NaN/Inf, and
    ``torch.autograd.detect_anomaly`` names the autograd operation. ``details`` has
    ``stage`` (``"input"``, ``"parameters"``, ``"forward"``, ``"loss"``, ``"backward"``)
    and ``layer``. Passes when everything is finite. Does not change ``model``'s weights.
    """
    _check_inputs(model, x, y)
    loss_fn = loss
    name = "NaN/Inf detection"
    dev = model_device(model)
    x = x.to(dev)
    if not _finite(x):
        return CheckResult(name, False, "the input batch x itself contains NaN/Inf: check the "
                           "data loading and normalization (e.g. division by a zero std)",
                           details={"stage": "input", "layer": None})
    for pname, p in model.named_parameters():
        if not _finite(p):
            return CheckResult(name, False, f"parameter {pname!r} already holds NaN/Inf (a "
                               "previous update diverged: lower the learning rate, clip "
                               "gradients)", details={"stage": "parameters", "layer": pname})

    first = {}
    hooks = Hooks()

    def fwd_hook(mname):
        def hook(mod, inputs, output):
            if "forward" not in first and _finite(inputs) and not _finite(output):
                first["forward"] = (mname, type(mod).__name__)
        return hook

    def bwd_hook(mname):
        def hook(mod, grad_input, grad_output):
            if "backward" not in first and _finite(grad_output) and not _finite(grad_input):
                first["backward"] = (mname, type(mod).__name__)
        return hook

    try:
        for mname, mod in leaves(model):
            hooks.forward(mod, fwd_hook(mname))
            hooks.backward(mod, bwd_hook(mname))
        xin = x.clone().requires_grad_(x.is_floating_point())
        out = model(xin)
        if "forward" in first:
            layer, kind = first["forward"]
            return CheckResult(name, False, f"forward pass: layer {layer!r} ({kind}) is the "
                               "first to output NaN/Inf from finite inputs",
                               details={"stage": "forward", "layer": layer, "type": kind})
        if not _finite(out):
            return CheckResult(name, False, "forward pass: the output is NaN/Inf (outside any "
                               "leaf module, e.g. in a functional call inside forward())",
                               details={"stage": "forward", "layer": None})
        if y is None:
            return CheckResult(name, True, "forward pass finite (pass y to check the backward "
                               "pass too)", details={"stage": None, "layer": None})
        loss = (loss_fn or F.cross_entropy)(out, y.to(dev))
        if not _finite(loss):
            return CheckResult(name, False, f"the loss is {float(loss)} although the outputs "
                               "are finite: check the loss (log of 0? targets out of range?)",
                               details={"stage": "loss", "layer": None})
        model.zero_grad(set_to_none=True)
        loss.backward()
        bad_grad = [n for n, p in model.named_parameters()
                    if p.grad is not None and not _finite(p.grad)]
    finally:
        hooks.remove()
    if "backward" not in first and not bad_grad:
        model.zero_grad(set_to_none=True)
        return CheckResult(name, True, "parameters, forward pass, loss and gradients are all "
                           "finite", details={"stage": None, "layer": None})
    # second pass under anomaly detection: name the autograd operation that made the NaN
    op = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                model.zero_grad(set_to_none=True)
                (loss_fn or F.cross_entropy)(model(x), y.to(dev)).backward()
    except RuntimeError as err:
        op = str(err).split("\n")[0]
    finally:
        model.zero_grad(set_to_none=True)
    layer, kind = first.get("backward", (bad_grad[0] if bad_grad else None, None))
    where = f"layer {layer!r} ({kind})" if kind else f"parameter {layer!r}"
    msg = f"backward pass: {where} is the first to produce NaN/Inf gradients"
    if op:
        msg += f"; detect_anomaly says: {op}"
    return CheckResult(name, False, msg, details={"stage": "backward", "layer": layer,
                                                  "type": kind, "anomaly": op,
                                                  "bad_grads": bad_grad})


def run_sanity_checks(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                      loss: Callable | None = None, lr: float = 1e-2, steps: int = 200,
                      verbose: bool = True) -> list:
    """Run every check on ``model`` and the batch ``(x, y)``; print one line each
    (``verbose``) and return the list of :class:`CheckResult`."""
    results = [find_nonfinite(model, x, y, loss),
               check_initial_loss(model, x, y, loss),
               check_regularization_raises_loss(model, x, y, loss=loss),
               check_overfit_small_batch(model, x, y, loss, lr=lr, steps=steps)]
    if verbose:
        for r in results:
            print(r)
    return results
