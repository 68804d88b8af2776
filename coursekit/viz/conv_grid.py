"""Draw convolution / pooling / transposed-convolution windows over a pixel grid.

``conv_grid(7, 3, stride=2)`` draws a 7x7 input, its padding, the windows of the first
output row and column (the first and last window filled, with their dilated taps marked),
the input pixels no window ever reads (in red), and the output size with the formula filled
in. The sizes and window positions come from :mod:`coursekit.arithmetic`.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from coursekit.arithmetic import output_size, output_size_formula, padding_pixels, window_taps

__all__ = ["conv_grid"]

_UNCOVERED = "#f4a6a6"
_PADDING = "#d9d9d9"
_FIRST, _LAST, _OTHER = "#1f77b4", "#ff7f0e", "#2ca02c"


def _covered(taps, lo, hi) -> set:
    return {t for window in taps for t in window if lo <= t < hi}


def conv_grid(size, kernel_size, stride=None, padding=0, dilation=1, *, transposed=False,
              output_padding=0, pooling=False, ceil_mode=False, ax=None,
              new_figure: bool = True):
    """Draw the windows of one layer over a ``size`` x ``size`` grid; return the figure.

    Convolution and pooling (``pooling=True``, ``stride=None`` means ``kernel_size``): the
    grid is the padded input. Transposed (``transposed=True``): the grid is the output
    canvas each input pixel writes a ``kernel_size`` x ``kernel_size`` patch to; the
    ``padding`` border (grey) is cropped away. Red cells are never read (or, transposed,
    never written: they only get the bias). ``stride=None`` means 1 (``kernel_size`` for
    pooling). Raises ``ValueError`` like the size functions.
    ``ax``: draw into these axes; otherwise a new figure (``matplotlib.figure.Figure``
    without pyplot when ``new_figure`` is False, as widgets need).
    """
    if stride is None and not pooling:
        stride = 1
    kind = dict(transposed=transposed, output_padding=output_padding, pooling=pooling,
                ceil_mode=ceil_mode)
    out = output_size(size, kernel_size, stride, padding, dilation, **kind)
    formula = output_size_formula(size, kernel_size, stride, padding, dilation, **kind)
    taps = window_taps(size, kernel_size, stride, padding, dilation, **kind)
    padding = padding_pixels(padding, kernel_size, dilation)
    if transposed:
        canvas = taps[-1][-1] + 1 + output_padding
        lo, hi = 0, canvas
        inner = (padding, canvas - padding)          # kept after cropping
    else:  # a ceil_mode pooling window may reach past the padding: draw that too (grey)
        lo = min(-padding, taps[0][0])
        hi = max(size + padding, taps[-1][-1] + 1)
        inner = (0, size)
    covered = _covered(taps, *inner)
    if ax is None:
        side = min(7.0, 2.5 + 0.3 * (hi - lo))
        if new_figure:
            fig, ax = plt.subplots(figsize=(side, side + 0.6))
        else:
            fig = Figure(figsize=(side, side + 0.6))
            ax = fig.add_subplot()
    fig = ax.figure

    for r in range(lo, hi):
        for c in range(lo, hi):
            inside = inner[0] <= r < inner[1] and inner[0] <= c < inner[1]
            face = "white" if inside else _PADDING
            if inside and (r not in covered or c not in covered):
                face = _UNCOVERED
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#999999", lw=0.6))

    def window(rows, cols, color, filled, dots):
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        ax.add_patch(Rectangle((c0, r0), c1 - c0, r1 - r0, fill=filled, alpha=0.25 if filled
                               else 0.9, facecolor=color, edgecolor=color, lw=2 if filled else 1))
        if filled:
            ax.add_patch(Rectangle((c0, r0), c1 - c0, r1 - r0, fill=False, edgecolor=color, lw=2))
        if dots:
            ax.scatter([c + 0.5 for r in rows for c in cols], [r + 0.5 for r in rows for c in cols],
                       s=18, color=color, zorder=3)

    n_win = len(taps)
    for i in range(1, n_win - 1):  # windows along the first row and the first column
        window(taps[0], taps[i], _OTHER, False, False)
        window(taps[i], taps[0], _OTHER, False, False)
    if n_win > 1:
        window(taps[-1], taps[-1], _LAST, True, True)
    window(taps[0], taps[0], _FIRST, True, True)

    ax.set_xlim(lo, hi)
    ax.set_ylim(hi, lo)
    ax.set_aspect("equal")
    step = max(1, (hi - lo) // 10)
    ticks = list(range(lo, hi, step))
    ax.set_xticks([t + 0.5 for t in ticks], ticks)
    ax.set_yticks([t + 0.5 for t in ticks], ticks)
    kind = "transposed conv" if transposed else ("pooling" if pooling else "conv")
    ax.set_xlabel("column (pixels" + (", output canvas)" if transposed else ", input)"))
    ax.set_ylabel("row (pixels)")
    n_unc = (inner[1] - inner[0]) - len(covered)
    note = f"; {n_unc} row(s)/column(s) never {'written' if transposed else 'read'}" \
        if n_unc else ""
    ax.set_title(f"{kind}: {size}×{size} in, {kernel_size}×{kernel_size} kernel → "
                 f"{out}×{out} out{note}\n{formula}", fontsize=10)
    return fig
