"""Learning-rate schedules side by side (the formulas live in ``coursekit.nn.schedules``)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["default_schedules", "plot_schedules"]


def default_schedules(lr0: float = 0.1, total_steps: int = 100) -> dict:
    """The lecture's schedules over ``total_steps`` steps, as ``{label: step -> lr}``:
    constant, step, exponential, 1/t, cosine, warm-up + cosine, one-cycle."""
    from ..nn.schedules import make_schedule
    warm = max(1, total_steps // 10)
    after = make_schedule("cosine", lr0=lr0, total_steps=total_steps - warm)
    return {
        "constant": make_schedule("constant", lr0=lr0),
        "step (x0.1 every 30%)": make_schedule("step", lr0=lr0, step_size=max(1, int(0.3 * total_steps)),
                                               gamma=0.1),
        "exponential": make_schedule("exponential", lr0=lr0, gamma=0.01 ** (1 / total_steps)),
        "1/t": make_schedule("inverse_time", lr0=lr0, decay=10 / total_steps),
        "cosine": make_schedule("cosine", lr0=lr0, total_steps=total_steps),
        "warm-up + cosine": make_schedule("linear_warmup", lr0=lr0, warmup_steps=warm, after=after),
        "one-cycle": make_schedule("one_cycle", lr_max=lr0, total_steps=total_steps),
    }


def plot_schedules(schedules: dict | None = None, total_steps: int = 100, log: bool = False,
                   ax=None):
    """One curve per schedule (``{label: step -> lr}``, default :func:`default_schedules`)
    over ``total_steps`` steps; ``log=True`` puts the rate on a log axis. Returns the figure."""
    schedules = schedules if schedules is not None else default_schedules(total_steps=total_steps)
    if not schedules:
        raise ValueError("schedules is empty: pass {label: step -> lr}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    steps = np.arange(total_steps)
    dashes = ("-", "--", "-.", ":")          # a schedule that runs along another stays visible
    for i, (label, fn) in enumerate(schedules.items()):
        ax.plot(steps, [fn(int(t)) for t in steps], label=label, lw=1.8, ls=dashes[i % len(dashes)])
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    if log:
        from .style import log_ticks

        log_ticks(ax, "y")
    ax.set_title("Learning-rate schedules")
    ax.grid(alpha=0.3)
    from .style import legend_outside

    legend_outside(ax)
    ax.figure.tight_layout()
    return ax.figure
