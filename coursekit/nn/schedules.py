"""Learning-rate schedules as pure functions of the step number (no framework needed).

Each function maps ``step`` (0, 1, 2, ... — the number of optimizer steps already taken)
to a learning rate; :func:`make_schedule` turns one into a ``step -> lr`` callable. The
formulas match ``torch.optim.lr_scheduler`` (StepLR, ExponentialLR, CosineAnnealingLR,
OneCycleLR with cosine annealing, LinearLR) evaluated after ``step`` scheduler steps.
"""
from __future__ import annotations

import math
from functools import partial


def _check_step(step):
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")


def constant(step: int, lr0: float) -> float:
    """lr0 at every step."""
    _check_step(step)
    return lr0


def step_decay(step: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """lr0 * gamma ** (step // step_size): drop by ``gamma`` every ``step_size`` steps."""
    _check_step(step)
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    return lr0 * gamma ** (step // step_size)


def exponential(step: int, lr0: float, gamma: float) -> float:
    """lr0 * gamma ** step."""
    _check_step(step)
    return lr0 * gamma ** step


def cosine(step: int, lr0: float, total_steps: int, lr_min: float = 0.0) -> float:
    """Half a cosine from lr0 (step 0) down to lr_min (step ``total_steps``), then lr_min."""
    _check_step(step)
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    t = min(step, total_steps) / total_steps
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t)) / 2


def inverse_time(step: int, lr0: float, decay: float) -> float:
    """1/t decay: lr0 / (1 + decay * step)."""
    _check_step(step)
    return lr0 / (1 + decay * step)


def linear_warmup(step: int, lr0: float, warmup_steps: int, start_factor: float = 0.0,
                  after=None) -> float:
    """Ramp linearly from ``start_factor*lr0`` to ``lr0`` over ``warmup_steps`` steps.

    After the warm-up: ``after(step - warmup_steps)`` if a schedule callable is given
    (e.g. a cosine decay), else lr0. ``start_factor`` > 0 matches torch's LinearLR.
    """
    _check_step(step)
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if step < warmup_steps:
        return lr0 * (start_factor + (1 - start_factor) * step / warmup_steps)
    return after(step - warmup_steps) if after is not None else lr0


def one_cycle(step: int, lr_max: float, total_steps: int, pct_start: float = 0.3,
              div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """One-cycle policy (Smith), as torch's OneCycleLR with cosine annealing.

    Cosine rise from ``lr_max/div_factor`` to ``lr_max`` over the first ``pct_start`` of
    ``total_steps``, then cosine fall to ``lr_max/div_factor/final_div_factor``.
    """
    _check_step(step)
    if total_steps < 2:
        raise ValueError(f"total_steps must be >= 2, got {total_steps}")
    lr0 = lr_max / div_factor
    lr_end = lr0 / final_div_factor
    up_end = float(pct_start * total_steps) - 1
    down_end = float(total_steps - 1)
    step = min(step, total_steps - 1)

    def anneal(a, b, pct):
        return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)

    if step <= up_end:
        return anneal(lr0, lr_max, step / up_end if up_end > 0 else 1.0)
    return anneal(lr_max, lr_end, (step - up_end) / (down_end - up_end))


SCHEDULES = {"constant": constant, "step": step_decay, "exponential": exponential,
             "cosine": cosine, "inverse_time": inverse_time, "one_cycle": one_cycle,
             "linear_warmup": linear_warmup}


def make_schedule(name: str, **kwargs):
    """A ``step -> lr`` callable, e.g. ``make_schedule("cosine", lr0=0.1, total_steps=500)``."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return partial(SCHEDULES[name], **kwargs)


def schedule_values(schedule, steps: int) -> list[float]:
    """``[schedule(0), ..., schedule(steps - 1)]`` (for plotting)."""
    return [float(schedule(t)) for t in range(steps)]
