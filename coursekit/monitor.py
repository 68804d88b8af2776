"""What to look at while a network trains: weights, gradients, activations, dead ReLUs.

The per-epoch training measurements (loss, accuracy, gradient norms, per-layer
update/weight ratios) are recorded by ``coursekit.train.fit`` in its ``History``; this
module adds snapshots taken on a batch at any moment, and reads the ``History`` fields:

- :func:`weight_values` / :func:`grad_values`: every weight tensor's values or gradient
  (flattened) by layer name, for histograms;
- :func:`activation_values`: the outputs of chosen layers on a batch (forward hooks);
- :func:`dead_relu_fraction`: per ReLU, the fraction of units that output 0 for every
  example of the batch (they get no gradient, so they never recover);
- :func:`update_ratio_report`: the ``History.update_ratio`` of each layer against the
  lectures' band 1e-3..1e-2, also reading the peak of the first steps;
- :func:`diagnose_run`: one verdict for a run that reads the update ratios *together with*
  the loss and the dead-ReLU fraction (a ratio alone can mislead: a network killed by a
  too-high learning rate has tiny updates afterwards).

The band 1e-3..1e-2 ("about 1%") is stated for SGD. Under Adam every weight moves by about
the learning rate per step whatever its gradient, so the ratio reads the learning rate
against the size of the weights, not the health of the gradient.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .torchutil import Hooks, eval_mode, model_device

__all__ = ["weight_values", "grad_values", "activation_values", "dead_relu_fraction",
           "update_ratio_verdict", "update_ratio_report", "RunDiagnosis", "diagnose_run",
           "HEALTHY_BAND", "loss_three_ways"]

HEALTHY_BAND = (1e-3, 1e-2)
"""The lectures' healthy update/weight ratio: 1e-3 to 1e-2 ("about 1%"; for SGD)."""


def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def weight_values(model: nn.Module) -> dict:
    """``{name: 1-D float array}`` of every weight tensor (``ndim >= 2``) of ``model``."""
    _check_model(model)
    return {n: p.detach().cpu().float().numpy().ravel()
            for n, p in model.named_parameters() if p.dim() >= 2}


def grad_values(model: nn.Module) -> dict:
    """``{name: 1-D float array}`` of the gradients of the weight tensors (after a
    ``backward()``); raises if no gradient is there yet."""
    _check_model(model)
    out = {n: p.grad.detach().cpu().float().numpy().ravel()
           for n, p in model.named_parameters() if p.dim() >= 2 and p.grad is not None}
    if not out:
        raise ValueError("the model has no gradients yet: call loss.backward() first")
    return out


def activation_values(model: nn.Module, x: torch.Tensor, types=(nn.ReLU,)) -> dict:
    """Outputs of every module of the given ``types`` on the batch ``x`` (N, ...):
    ``{module name: array (N, ...)}`` in forward order. The model runs in eval mode
    (its previous mode is restored) and without gradients."""
    _check_model(model)
    acts = {}
    with Hooks() as hooks, torch.no_grad(), eval_mode(model):
        for name, mod in model.named_modules():
            if isinstance(mod, tuple(types)):
                hooks.forward(mod, lambda m, i, o, name=name:
                              acts.__setitem__(name, o.detach().cpu().numpy()))
        if not hooks.handles:
            raise ValueError(f"the model has no module of type {[t.__name__ for t in types]}")
        model(x.to(model_device(model)))
    return acts


def _check_input(model: nn.Module, x) -> None:
    """A clear error when ``x`` does not fit the model's first layer (channels / features)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor batch (N, C, H, W) or (N, D), got {type(x).__name__}")
    first = next((m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
    if isinstance(first, nn.Conv2d) and (x.dim() != 4 or x.shape[1] != first.in_channels):
        raise ValueError(f"x has shape {tuple(x.shape)} but the model's first layer is a Conv2d "
                         f"expecting (N, {first.in_channels}, H, W): a wrong channel count? "
                         "(grayscale vs RGB, or a missing batch dimension)")
    if isinstance(first, nn.Linear) and x.dim() == 2 and x.shape[1] != first.in_features:
        raise ValueError(f"x has shape {tuple(x.shape)} but the model's first layer is a Linear "
                         f"expecting (N, {first.in_features})")


def dead_relu_fraction(model: nn.Module, x: torch.Tensor) -> dict:
    """Per ReLU module: the fraction of its units (channel x position for conv layers) that
    are 0 for every example of ``x`` (N, ...). Use a batch of a few hundred examples.
    Raises ValueError when ``x`` does not fit the model's first layer (e.g. 3 channels for a
    1-channel model)."""
    _check_model(model)
    _check_input(model, x)
    return {name: float((a <= 0).all(axis=0).mean())
            for name, a in activation_values(model, x, (nn.ReLU,)).items()}


def update_ratio_verdict(ratio: float, low: float = HEALTHY_BAND[0],
                         high: float = HEALTHY_BAND[1]) -> str:
    """``"healthy"`` for an update/weight ratio in [low, high] (the lectures' 1e-3..1e-2),
    else ``"too small ..."`` or ``"too large ..."``. A small ratio has two causes: a too-low
    learning rate *or* a dead layer (see :func:`diagnose_run`, which tells them apart)."""
    if not math.isfinite(ratio):
        return "not finite (training diverged)"
    if ratio < low:
        return "too small (learning rate too low, or a dead layer: read the loss and dead ReLUs)"
    if ratio > high:
        return "too large (learning rate too high?)"
    return "healthy"


def _history_field(history, name: str, caller: str):
    if history is None or not (isinstance(history, dict) or hasattr(history, "update_ratio")):
        raise TypeError(f"{caller}: expected the History returned by coursekit.train.fit (or its "
                        f"to_dict()), got {type(history).__name__}")
    return history.get(name, {} if "ratio" in name else []) if isinstance(history, dict) \
        else getattr(history, name, {} if "ratio" in name else [])


def update_ratio_report(history, epoch: int = -1, early_steps: int = 300) -> dict:
    """``{layer: (ratio, verdict)}`` from ``History.update_ratio`` at ``epoch`` (default: last).

    history: a ``coursekit.train.History`` (or its ``to_dict()``). When the per-step ratios of
    the first ``early_steps`` steps peaked above the band while the ratio at ``epoch`` is below
    it, the verdict says so ("too large at first, then tiny"): the layer was thrown around and
    then stopped learning, which a higher learning rate would only make worse.
    """
    ratios = _history_field(history, "update_ratio", "update_ratio_report")
    if not ratios or not any(len(v) for v in ratios.values()):
        raise ValueError("history has no update ratios: train with coursekit.train.fit first")
    steps = _history_field(history, "step_update_ratio", "update_ratio_report") or {}
    out = {}
    for k, v in ratios.items():
        if not len(v):
            continue
        r = float(v[epoch])
        verdict = update_ratio_verdict(r)
        early = [x for x in steps.get(k, [])[:early_steps] if math.isfinite(x)]
        if early and max(early) > HEALTHY_BAND[1] and r < HEALTHY_BAND[0]:
            verdict = (f"too large at first (peak {max(early):.1e}), then tiny: thrown around, then "
                       "stopped learning (dead?); lower the learning rate")
        out[k] = (r, verdict)
    return out


class RunDiagnosis(str):
    """A verdict (the string itself) with the numbers it rests on in ``.evidence``."""

    evidence: dict


def diagnose_run(history, dead: dict | None = None, num_classes: int | None = None,
                 early_steps: int = 300) -> RunDiagnosis:
    """One verdict for a training run, reading three symptoms together:

    - the update/weight ratios: the peak over the first ``early_steps`` steps
      (``History.step_update_ratio``) and the median of the last epoch, against
      :data:`HEALTHY_BAND`;
    - the loss: the last training loss against chance, ``ln(num_classes)``;
    - ``dead``: :func:`dead_relu_fraction` of the trained model (largest layer value).

    Verdicts: ``"diverged (the loss became NaN/inf)"``, ``"diverged, then died: ..."`` (huge
    early updates, loss at chance, dead ReLUs: lower the learning rate), ``"dead network"``,
    ``"learning rate too high"``, ``"learning rate too low"`` and ``"healthy"``.
    """
    ratios = _history_field(history, "update_ratio", "diagnose_run")
    loss = _history_field(history, "train_loss", "diagnose_run")
    steps = _history_field(history, "step_update_ratio", "diagnose_run") or {}
    if not loss:
        raise ValueError("history is empty: train with coursekit.train.fit first")
    if dead is not None and not isinstance(dead, dict):
        raise TypeError(f"dead must be the dict returned by dead_relu_fraction, got {type(dead).__name__}")
    low, high = HEALTHY_BAND
    early = [x for v in steps.values() for x in v[:early_steps] if math.isfinite(x)]
    last = [float(v[-1]) for v in ratios.values() if len(v) and math.isfinite(v[-1])]
    ev = {"early_peak_ratio": max(early) if early else float("nan"),
          "last_ratio_median": float(sorted(last)[len(last) // 2]) if last else float("nan"),
          "final_train_loss": float(loss[-1]),
          "chance_loss": math.log(num_classes) if num_classes else float("nan"),
          "max_dead_fraction": max(dead.values()) if dead else 0.0}
    diverged = bool(history.get("diverged") if isinstance(history, dict)
                    else getattr(history, "diverged", False))
    at_chance = bool(num_classes) and math.isfinite(ev["final_train_loss"]) \
        and ev["final_train_loss"] > 0.9 * ev["chance_loss"]
    big_early, dead_net = ev["early_peak_ratio"] > high, ev["max_dead_fraction"] >= 0.5
    if diverged or not math.isfinite(ev["final_train_loss"]):
        text = "diverged (the loss became NaN/inf): lower the learning rate"
    elif at_chance and big_early and dead_net:
        text = (f"diverged, then died: the first updates were huge (peak ratio {ev['early_peak_ratio']:.1e}"
                f" > {high:.0e}), the loss is stuck at chance ({ev['final_train_loss']:.2f} vs "
                f"ln C = {ev['chance_loss']:.2f}) and {ev['max_dead_fraction']:.0%} of a layer's ReLUs "
                "are dead; the tiny ratios now are a symptom of death, not of a low learning rate: "
                "lower the learning rate (about 10x)")
    elif at_chance and dead_net:
        text = (f"dead network: loss at chance and {ev['max_dead_fraction']:.0%} of a layer's ReLUs "
                "are dead; check the initialization and lower the learning rate")
    elif ev["last_ratio_median"] > high or (at_chance and big_early):
        text = "learning rate too high: updates above the band; lower it"
    elif ev["last_ratio_median"] < low:
        text = (f"learning rate too low: updates of {ev['last_ratio_median']:.1e} < {low:.0e} and no "
                "dead layer; raise it")
    else:
        text = "healthy: updates in the band, the loss below chance, few dead ReLUs"
    out = RunDiagnosis(text)
    out.evidence = ev
    return out


def loss_three_ways(model: nn.Module, train_loader, val_loader, epochs: int, optimizer,
                    clean_train_loader=None) -> dict:
    """Train ``model`` epoch by epoch and measure its loss and accuracy three ways per epoch:

    - ``"train (running)"``: what ``fit`` records, the mean over the epoch's batches in train
      mode (dropout active), while the weights still change during the epoch;
    - ``"train (end of epoch)"``: the training set evaluated after the epoch in eval mode
      (``clean_train_loader``, default ``train_loader``);
    - ``"validation"``: the validation set after the epoch, in eval mode.

    Returns ``{"loss": {name: [per epoch]}, "acc": {name: [per epoch]}}``. The first two
    differ by the two reasons a validation loss can sit *below* the training loss.
    """
    from .train import evaluate, fit
    clean = clean_train_loader if clean_train_loader is not None else train_loader
    names = ("train (running)", "train (end of epoch)", "validation")
    out = {"loss": {n: [] for n in names}, "acc": {n: [] for n in names}}
    for _ in range(int(epochs)):
        h = fit(model, train_loader, None, 1, optimizer, progress=False)
        ends = (evaluate(model, clean), evaluate(model, val_loader))
        for n, (loss, acc) in zip(names, [(h.train_loss[-1], h.train_acc[-1])]
                                  + [(e["loss"], e["accuracy"]) for e in ends]):
            out["loss"][n].append(loss)
            out["acc"][n].append(acc)
    return out
