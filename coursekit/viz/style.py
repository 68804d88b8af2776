"""The figure style contract every plotting helper follows, and the small helpers that apply it.

A lesson is read in a notebook about 900 px wide. A figure wider than the page is scaled down,
and its text with it, so the contract bounds the figure and its panels (numbers below), and
fixes how a few kinds of data are drawn:

- width at most :data:`MAX_WIDTH_IN` inches at :data:`DPI` dpi; grids are wrapped into rows
  (:func:`grid`) instead of one long strip;
- an image panel at least :data:`MIN_IMAGE_IN` inches on its longer side, a plot panel at least
  :data:`MIN_PLOT_IN` (width, height);
- panels that are compared share their axes (:func:`grid` with ``sharex``/``sharey``, or
  :func:`share_limits`);
- signed data (filters, feature maps, edge responses, differences) in a diverging colour map
  with limits symmetric about 0 and a colorbar (:func:`show_signed`);
- log axes with explicit, labelled decades and unlabelled minor ticks (:func:`log_ticks`);
- legends outside the data or in free space (:func:`legend_outside`);
- class names instead of indices, ``n=`` when a plot summarises few points (:func:`n_label`),
  a chance or baseline line where a score is plotted (:func:`chance_line`).

:mod:`coursekit.figure_audit` checks the measurable part of this contract on every figure a
lesson draws (``tests/test_figures.py``).
"""
from __future__ import annotations

import numpy as np

DPI = 100                   # inches -> pixels, as the inline backend renders a figure
MAX_WIDTH_IN = 12.0         # widest figure (1200 px at 100 dpi)
MIN_IMAGE_IN = 1.2          # shortest allowed longer side of an image panel
MIN_PLOT_IN = (1.8, 1.3)    # smallest (width, height) of a plot panel
DIVERGING = "RdBu_r"        # red positive, blue negative
DIVERGING_MAPS = frozenset(
    name + suffix
    for name in ("RdBu", "bwr", "coolwarm", "seismic", "PiYG", "PRGn", "BrBG", "PuOr", "RdGy",
                 "RdYlBu", "RdYlGn", "Spectral", "berlin", "managua", "vanimo")
    for suffix in ("", "_r"))
SIGNED_FRACTION = 0.05      # data is "signed" when each sign reaches 5% of the largest |value|


def grid(n: int, ncols: int | None = None, panel=(2.0, 2.0), max_width: float = MAX_WIDTH_IN,
         extra_width: float = 0.0, extra_height: float = 0.4, sharex=False, sharey=False, **kw):
    """A figure of ``n`` panels, each ``panel`` = (width, height) inches, wrapped into rows so the
    figure is at most ``max_width`` inches wide (``extra_width``: room for a colorbar).

    Returns ``(fig, axes)`` with ``axes`` a flat array of the ``n`` used axes; unused cells of the
    last row are removed. ``sharex``/``sharey`` as in ``plt.subplots``.
    """
    import matplotlib.pyplot as plt

    if n < 1:
        raise ValueError(f"grid(n={n}): need at least one panel")
    fit = max(1, int((max_width - extra_width) // panel[0]))
    ncols = min(n, ncols or fit, fit)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey,
                             figsize=(ncols * panel[0] + extra_width, nrows * panel[1] + extra_height), **kw)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def is_signed(data, fraction: float = SIGNED_FRACTION) -> bool:
    """Whether ``data`` has both signs, each reaching ``fraction`` of the largest ``|value|``."""
    a = np.asarray(data, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return False
    lo, hi = float(a.min()), float(a.max())
    big = max(-lo, hi)
    return big > 0 and -lo >= fraction * big and hi >= fraction * big


def symmetric_limit(*arrays) -> float:
    """The largest ``|value|`` over ``arrays`` (1.0 when all are zero): use ``vmin=-m, vmax=m``."""
    m = max((float(np.nanmax(np.abs(np.asarray(a, dtype=float)))) for a in arrays if np.size(a)), default=0.0)
    return m or 1.0


def show_signed(ax, data, vmax: float | None = None, label: str | None = None, colorbar: bool = True,
                cmap: str = DIVERGING, **kw):
    """``imshow`` of signed ``data (H, W)`` in a diverging map with limits ``±vmax`` (default the
    largest ``|value|``) and, with ``colorbar``, a colorbar labelled ``label`` (with arrow ends
    when ``vmax`` clips the data). Returns the image."""
    m = vmax if vmax is not None else symmetric_limit(data)
    im = ax.imshow(data, cmap=cmap, vmin=-m, vmax=m, **kw)
    if colorbar:
        clipped = float(np.nanmax(np.abs(np.asarray(data, dtype=float)))) > m * (1 + 1e-9)
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=label, extend="both" if clipped else "neither")
    return im


def log_ticks(ax, axis: str = "y", base: float = 10.0):
    """Explicit ticks on a log axis: labelled powers of ``base`` (``10^k``) and unlabelled minor
    ticks; when the current limits span under two decades, 1-2-5 ticks labelled in plain numbers
    (``0.02``, ``0.05``, ``0.1``) instead, so that at least two ticks carry a label."""
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    short = lo > 0 and np.log(hi / lo) / np.log(base) < 2
    if short:
        target.set_major_locator(LogLocator(base=base, subs=(1.0, 2.0, 5.0), numticks=12))
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
        target.set_minor_locator(LogLocator(base=base, subs=(3.0, 4.0, 6.0, 7.0, 8.0, 9.0), numticks=12))
    else:
        target.set_major_locator(LogLocator(base=base, numticks=12))
        target.set_major_formatter(LogFormatterSciNotation(base=base))
        target.set_minor_locator(LogLocator(base=base, subs=np.arange(2, 10) / 1.0, numticks=12))
    target.set_minor_formatter(NullFormatter())


def legend_outside(ax, title: str | None = None, **kw):
    """The legend to the right of ``ax``, outside the data (the figure grows to hold it)."""
    kw.setdefault("fontsize", 8)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, title=title, **kw)


def share_limits(axes, axis: str = "y", lim=None):
    """Give every axes in ``axes`` the same limits on ``axis`` ("x" or "y"): ``lim``, or the union
    of their current limits."""
    axes = list(axes)
    get = (lambda a: a.get_ylim()) if axis == "y" else (lambda a: a.get_xlim())
    if lim is None:
        lims = np.array([get(a) for a in axes])
        lim = (lims.min(), lims.max())
    for a in axes:
        (a.set_ylim if axis == "y" else a.set_xlim)(lim)
    return lim


def chance_line(ax, level: float, label: str = "chance", axis: str = "y", **kw):
    """A dotted grey line at a score's chance (or baseline) ``level``, labelled for the legend."""
    kw = {"color": "0.4", "ls": ":", "lw": 1.2, "label": f"{label} ({level:.3g})", **kw}
    return ax.axhline(level, **kw) if axis == "y" else ax.axvline(level, **kw)


def n_label(n: int, what: str = "") -> str:
    """``"n=12"`` (or ``"n=12 seeds"``): say how many points a plot summarises."""
    return f"n={n}" + (f" {what}" if what else "")
