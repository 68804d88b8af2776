"""2-D loss surfaces and the paths optimizers take on them."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_loss_surface", "plot_optimizer_paths"]


def _surface(surface):
    from ..optim import SURFACES
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; choose one of {sorted(SURFACES)}")
        return SURFACES[surface]
    if isinstance(surface, dict) and {"f", "extent"} <= set(surface):
        return surface
    raise TypeError("surface must be a name in coursekit.optim.SURFACES or a dict with "
                    "'f' and 'extent'")


def plot_loss_surface(surface="ravine", ax=None, levels: int = 30, resolution: int = 200):
    """Contour plot of a surface of ``coursekit.optim.SURFACES`` (log-spaced levels), with
    its minimum marked by a star. Returns the axis."""
    spec = _surface(surface)
    x0, x1, y0, y1 = spec["extent"]
    xs, ys = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    z = spec["f"](xs, ys)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    shift = z - z.min() + 1e-3
    ax.contour(xs, ys, shift, levels=np.geomspace(shift.min() + 1e-3, shift.max(), levels),
               cmap="Greys", linewidths=0.7)
    if "minimum" in spec:
        ax.plot(*spec["minimum"], "k*", ms=12, label="minimum")
    ax.set_xlabel("parameter $w_1$")
    ax.set_ylabel("parameter $w_2$")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return ax


def plot_optimizer_paths(paths: dict, surface="ravine", ax=None, title: str | None = None):
    """Draw each optimizer's path ``{label: array (T, 2)}`` over the surface's contours;
    the legend (below the axes, off the paths) gives the final loss. Returns the figure."""
    spec = _surface(surface)
    ax = plot_loss_surface(surface, ax=ax)
    for label, path in paths.items():
        path = np.asarray(path)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path {label!r} must be (T, 2), got {path.shape}")
        final = float(spec["f"](*path[-1]))
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2.5, lw=1.3,
                label=f"{label}: loss {final:.2g} after {len(path) - 1} steps")
    if paths:
        ax.plot(*np.asarray(next(iter(paths.values())))[0], "ko", ms=6, label="start")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax.set_title(title or "Optimizer paths on the loss surface")
    ax.figure.tight_layout()
    return ax.figure
