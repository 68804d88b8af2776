"""Plots of a NumPy training run (coursekit.nn.Trainer's TrainHistory) and of timings."""
from __future__ import annotations

import numpy as np


def _smooth(values, beta=0.9):
    out, avg = [], 0.0
    for t, v in enumerate(values, 1):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** t))
    return np.array(out)


def plot_numpy_training(history, title: str | None = None, healthy=(1e-4, 1e-2)):
    """Three panels from a ``TrainHistory``: loss per iteration (raw and smoothed),
    train/validation accuracy per epoch, and the per-parameter update/weight ratio
    (log scale, the healthy band around 1e-3 shaded). Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_a, ax_r) = plt.subplots(1, 3, figsize=(14, 3.8))
    loss = np.asarray(history.loss)
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
    ax_a.legend()
    n_iter = max(len(loss), 1)
    for name, vals in history.update_ratio.items():
        if not name.endswith("w"):
            continue  # weights only (biases start at 0: their ratio is meaningless early)
        x = np.linspace(1, n_iter, len(vals))
        ax_r.plot(x, vals, label=name, lw=1)
    ax_r.axhspan(*healthy, color="C2", alpha=0.1, label="healthy (~1e-3)")
    ax_r.set_yscale("log")
    ax_r.set(xlabel="iteration", ylabel="||Δw|| / ||w|| (update / weight)", title="Update/weight ratio")
    ax_r.legend(fontsize=8)
    for ax in (ax_l, ax_a, ax_r):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_timings(seconds: dict, title: str = "Same convolution, three implementations", unit="s"):
    """Horizontal bars (log scale) of ``{label: seconds}``, annotated with the time and the
    speed-up over the slowest. Returns the Figure."""
    import matplotlib.pyplot as plt

    labels = list(seconds)
    vals = np.array([seconds[k] for k in labels], dtype=float)
    if len(vals) == 0 or np.any(vals <= 0):
        raise ValueError(f"seconds must be a non-empty dict of positive times, got {seconds}")
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(labels) + 1.2))
    ax.barh(labels, vals, color=[f"C{i}" for i in range(len(labels))])
    slowest = vals.max()
    for i, v in enumerate(vals):
        ax.text(v, i, f"  {v * 1e3:.3g} ms  ({slowest / v:.0f}x)", va="center")
    ax.set_xscale("log")
    ax.set_xlim(vals.min() / 3, slowest * 30)
    ax.invert_yaxis()
    ax.set(xlabel=f"time per call ({unit}, log scale)", title=title)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig
