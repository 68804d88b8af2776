"""Training loop for PyTorch models: device choice, seeding, ``fit`` -> ``History``,
evaluation, checkpoints (layer 2: torch).

``fit`` runs the classic loop (forward, loss, backward, step) with a tqdm progress bar and
records, per epoch, what the monitoring lessons need: train/val loss and accuracy, the
learning rate, gradient norms and per-layer update/weight ratios. It supports early
stopping and checkpoint save/resume (a resumed run reproduces the uninterrupted one
exactly on CPU). On CUDA it uses automatic mixed precision, channels_last memory format
and non-blocking host-to-device copies; everything also runs on CPU.
"""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .torchutil import eval_mode, model_device

__all__ = ["device", "seed_everything", "History", "fit", "evaluate",
           "mc_dropout_predict",
           "save_checkpoint", "load_checkpoint"]


# --------------------------------------------------------------------------- device, seed
def device(prefer: str | None = None, verbose: bool = True) -> torch.device:
    """The best available device: CUDA, then Apple MPS, then CPU; prints one line saying which.

    ``prefer`` ("cuda", "mps", "cpu") forces a device and raises ValueError if unavailable.
    """
    avail = {"cuda": torch.cuda.is_available(),
             "mps": getattr(torch.backends, "mps", None) is not None
             and torch.backends.mps.is_available(),
             "cpu": True}
    if prefer is not None:
        key = str(prefer).split(":")[0].lower()
        if key not in avail:
            raise ValueError(f"prefer must be 'cuda', 'mps' or 'cpu', got {prefer!r}")
        if not avail[key]:
            raise ValueError(f"device {prefer!r} is not available here; use device() to pick "
                             "the best available one")
        name = key
    else:
        name = next(k for k in ("cuda", "mps", "cpu") if avail[k])
    dev = torch.device(name)
    if verbose:
        if name == "cuda":
            print(f"Using CUDA GPU: {torch.cuda.get_device_name(0)} "
                  f"({torch.cuda.device_count()} visible)")
        elif name == "mps":
            print("Using Apple GPU (MPS)")
        else:
            print(f"Using CPU ({torch.get_num_threads()} threads); no GPU found")
    return dev


_best_device = device  # ``fit`` has a ``device`` argument that shadows the function


def seed_everything(seed: int, deterministic: bool = False) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU and CUDA).

    With ``deterministic=True`` also ask torch for deterministic algorithms (slower on GPU).
    Returns ``np.random.default_rng(seed)`` for code that prefers a local generator.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- History
@dataclass
class History:
    """What ``fit`` measured. Per-epoch lists have one entry per epoch (index = epoch - 1).

    - ``epoch``: 1, 2, ...; ``seconds``: wall time of each epoch (training + validation)
    - ``train_loss``, ``train_acc``: mean over the epoch's training batches (as trained,
      i.e. in train mode, with dropout active); ``val_loss``, ``val_acc``: ``evaluate`` on
      the validation loader after the epoch (NaN without one). Accuracies are in [0, 1]
      (NaN when the targets are not class indices).
    - ``lr``: learning rate of the first parameter group at the start of the epoch
    - ``grad_norm``: mean over the epoch's steps of the global L2 norm of all gradients
      (before clipping); ``grad_norm_max``: its maximum
    - ``layer_grad_norm[name]``: per weight tensor (parameters with ndim >= 2, named as in
      ``model.named_parameters()``), the epoch mean of its gradient's L2 norm
    - ``update_ratio[name]``: per weight tensor, the epoch mean of
      ``||w_after_step - w_before_step|| / ||w_before_step||`` (healthy: around 1e-3)
    - ``step_loss``, ``step_lr``: training loss and learning rate of every step
    - ``step_update_ratio[name]``: the update/weight ratio of every step, per weight tensor
      (the first steps, where a too-high learning rate does its damage, are in here)
    - ``best_epoch``: epoch with the lowest validation loss (training loss without a
      validation loader); ``stopped_early``: True if early stopping ended the run;
      ``diverged``: True if the loss became NaN/inf and ``fit(on_nan="stop")`` ended the run
      (the last epoch's entries are then NaN).
    """

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    grad_norm_max: list = field(default_factory=list)
    layer_grad_norm: dict = field(default_factory=dict)
    update_ratio: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    step_lr: list = field(default_factory=list)
    step_update_ratio: dict = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False
    diverged: bool = False

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict:
        """Plain lists/dicts/numbers (JSON- and ``torch.load(weights_only=True)``-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """Inverse of :meth:`to_dict`."""
        return cls(**d)

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(0 epochs)"
        return (f"History({len(self)} epochs, last: train_loss={self.train_loss[-1]:.4f} "
                f"train_acc={self.train_acc[-1]:.3f} val_loss={self.val_loss[-1]:.4f} "
                f"val_acc={self.val_acc[-1]:.3f}, best_epoch={self.best_epoch})")


# --------------------------------------------------------------------------- helpers
def _batch_to(batch, dev: torch.device, channels_last: bool):
    """(x, y) batch -> tensors on ``dev`` (non-blocking on CUDA, channels_last for 4-D x)."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError("each batch from the loader must be a pair (inputs, targets), got "
                         f"{type(batch).__name__}"
                         + (f" of length {len(batch)}" if hasattr(batch, "__len__") else ""))
    x, y = batch
    nb = dev.type == "cuda"
    if channels_last and x.dim() == 4:
        x = x.to(dev, non_blocking=nb, memory_format=torch.channels_last)
    else:
        x = x.to(dev, non_blocking=nb)
    return x, y.to(dev, non_blocking=nb)


def _correct(out: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct argmax predictions, or NaN when ``y`` is not class indices."""
    if out.dim() == 2 and y.dim() == 1 and not y.is_floating_point():
        return float((out.argmax(1) == y).sum())
    return float("nan")


def _amp_context(dev: torch.device, amp: bool):
    return torch.autocast(device_type=dev.type, dtype=torch.float16, enabled=amp)


def _weights(model: nn.Module) -> list:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.dim() >= 2]


def _check_loader(loader, name: str, allow_none: bool):
    if loader is None and allow_none:
        return
    if loader is None or not hasattr(loader, "__iter__"):
        raise TypeError(f"{name} must be an iterable of (inputs, targets) batches such as a "
                        f"torch DataLoader, got {type(loader).__name__}")


# --------------------------------------------------------------------------- evaluate
@torch.no_grad()
def evaluate(model: nn.Module, loader, loss=None, device=None, amp: bool | None = None) -> dict:
    """Mean loss and accuracy of ``model`` on ``loader`` in eval mode.

    loader yields ``(x, y)``; loss defaults to cross-entropy. Returns
    ``{"loss": float, "accuracy": float in [0, 1] (NaN if y are not class indices), "n": int}``.
    The model's train/eval mode is restored afterwards.
    """
    _check_loader(loader, "loader", allow_none=False)
    loss_fn = loss if loss is not None else nn.CrossEntropyLoss()
    dev = torch.device(device) if device is not None else model_device(model)
    amp = (dev.type == "cuda") if amp is None else bool(amp)
    channels_last = dev.type == "cuda"
    total, correct, n = 0.0, 0.0, 0
    with eval_mode(model):
        for batch in loader:
            x, y = _batch_to(batch, dev, channels_last)
            with _amp_context(dev, amp):
                out = model(x)
                batch_loss = loss_fn(out.float(), y)
            total += float(batch_loss) * len(y)
            correct += _correct(out, y)
            n += len(y)
    if n == 0:
        raise ValueError("loader yielded no batches: cannot evaluate on an empty data set")
    return {"loss": total / n, "accuracy": correct / n, "n": n}


# --------------------------------------------------------------------------- checkpoints
def _rng_state(loader) -> dict:
    state = {"torch": torch.get_rng_state(),
             "numpy": [np.random.get_state()[0]] + [np.asarray(v).tolist()
                                                    for v in np.random.get_state()[1:]],
             "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    for owner in (loader, getattr(loader, "sampler", None)):
        gen = getattr(owner, "generator", None)
        if isinstance(gen, torch.Generator):
            state.setdefault("loader_generators", []).append(gen.get_state())
    return state


def _set_rng_state(state: dict, loader) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    gens = [g for o in (loader, getattr(loader, "sampler", None))
            if isinstance(g := getattr(o, "generator", None), torch.Generator)]
    for gen, s in zip(gens, state.get("loader_generators", [])):
        gen.set_state(s)


def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra) -> Path:
    """Write model/optimizer/scheduler state dicts (+ ``extra``) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"model": model.state_dict(),
               "optimizer": optimizer.state_dict() if optimizer is not None else None,
               "scheduler": scheduler.state_dict() if scheduler is not None else None, **extra}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path, model, optimizer=None, scheduler=None, map_location=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into the given objects.

    Uses ``torch.load(weights_only=True)`` (no arbitrary code). Returns the whole payload.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(payload["model"])
    if optimizer is not None and payload.get("optimizer") is not None:
        optimizer.load_state_dict(payload["optimizer"])
    if scheduler is not None and payload.get("scheduler") is not None:
        scheduler.load_state_dict(payload["scheduler"])
    return payload


# --------------------------------------------------------------------------- fit
class _EpochStats:
    """Accumulates one epoch's training measurements."""

    def __init__(self, names):
        self.loss = self.correct = 0.0
        self.n = self.steps = 0
        self.norms: list = []
        self.layer_norm = {k: 0.0 for k in names}
        self.ratio = {k: 0.0 for k in names}
        self.step_ratio = {k: [] for k in names}
        self.monitored = 0


def _train_step(model, x, y, loss_fn, optimizer, scaler, dev, amp, clip, weights, stats):
    """One optimization step; updates ``stats``; returns the batch loss."""
    optimizer.zero_grad(set_to_none=True)
    with _amp_context(dev, amp):
        out = model(x)
        batch_loss = loss_fn(out.float(), y)
    if not torch.isfinite(batch_loss):
        raise FloatingPointError(f"the training loss became {float(batch_loss.detach())}; lower the "
                                 "learning rate or check the data/initialization")
    scaler.scale(batch_loss).backward()
    scaler.unscale_(optimizer)
    with torch.no_grad():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        gnorm = float(torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(g.float()) for g in grads]))) if grads else 0.0
        before = [w.detach().clone() for _, w in weights]
        for (name, w) in weights:
            if w.grad is not None:
                stats.layer_norm[name] += float(torch.linalg.vector_norm(w.grad.float()))
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    scaler.step(optimizer)
    scaler.update()
    with torch.no_grad():
        for (name, w), w0 in zip(weights, before):
            r = float(torch.linalg.vector_norm((w - w0).float())
                      / (torch.linalg.vector_norm(w0.float()) + 1e-12))
            stats.ratio[name] += r
            stats.step_ratio[name].append(r)
    stats.monitored += 1
    if math.isfinite(gnorm):
        stats.norms.append(gnorm)
    n = len(y)
    value = float(batch_loss.detach())
    stats.loss += value * n
    stats.correct += _correct(out.detach(), y)
    stats.n += n
    stats.steps += 1
    return value


def fit(model: nn.Module, train_loader, val_loader=None, epochs: int = 10, optimizer=None,
        scheduler=None, loss=None, *, device=None, early_stopping: int | None = None,
        restore_best: bool = True, checkpoint=None, resume: bool = False,
        overwrite: bool = False, amp: bool | None = None, channels_last: bool | None = None,
        clip_grad_norm: float | None = None, scheduler_interval: str = "epoch",
        on_nan: str = "raise", progress: bool = True) -> History:
    """Train ``model`` for ``epochs`` epochs and return a :class:`History`.

    train_loader / val_loader: iterables of ``(x, y)`` batches (x: (N, C, H, W), y: (N,)
    class indices for the default loss). optimizer: a torch optimizer over ``model``'s
    parameters (default ``Adam(lr=1e-3)``); scheduler: an LR scheduler stepped every epoch
    (``ReduceLROnPlateau`` gets the validation loss) or, with ``scheduler_interval="step"``,
    every batch; loss: ``loss(outputs, targets) -> scalar`` (default cross-entropy).

    device: where to train (default: ``device()``, quietly). early_stopping: stop after this
    many epochs without a lower validation loss (``restore_best`` then reloads the best
    weights). checkpoint: a file written after every epoch; ``resume=True`` continues from it
    when it exists (model, optimizer, scheduler, history and RNG states), so the result is
    the same as an uninterrupted run. An existing checkpoint is never overwritten unless
    ``resume`` or ``overwrite`` is True. amp / channels_last: default on for CUDA only.
    clip_grad_norm: clip the global gradient norm to this value. on_nan: what to do when the
    training loss becomes NaN/inf: ``"raise"`` a FloatingPointError, or ``"stop"`` training
    and return the history with ``diverged=True`` (for learning-rate sweeps).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_loader(train_loader, "train_loader", allow_none=False)
    _check_loader(val_loader, "val_loader", allow_none=True)
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if early_stopping is not None and (not isinstance(early_stopping, int) or early_stopping < 1):
        raise ValueError(f"early_stopping must be a positive int (patience in epochs) or None, "
                         f"got {early_stopping!r}")
    if on_nan not in ("raise", "stop"):
        raise ValueError(f"on_nan must be 'raise' or 'stop', got {on_nan!r}")
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'step', "
                         f"got {scheduler_interval!r}")
    dev = torch.device(device) if device is not None else _best_device(verbose=False)
    amp = (dev.type == "cuda") if amp is None else bool(amp)
    if amp and dev.type != "cuda":
        raise ValueError("amp=True needs a CUDA device; leave amp=None to use it only on CUDA")
    channels_last = (dev.type == "cuda") if channels_last is None else bool(channels_last)
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss if loss is not None else nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(dev.type, enabled=amp)
    weights = _weights(model)
    names = [n for n, _ in weights]

    history = History(layer_grad_norm={k: [] for k in names}, update_ratio={k: [] for k in names})
    best = {"loss": math.inf, "state": None, "bad": 0}
    start_epoch = 0
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        if resume:
            payload = load_checkpoint(ckpt, model, optimizer, scheduler, map_location=dev)
            history = History.from_dict(payload["history"])
            start_epoch = int(payload["epoch"])
            best = payload["best"]
            if payload.get("scaler") is not None:
                scaler.load_state_dict(payload["scaler"])
            _set_rng_state(payload["rng"], train_loader)
        elif not overwrite:
            raise FileExistsError(f"checkpoint {ckpt} already exists: pass resume=True to "
                                  "continue from it, overwrite=True to replace it, or another path")

    steps_per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else None
    from tqdm.auto import tqdm

    bar = tqdm(total=(epochs - start_epoch) * steps_per_epoch if steps_per_epoch else None,
               desc="fit", unit="batch", disable=not progress or epochs <= start_epoch)
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            if history.stopped_early or history.diverged:
                break
            t0 = time.perf_counter()
            model.train()
            stats = _EpochStats(names)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            for batch in train_loader:
                x, y = _batch_to(batch, dev, channels_last)
                history.step_lr.append(float(optimizer.param_groups[0]["lr"]))
                try:
                    history.step_loss.append(_train_step(model, x, y, loss_fn, optimizer,
                                                         scaler, dev, amp, clip_grad_norm,
                                                         weights, stats))
                except FloatingPointError:
                    if on_nan == "raise":
                        raise
                    history.step_loss.append(float("nan"))
                    history.diverged = True
                    break
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
                bar.update(1)
            if history.diverged:
                for k in names:                 # the steps before the blow-up are kept
                    history.step_update_ratio.setdefault(k, []).extend(stats.step_ratio[k])
                _record_diverged(history, epoch, names, time.perf_counter() - t0)
                break
            if stats.n == 0:
                raise ValueError("train_loader yielded no batches")
            _record_epoch(history, epoch, stats)
            if val_loader is not None:
                v = evaluate(model, val_loader, loss_fn, dev, amp)
                history.val_loss.append(v["loss"])
                history.val_acc.append(v["accuracy"])
            else:
                history.val_loss.append(float("nan"))
                history.val_acc.append(float("nan"))
            monitor = history.val_loss[-1] if val_loader is not None else history.train_loss[-1]
            if scheduler is not None and scheduler_interval == "epoch":
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(monitor)
                else:
                    scheduler.step()
            if monitor < best["loss"]:
                best = {"loss": monitor, "bad": 0, "state": _state_copy(model)
                        if early_stopping and restore_best else None}
                history.best_epoch = epoch
            else:
                best["bad"] += 1
                if early_stopping is not None and best["bad"] >= early_stopping:
                    history.stopped_early = True
            history.seconds.append(time.perf_counter() - t0)
            bar.set_postfix(epoch=epoch, loss=f"{history.train_loss[-1]:.3f}",
                            val_loss=f"{history.val_loss[-1]:.3f}",
                            val_acc=f"{history.val_acc[-1]:.3f}")
            if ckpt is not None:
                save_checkpoint(ckpt, model, optimizer, scheduler, epoch=epoch,
                                history=history.to_dict(), best=best,
                                scaler=scaler.state_dict() if amp else None,
                                rng=_rng_state(train_loader))
    finally:
        bar.close()
    if history.stopped_early and restore_best and best.get("state") is not None:
        model.load_state_dict(best["state"])
    return history


def _state_copy(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _record_diverged(history: History, epoch: int, names, seconds: float) -> None:
    nan = float("nan")
    history.epoch.append(epoch)
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "grad_norm", "grad_norm_max"):
        getattr(history, key).append(nan)
    for k in names:
        history.layer_grad_norm.setdefault(k, []).append(nan)
        history.update_ratio.setdefault(k, []).append(nan)
    history.seconds.append(seconds)


def _record_epoch(history: History, epoch: int, s: _EpochStats) -> None:
    history.epoch.append(epoch)
    history.train_loss.append(s.loss / s.n)
    history.train_acc.append(s.correct / s.n)
    history.grad_norm.append(float(np.mean(s.norms)) if s.norms else float("nan"))
    history.grad_norm_max.append(float(np.max(s.norms)) if s.norms else float("nan"))
    for k in s.layer_norm:
        history.layer_grad_norm.setdefault(k, []).append(s.layer_norm[k] / max(1, s.steps))
        history.update_ratio.setdefault(k, []).append(s.ratio[k] / max(1, s.monitored))
        history.step_update_ratio.setdefault(k, []).extend(s.step_ratio[k])


# --------------------------------------------------------------------------- MC dropout
@torch.no_grad()
def mc_dropout_predict(model: nn.Module, x, samples: int = 20, seed: int | None = None):
    """Monte-Carlo dropout: ``samples`` stochastic forward passes with dropout active
    (BatchNorm stays in eval mode). x: (N, ...) tensor on the model's device.

    Returns ``(mean_probs, std_probs)``, each (N, K): the average softmax over the passes
    (the prediction) and its standard deviation across passes (an uncertainty estimate).
    """
    if not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an int >= 2, got {samples!r}")
    drops = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    if not drops:
        raise ValueError("model has no dropout layers: MC dropout needs nn.Dropout modules")
    gen_state = torch.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        with eval_mode(model):
            for m in drops:
                m.train()
            probs = torch.stack([torch.softmax(model(x).float(), dim=1) for _ in range(samples)])
    finally:
        if seed is not None:
            torch.set_rng_state(gen_state)
    return probs.mean(0), probs.std(0)
