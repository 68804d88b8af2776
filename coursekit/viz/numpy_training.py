"""Plots of a NumPy training run (coursekit.nn.Trainer's nn.History) and of timings."""
from __future__ import annotations

import numpy as np

from .curves import smooth as _smooth
from .style import chance_line, log_ticks


def plot_numpy_training(history, title: str | None = None, healthy=(1e-4, 1e-2), chance: float | None = None):
    """Three panels from a ``nn.History``: loss per iteration (raw and smoothed),
    train/validation accuracy per epoch (with a line at the ``chance`` accuracy when given),
    and the per-parameter update/weight ratio (log scale, the lecture's rule-of-thumb band for
    SGD, 1e-4 to 1e-2, shaded). Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_a, ax_r) = plt.subplots(1, 3, figsize=(12, 3.9))
    loss = np.asarray(history.step_loss)
    it = np.arange(1, len(loss) + 1)
    ax_l.plot(it, loss, alpha=0.3, label="per minibatch")
    if len(loss):
        ax_l.plot(it, _smooth(loss), label="smoothed")
    ax_l.set(xlabel="iteration", ylabel="cross-entropy loss", title="Training loss")
    ax_l.legend()
    ep = np.arange(1, len(history.train_acc) + 1)
    ax_a.plot(ep, history.train_acc, "o-", label="train")
    if history.val_acc:
        ax_a.plot(ep, history.val_acc, "s--", label="validation")
    ax_a.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    if chance is not None:
        chance_line(ax_a, chance)
    ax_a.legend(fontsize=8, loc="center right")
    n_iter = max(len(loss), 1)
    for name, vals in history.step_update_ratio.items():
        if not name.endswith("w"):
            continue  # weights only (biases start at 0: their ratio is meaningless early)
        x = np.linspace(1, n_iter, len(vals))
        ax_r.plot(x, vals, label=name, lw=1)
    ax_r.axhspan(*healthy, color="C2", alpha=0.1, label="lecture's band for SGD")
    ax_r.set_yscale("log")
    log_ticks(ax_r, "y")
    ax_r.set(xlabel="iteration", ylabel="||Δw|| / ||w|| (update / weight)", title="Update/weight ratio")
    ax_r.legend(fontsize=7)
    for ax in (ax_l, ax_a, ax_r):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_timings(seconds: dict, title: str = "Same convolution, three implementations", unit="s"):
    """Horizontal bars (log scale) of ``{label: seconds}``, annotated with the time and the
    speed-up over the slowest (the x label says so). Returns the Figure."""
    import matplotlib.pyplot as plt

    labels = list(seconds)
    vals = np.array([seconds[k] for k in labels], dtype=float)
    if len(vals) == 0 or np.any(vals <= 0):
        raise ValueError(f"seconds must be a non-empty dict of positive times, got {seconds}")
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(labels) + 1.2))
    ax.barh(labels, vals, color=[f"C{i}" for i in range(len(labels))])
    slowest = vals.max()
    for i, v in enumerate(vals):
        r = slowest / v                                   # small speed-ups keep a decimal
        ax.text(v, i, f"  {v * 1e3:.3g} ms  ({r:.{0 if r >= 10 or v == slowest else 1}f}x)", va="center")
    ax.set_xscale("log")
    ax.set_xlim(vals.min() / 3, slowest * 30)
    ax.invert_yaxis()
    ax.set(xlabel=f"time per call ({unit}, log scale); (Nx): N times faster than the slowest bar", title=title)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_ratio_vs_lr(history, healthy=(1e-4, 1e-2)):
    """Two panels on one iteration axis from a ``nn.History``: the learning rate (left) and,
    per weight, the update/weight ratio (solid) beside ``lr / rms(w)`` (dashed, same colour),
    what Adam's ratio is close to whatever the gradient. Log scales. Returns the Figure."""
    import matplotlib.pyplot as plt

    steps = np.asarray(history.ratio_steps)
    lr = np.asarray(history.step_lr)
    if len(steps) == 0:
        raise ValueError("history has no recorded update ratios (Trainer(ratio_every=...))")
    fig, (ax_lr, ax_r) = plt.subplots(1, 2, figsize=(11.5, 4.6), sharex=True)
    ax_lr.plot(np.arange(len(lr)), lr, color="k")
    ax_lr.set(yscale="log", xlabel="iteration", ylabel="learning rate", title="Learning rate (schedule)")
    for i, name in enumerate(k for k in history.step_update_ratio if k.endswith("w")):
        ratio = np.asarray(history.step_update_ratio[name])
        pred = lr[steps] / np.asarray(history.weight_rms[name])
        ax_r.plot(steps, ratio, color=f"C{i}", lw=1, label=f"{name}: ||Δw|| / ||w||")
        ax_r.plot(steps, pred, color=f"C{i}", lw=1, ls="--", label=f"{name}: lr / rms(w)")
    ax_r.axhspan(*healthy, color="C2", alpha=0.08, label="lecture's band for SGD")
    ax_r.set(yscale="log", xlabel="iteration", ylabel="ratio (log scale)",
             title="Update/weight ratio beside lr / rms(w)")
    log_ticks(ax_lr, "y")
    log_ticks(ax_r, "y")
    ax_r.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    for ax in (ax_lr, ax_r):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_seed_runs(runs: dict, title: str | None = None, chance: float | None = None):
    """Compare training runs repeated over seeds: ``{label: [nn.History, ...]}``.

    Left: minibatch loss (smoothed), mean over seeds with the min-max band (log scale).
    Right: validation accuracy per epoch, mean with the min-max band, and a line at the
    ``chance`` accuracy (e.g. 1/10) when given. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("runs is empty: pass {label: [nn.History, ...]}")
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(11.5, 4))
    for i, (label, hists) in enumerate(runs.items()):
        losses = np.array([_smooth(h.step_loss) for h in hists])
        it = np.arange(1, losses.shape[1] + 1)
        ax_l.plot(it, losses.mean(0), color=f"C{i}", label=f"{label} ({len(hists)} seeds)")
        ax_l.fill_between(it, losses.min(0), losses.max(0), color=f"C{i}", alpha=0.15)
        acc = np.array([h.val_acc for h in hists])
        ep = np.arange(1, acc.shape[1] + 1)
        ax_a.plot(ep, acc.mean(0), "o-", color=f"C{i}", ms=3, label=label)
        ax_a.fill_between(ep, acc.min(0), acc.max(0), color=f"C{i}", alpha=0.15)
    ax_l.set(yscale="log", xlabel="iteration", ylabel="cross-entropy loss (smoothed, log scale)",
             title="Training loss: mean and min-max over seeds")
    ax_a.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy: mean and min-max")
    if chance is not None:
        chance_line(ax_a, chance)
    log_ticks(ax_l, "y")
    ax_l.legend(fontsize=8)
    ax_a.legend(fontsize=8)
    for ax in (ax_l, ax_a):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
