"""Convolution arithmetic: output sizes, parameter counts, receptive fields, model summaries.

Layer 0 (pure Python): nothing here imports torch at import time; only :func:`summary`
imports it, lazily, because it runs a real ``torch.nn.Module``.

All sizes are along ONE spatial side (a 32x32 image has ``size=32``); the rules match
what ``torch.nn.Conv2d``, ``MaxPool2d`` and ``ConvTranspose2d`` actually produce, and the
tests sweep them against torch.

>>> conv_output_size(32, 5)                  # 32x32 input, 5x5 filter
28
>>> conv_output_size(227, 11, stride=4)      # AlexNet conv1
55
>>> pool_output_size(5, 2, ceil_mode=True)
3
>>> conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1)
6
"""
from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Sequence

__all__ = [
    "conv_output_size", "pool_output_size", "conv_transpose_output_size",
    "conv_params", "linear_params", "count_parameters", "receptive_field", "ReceptiveField",
    "summary", "stack_summary", "Summary", "LayerRow",
    "output_size", "torch_output_size", "output_size_formula", "window_taps", "read_counts",
    "fit_problems", "same_padding", "padding_pixels",
]


# --------------------------------------------------------------------------- checks
def _int(name: str, value, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__}); "
            f"sizes are counted in whole pixels, e.g. {name}=3"
        )
    value = int(value)
    if value < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value}")
    return value


def _effective_kernel(kernel_size: int, dilation: int) -> int:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1`` pixels."""
    return dilation * (kernel_size - 1) + 1


# --------------------------------------------------------------------------- sizes
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1, strict=False) -> int:
    """Output size along one side of a convolution (``torch.nn.Conv2d``'s rule).

    ``out = floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``.

    ``padding`` is an int, ``"valid"`` (no padding) or ``"same"`` (output size equals
    ``size``; torch allows it only with ``stride=1``). With ``strict=True`` the windows must
    fit (see :func:`fit_problems`): tile the padded input exactly (no pixels left over at the
    right/bottom), skip no pixel between windows (stride > kernel) and never see only
    padding; otherwise a ``ValueError`` says why and which paddings, strides and input sizes
    would fit. Without it the size is floored like torch does (leftover pixels are ignored).
    """
    size = _int("size", size, 1)
    kernel_size = _int("kernel_size", kernel_size, 1)
    stride = _int("stride", stride, 1)
    dilation = _int("dilation", dilation, 1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            padding = 0
        elif mode == "same":
            if stride != 1:
                raise ValueError(
                    f"padding='same' needs stride=1 (got stride={stride}): with a stride the "
                    "output cannot keep the input size; torch refuses it (TensorFlow/Keras "
                    "instead pad unevenly to get ceil(size/stride) outputs). Use an integer "
                    f"padding, e.g. padding={dilation * (kernel_size - 1) // 2}"
                )
            return size
        else:
            raise ValueError(f"padding must be an integer, 'same' or 'valid', got {padding!r}")
    padding = _int("padding", padding, 0)
    span = _effective_kernel(kernel_size, dilation)
    padded = size + 2 * padding
    if span > padded:
        dil = f" (dilated to {span} by dilation={dilation})" if dilation > 1 else ""
        raise ValueError(
            f"kernel_size={kernel_size}{dil} is larger than the padded input "
            f"({size} + 2*{padding} = {padded}); use a smaller kernel_size or more padding"
        )
    if strict and fit_problems(size, kernel_size, stride, padding, dilation):
        raise ValueError(_no_fit_message(size, kernel_size, stride, padding, dilation))
    return (padded - span) // stride + 1


def read_counts(size, kernel_size, stride=1, padding=0, dilation=1) -> list[int]:
    """How many windows of a convolution read each input pixel, along one side.

    Returns a list of ``size`` counts (padding excluded). A count of 0 marks a pixel no
    window reads (left over at the end, or skipped between windows when the stride exceeds
    the kernel); in the middle of a stride-1 layer every pixel is read ``kernel_size`` times,
    at the border fewer. For a square input the 2-D counts are the outer product.

    >>> read_counts(5, 3)
    [1, 2, 3, 2, 1]
    """
    return _counts(window_taps(size, kernel_size, stride, padding, dilation), size)


def _counts(taps, size: int) -> list[int]:
    counts = [0] * size
    for window in taps:
        for t in window:
            if 0 <= t < size:
                counts[t] += 1
    return counts


def fit_problems(size, kernel_size, stride=1, padding=0, dilation=1) -> list[str]:
    """Why a convolution's windows do not fit one side of the input; ``[]`` when they do.

    Three problems are reported (each as a sentence):

    - the windows do not tile the padded input: the last pixels at the right/bottom are
      never seen (torch floors the output size silently);
    - pixels are *skipped* between windows (stride larger than the kernel, or a dilated
      kernel whose taps and stride leave gaps);
    - windows see *only padding* (padding >= the kernel span): their outputs are constants.

    ``conv_output_size(..., strict=True)`` raises with these sentences and what would fit.
    """
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    padding = padding_pixels(padding, kernel_size, dilation)
    span = _effective_kernel(kernel_size, dilation)
    padded = size + 2 * padding
    problems = []
    left_over = (padded - span) % stride
    if left_over:
        exact = (padded - span) / stride + 1
        problems.append(
            f"stride={stride} does not fit: the windows cover (size + 2*padding - "
            f"effective_kernel)/stride + 1 = ({size} + 2*{padding} - {span})/{stride} + 1 = "
            f"{exact:.4g} positions, not a whole number, so the last {left_over} pixel(s) at "
            "the right/bottom of the padded input would never be seen by a window")
    taps = window_taps(size, kernel_size, stride, padding, dilation)
    last = max(t for window in taps for t in window)
    counts = _counts(taps, size)
    skipped = [i for i, c in enumerate(counts) if c == 0 and i < last]
    if skipped:
        why = (f"stride={stride} is larger than the kernel ({span} pixels)" if stride > span
               else f"the dilated taps (dilation={dilation}) and stride={stride} leave gaps")
        shown = ", ".join(map(str, skipped[:6])) + (", ..." if len(skipped) > 6 else "")
        problems.append(f"{len(skipped)} pixel(s) are skipped between windows ({shown}): "
                        f"{why}, so no window reads them")
    blind = [o for o, window in enumerate(taps) if all(t < 0 or t >= size for t in window)]
    if blind:
        problems.append(
            f"{len(blind)} of the {out} windows see only padding (output position(s) "
            f"{', '.join(map(str, blind[:6]))}): padding={padding} reaches a whole kernel "
            f"span ({span} pixels) past the input, so those outputs are constants (the bias)")
    return problems


def _fits(size, kernel_size, stride, padding, dilation) -> bool:
    """True when the settings are valid and :func:`fit_problems` finds nothing."""
    try:
        return not fit_problems(size, kernel_size, stride, padding, dilation)
    except ValueError:
        return False


def _no_fit_message(size, kernel_size, stride, padding, dilation) -> str:
    """Why the windows do not fit the input, and which paddings/strides/sizes would."""
    span = _effective_kernel(kernel_size, dilation)
    msg = "; ".join(fit_problems(size, kernel_size, stride, padding, dilation)) + ". "
    paddings = [p for p in range(0, span) if _fits(size, kernel_size, stride, p, dilation)]
    strides = [s for s in range(1, span + 1) if _fits(size, kernel_size, s, padding, dilation)]
    if paddings:
        msg += f"Paddings that fit with stride={stride}: {', '.join(map(str, paddings))}. "
    else:
        msg += f"No padding fits with stride={stride}"
        if stride % 2 == 0 and (size - span) % 2:
            msg += " (2*padding is even, the gap is odd)"
        msg += ". "
    if strides:
        msg += f"Strides that fit with padding={padding}: {', '.join(map(str, strides))}. "
    else:
        msg += f"No stride fits with padding={padding}. "
    below = [n for n in range(size - 1, max(0, size - 2 * span * stride), -1)
             if _fits(n, kernel_size, stride, padding, dilation)][:1]
    above = [n for n in range(size + 1, size + 2 * span * stride + 1)
             if _fits(n, kernel_size, stride, padding, dilation)][:1]
    if below or above:
        msg += f"Input sizes that fit these settings: {' or '.join(map(str, below + above))}."
    else:
        msg += "No input size fits these settings: change the padding, stride or dilation."
    return msg


def padding_pixels(padding, kernel_size, dilation=1) -> int:
    """The padding (pixels per side) of a stride-1 convolution given as an int, ``"valid"``
    (0) or ``"same"`` (``dilation * (kernel_size - 1) // 2``, as torch pads it)."""
    if not isinstance(padding, str):
        return padding
    return dilation * (kernel_size - 1) // 2 if padding.lower() == "same" else 0


def same_padding(size, kernel_size, stride=1, dilation=1) -> tuple[int, int]:
    """``(before, after)`` padding of TensorFlow/Keras ``padding="same"``, for any stride.

    Keras outputs ``ceil(size / stride)`` positions and pads the total that needs,
    ``max((out - 1)*stride + span - size, 0)``, putting the odd pixel after (right/bottom).
    torch accepts ``padding="same"`` only with stride 1, where this is symmetric for odd
    kernels; with a stride the two sides often differ, which one ``padding`` int cannot say.

    >>> same_padding(8, 3, stride=2)      # 4 outputs; one extra pixel on the right
    (0, 1)
    """
    size = _int("size", size, 1)
    kernel_size = _int("kernel_size", kernel_size, 1)
    stride = _int("stride", stride, 1)
    dilation = _int("dilation", dilation, 1)
    out = -(-size // stride)
    total = max((out - 1) * stride + _effective_kernel(kernel_size, dilation) - size, 0)
    return total // 2, total - total // 2


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1,
                     ceil_mode=False) -> int:
    """Output size along one side of a pooling layer (``torch.nn.MaxPool2d``'s rule).

    ``stride`` defaults to ``kernel_size``. ``padding`` may be at most ``kernel_size // 2``
    (torch's limit). With ``ceil_mode=True`` the division rounds up, so a partial window at
    the end is kept, except that a window starting inside the right padding is dropped.
    """
    size = _int("size", size, 1)
    kernel_size = _int("kernel_size", kernel_size, 1)
    stride = kernel_size if stride is None else _int("stride", stride, 1)
    padding = _int("padding", padding, 0)
    dilation = _int("dilation", dilation, 1)
    if not isinstance(ceil_mode, bool):
        raise ValueError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    if padding > kernel_size // 2:
        raise ValueError(
            f"padding={padding} is too large for kernel_size={kernel_size}: pooling padding "
            f"must be at most kernel_size // 2 = {kernel_size // 2} (torch's rule)"
        )
    span = _effective_kernel(kernel_size, dilation)
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the right padding: dropped
    if out < 1:
        raise ValueError(
            f"kernel_size={kernel_size} (span {span} with dilation={dilation}) is larger than "
            f"the padded input ({size} + 2*{padding} = {size + 2 * padding}); "
            "use a smaller kernel_size or dilation"
        )
    return out


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1) -> int:
    """Output size along one side of a transposed convolution (``ConvTranspose2d``).

    ``out = (size-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1``.
    ``output_padding`` (extra pixels on one side, to pick among the input sizes a strided
    convolution maps to the same output) must be smaller than ``stride`` or ``dilation``.
    A padding that crops the whole output away raises ``ValueError``.
    """
    size = _int("size", size, 1)
    kernel_size = _int("kernel_size", kernel_size, 1)
    stride = _int("stride", stride, 1)
    padding = _int("padding", padding, 0)
    output_padding = _int("output_padding", output_padding, 0)
    dilation = _int("dilation", dilation, 1)
    if not (output_padding < stride or output_padding < dilation):
        raise ValueError(
            f"output_padding={output_padding} is too large: it must be smaller than stride "
            f"({stride}) or dilation ({dilation}); use output_padding <= "
            f"{max(stride, dilation) - 1}"
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:  # ConvTranspose1d refuses 0 too (2d returns an empty tensor; we refuse)
        most = ((size - 1) * stride + dilation * (kernel_size - 1) + output_padding) // 2
        raise ValueError(f"padding={padding} crops away the whole output ({out} pixels left); "
                         f"use padding <= {most}")
    return out


def output_size(size, kernel_size, stride=1, padding=0, dilation=1, *, transposed=False,
                output_padding=0, pooling=False, ceil_mode=False) -> int:
    """Output size along one side of a convolution, a pooling (``pooling=True``, stride
    defaults to the kernel) or a transposed convolution (``transposed=True``): the one entry
    point the widgets and plots call; raises like :func:`conv_output_size`."""
    if transposed:
        return conv_transpose_output_size(size, kernel_size, stride, padding, output_padding,
                                          dilation)
    if pooling:
        return pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    return conv_output_size(size, kernel_size, stride, padding, dilation)


def torch_output_size(size, kernel_size, stride=1, padding=0, dilation=1, *,
                      transposed=False, output_padding=0, pooling=False, ceil_mode=False):
    """The output side torch itself produces for a ``1x1xsize x size`` input: the check of
    :func:`output_size` (imports torch lazily; raises torch's ``RuntimeError`` when torch
    refuses the settings)."""
    import torch
    import torch.nn.functional as F

    x = torch.zeros(1, 1, size, size)
    if pooling:
        y = F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
    elif transposed:
        y = F.conv_transpose2d(x, torch.zeros(1, 1, kernel_size, kernel_size), stride=stride,
                               padding=padding, output_padding=output_padding,
                               dilation=dilation)
    else:
        y = F.conv2d(x, torch.zeros(1, 1, kernel_size, kernel_size), stride=stride,
                     padding=padding, dilation=dilation)
    return int(y.shape[-1])


def output_size_formula(size, kernel_size, stride=1, padding=0, dilation=1, *,
                        transposed=False, output_padding=0, pooling=False,
                        ceil_mode=False) -> str:
    """The output-size formula with the numbers filled in, e.g.
    ``'⌊(7 + 2·0 − 1·(3−1) − 1) / 2⌋ + 1 = 3'``; raises like the size functions."""
    n, k, s, p, d = size, kernel_size, stride, padding, dilation
    out = output_size(n, k, s, p, d, transposed=transposed, output_padding=output_padding,
                      pooling=pooling, ceil_mode=ceil_mode)
    if transposed:
        return f"({n}−1)·{s} − 2·{p} + {d}·({k}−1) + {output_padding} + 1 = {out}"
    if pooling:
        s = k if s is None else s
        lo, hi = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
        text = f"{lo}({n} + 2·{p} − {d}·({k}−1) − 1) / {s}{hi} + 1 = {out}"
        raw = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
        if ceil_mode and raw != out:
            text += f" (the window starting in the right padding is dropped: {raw} → {out})"
        return text
    if isinstance(p, str):
        return f"padding='{p}': output = input = {out}" if p.lower() == "same" else \
            f"⌊({n} − {d}·({k}−1) − 1) / {s}⌋ + 1 = {out}"
    return f"⌊({n} + 2·{p} − {d}·({k}−1) − 1) / {s}⌋ + 1 = {out}"


def window_taps(size, kernel_size, stride=1, padding=0, dilation=1, *, transposed=False,
                output_padding=0, pooling=False, ceil_mode=False) -> list[list[int]]:
    """The pixels each window touches, along one side.

    For a convolution or pooling: one list per output position, holding the input indices
    its (dilated) kernel taps; indices < 0 or >= ``size`` fall in the padding.
    For a transposed convolution: one list per INPUT position, holding the indices of the
    uncropped output canvas it writes to (length ``(size-1)*stride + dilation*(kernel_size-1)
    + 1 + output_padding``; the first and last ``padding`` of it are cropped away).
    """
    if transposed:
        conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
        return [[i * stride + j * dilation for j in range(kernel_size)] for i in range(size)]
    if pooling:
        n_out = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
        stride = kernel_size if stride is None else stride
    else:
        n_out = conv_output_size(size, kernel_size, stride, padding, dilation)
        padding = padding_pixels(padding, kernel_size, dilation)
    return [[o * stride - padding + j * dilation for j in range(kernel_size)]
            for o in range(n_out)]


# --------------------------------------------------------------------------- counts
def _kernel_volume(kernel_size) -> int:
    if isinstance(kernel_size, (tuple, list)):
        if not kernel_size:
            raise ValueError("kernel_size must not be empty, e.g. kernel_size=(3, 3)")
        return math.prod(_int("kernel_size", k, 1) for k in kernel_size)
    return _int("kernel_size", kernel_size, 1) ** 2


def conv_params(in_channels, out_channels, kernel_size, bias=True, groups=1) -> int:
    """Learnable parameters of a 2D convolution (``torch.nn.Conv2d``).

    ``out_channels * (in_channels / groups) * kh * kw`` weights, plus ``out_channels``
    biases. ``kernel_size`` is an int (square kernel) or a tuple such as ``(1, 7)`` (any
    length: ``(3,)`` for Conv1d, ``(3, 3, 3)`` for Conv3d).
    """
    in_channels = _int("in_channels", in_channels, 1)
    out_channels = _int("out_channels", out_channels, 1)
    groups = _int("groups", groups, 1)
    volume = _kernel_volume(kernel_size)
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups:
            raise ValueError(f"{name}={value} must be divisible by groups={groups}")
    return out_channels * (in_channels // groups) * volume + (out_channels if bias else 0)


def linear_params(in_features, out_features, bias=True) -> int:
    """Learnable parameters of a fully connected layer: ``in*out`` weights + ``out`` biases."""
    in_features = _int("in_features", in_features, 1)
    out_features = _int("out_features", out_features, 1)
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    return in_features * out_features + (out_features if bias else 0)


def count_parameters(model) -> int:
    """Number of trainable parameters of a model, NumPy or torch: the one parameter count.

    A NumPy module of :mod:`coursekit.nn` (a ``params`` dict name -> array): the sum of the
    arrays' sizes. A ``torch.nn.Module``: the parameters with ``requires_grad`` (weights and
    biases; BN running statistics and frozen parameters excluded). Needs no torch import.
    """
    params = getattr(model, "params", None)
    if isinstance(params, dict):
        return int(sum(getattr(v, "size", 0) for v in params.values()))
    if callable(getattr(model, "parameters", None)):
        return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    raise TypeError("model must be a coursekit.nn module (with a params dict) or a "
                    f"torch.nn.Module, got {type(model).__name__}")


class ReceptiveField(NamedTuple):
    """Receptive field of one output pixel: ``size`` input pixels wide, and ``jump`` input
    pixels between neighbouring output pixels (the effective stride)."""

    size: int
    jump: int


def receptive_field(layers: Iterable[Sequence[int]]) -> ReceptiveField:
    """Receptive field of a stack of layers, each ``(kernel, stride, dilation)`` (stride and
    dilation may be left out: ``(3,)`` or ``(2, 2)``). Padding does not change it.

    Each layer grows the field by ``dilation*(kernel-1)`` times the jump so far, then
    multiplies the jump by its stride. Three 3x3 stride-1 convs see 7x7 pixels:

    >>> receptive_field([(3, 1, 1)] * 3)
    ReceptiveField(size=7, jump=1)
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
        raise ValueError(f"layers must be a list of (kernel, stride, dilation), got {layers!r}")
    size, jump = 1, 1
    for i, layer in enumerate(layers):
        if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
            layer = (layer,)
        if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 3:
            raise ValueError(
                f"layers[{i}] must be (kernel, stride, dilation), got {layer!r}")
        k = _int(f"layers[{i}] kernel", layer[0], 1)
        s = _int(f"layers[{i}] stride", layer[1], 1) if len(layer) > 1 else 1
        d = _int(f"layers[{i}] dilation", layer[2], 1) if len(layer) > 2 else 1
        size += d * (k - 1) * jump
        jump *= s
    return ReceptiveField(size, jump)


# --------------------------------------------------------------------------- summaries
class LayerRow(NamedTuple):
    """One layer of a :class:`Summary`: ``output_shape`` excludes the batch dimension;
    ``macs`` counts multiply-accumulates for one example."""

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int


def _fmt_shape(shape) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_fmt_shape(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _human(n: int) -> str:
    """12_345_678 -> '12.3 M' (k, M, G)."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g} {unit}"
    return str(n)


@dataclass
class Summary:
    """A model's layers (``rows``) and ``totals`` (``params``, ``trainable``, ``macs``).

    Prints as a text table and shows as an HTML table in a notebook.
    """

    rows: list[LayerRow]
    input_size: tuple
    total_params: int
    trainable_params: int
    total_macs: int = field(default=0)

    @property
    def totals(self) -> dict:
        return {"params": self.total_params, "trainable": self.trainable_params,
                "macs": self.total_macs}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def _table(self) -> list[list[str]]:
        return [[r.name, r.type, _fmt_shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}"]
                for r in self.rows]

    def __str__(self) -> str:
        head = ["layer", "type", "output shape", "parameters", "MACs"]
        body = self._table()
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        right = {3, 4}

        def line(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "-" * len(line(head))
        out = [f"input: {_fmt_shape(self.input_size)}", line(head), rule]
        out += [line(r) for r in body]
        out += [rule, f"total parameters: {self.total_params:,} "
                      f"(trainable {self.trainable_params:,})",
                f"total multiply-accumulates: {self.total_macs:,} "
                f"({_human(self.total_macs)})"]
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"Summary({len(self.rows)} layers, params={self.total_params:,}, "
                f"macs={self.total_macs:,})")

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:{a}'>{h}</th>" for h, a in
                       zip(["layer", "type", "output shape", "parameters", "MACs"],
                           ["left", "left", "left", "right", "right"]))
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:{'right' if i > 2 else 'left'}'>"
                             f"{esc(c)}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in self._table())
        foot = (f"<tr><th colspan=3 style='text-align:left'>total</th>"
                f"<th style='text-align:right'>{self.total_params:,}</th>"
                f"<th style='text-align:right'>{self.total_macs:,}</th></tr>")
        return (f"<div class='ck-summary'><p>input: {esc(_fmt_shape(self.input_size))} · "
                f"trainable parameters: {self.trainable_params:,} · "
                f"{_human(self.total_macs)} multiply-accumulates per example</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table></div>")


def _macs(module, inputs, output) -> int:
    """Multiply-accumulates of one call, per example (conv, transposed conv, linear only)."""
    import torch.nn as nn

    if not hasattr(output, "shape") or output.dim() == 0:
        return 0
    batch = output.shape[0] if output.dim() > 1 else 1
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = math.prod(module.kernel_size)
        per_out = module.in_channels // module.groups * kernel
        if module.transposed:
            x = inputs[0]
            return x.numel() // batch * (module.out_channels // module.groups) * kernel
        return output.numel() // batch * per_out
    if isinstance(module, nn.Linear):
        return output.numel() // batch * module.in_features
    if isinstance(module, nn.Bilinear):
        return output.numel() // batch * module.in1_features * module.in2_features
    return 0


def _shape_of(output) -> tuple:
    """Output shape without the batch dimension (a tuple of shapes for several outputs)."""
    if hasattr(output, "shape"):
        return tuple(output.shape[1:]) if output.dim() > 1 else tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return tuple(_shape_of(o) for o in output if hasattr(o, "shape"))
    if isinstance(output, dict):
        return tuple(_shape_of(o) for o in output.values() if hasattr(o, "shape"))
    return ()


def summary(model, input_size, batch_size: int = 1, device=None) -> Summary:
    """Run ``model`` once on zeros of shape ``(batch_size, *input_size)`` and tabulate its
    layers: name, type, output shape, parameters, multiply-accumulates (MACs).

    ``input_size`` is ONE example's shape without the batch dimension, e.g. ``(3, 224, 224)``
    (an int means ``(n,)`` for an MLP). The model runs in eval mode under ``torch.no_grad()``
    (batch-norm statistics are not touched) and its training flags are restored. Rows are the
    calls of leaf modules (and of modules owning parameters directly), in call order; a
    module's parameters are counted once even if it is called several times. MACs count
    convolutions, transposed convolutions and linear layers (the usual "FLOPs" of papers).
    Hooks are removed afterwards, even when the forward pass fails.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        input_size = (input_size,)
    if not isinstance(input_size, (tuple, list, torch.Size)) or not input_size:
        raise ValueError(
            f"input_size must be one example's shape without the batch dimension, "
            f"e.g. (3, 224, 224); got {input_size!r}")
    input_size = tuple(_int(f"input_size[{i}]", v, 1) for i, v in enumerate(input_size))
    batch_size = _int("batch_size", batch_size, 1)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")

    names = {m: n for n, m in model.named_modules()}
    rows: list[LayerRow] = []
    seen: set[int] = set()

    def hook(module, inputs, output):
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        rows.append(LayerRow(names.get(module, "?") or type(module).__name__,
                             type(module).__name__, _shape_of(output),
                             sum(p.numel() for p in own), _macs(module, inputs, output)))

    handles = []
    modes = {m: m.training for m in model.modules()}
    try:
        for m in model.modules():
            leaf = next(m.children(), None) is None
            if leaf or next(m.parameters(recurse=False), None) is not None:
                handles.append(m.register_forward_hook(hook))
        model.eval()
        x = torch.zeros((batch_size, *input_size), device=device)
        try:
            with torch.no_grad():
                model(x)
        except RuntimeError as err:
            raise ValueError(
                f"input_size={input_size}: the model's forward pass failed on a tensor of "
                f"shape {tuple(x.shape)} ({err}). Give one example's shape without the batch "
                "dimension, e.g. (3, 224, 224) for an RGB image") from err
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode

    params = list({id(p): p for p in model.parameters()}.values())
    return Summary(rows, input_size, sum(p.numel() for p in params),
                   sum(p.numel() for p in params if p.requires_grad),
                   sum(r.macs for r in rows))


def _spec(layer, i):
    """``(kind, args, kwargs)`` from ``("conv", 10, 3, 1, 1)`` or ``{"kind": "conv", ...}``."""
    if isinstance(layer, str):
        layer = (layer,)
    if isinstance(layer, dict):
        layer = dict(layer)
        kind = layer.pop("kind", None)
        return kind, (), layer
    if isinstance(layer, (tuple, list)) and layer and isinstance(layer[0], str):
        return layer[0], tuple(layer[1:]), {}
    raise ValueError(f"layers[{i}] must look like ('conv', out_channels, kernel_size, stride, "
                     f"padding), ('pool', kernel_size), ('fc', out_features) or ('relu',); "
                     f"got {layer!r}")


def stack_summary(input_shape, layers) -> Summary:
    """Shapes, parameters and MACs of a simple stack, without torch.

    ``input_shape`` is ``(channels, height, width)``; each layer is one of
    ``("conv", out_channels, kernel_size, stride=1, padding=0)``,
    ``("pool", kernel_size, stride=None)`` (max pooling), ``("relu",)`` and
    ``("fc", out_features)`` (flattens its input first), or the same as a dict with a
    ``"kind"`` key. Returns a :class:`Summary` like :func:`summary`.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3):
        raise ValueError(f"input_shape must be (channels, height, width) or (features,), "
                         f"got {input_shape!r}")
    shape = tuple(_int(f"input_shape[{i}]", v, 1) for i, v in enumerate(input_shape))
    start = shape
    rows: list[LayerRow] = []
    counts: dict[str, int] = {}
    for i, layer in enumerate(layers):
        kind, args, kw = _spec(layer, i)
        kind = (kind or "").lower()
        counts[kind] = counts.get(kind, 0) + 1
        name = f"{kind}{counts[kind]}"
        try:
            if kind == "conv":
                shape, params, macs, typ = _stack_conv(shape, *args, **kw)
            elif kind == "pool":
                if len(shape) != 3:
                    raise ValueError("pooling needs a (channels, height, width) input")
                c, h, w = shape
                shape = (c, pool_output_size(h, *args, **kw), pool_output_size(w, *args, **kw))
                params, macs, typ = 0, 0, "MaxPool2d"
            elif kind == "relu":
                params, macs, typ = 0, 0, "ReLU"
            elif kind in ("fc", "linear"):
                in_features = math.prod(shape)
                out_features = args[0] if args else kw.get("out_features")
                params = linear_params(in_features, out_features)
                shape, macs, typ = (out_features,), in_features * out_features, "Linear"
            else:
                raise ValueError(f"unknown layer kind {kind!r}; use 'conv', 'pool', "
                                 "'relu' or 'fc'")
        except TypeError as err:
            raise ValueError(f"layers[{i}] = {layer!r}: {err}") from err
        except ValueError as err:
            raise ValueError(f"layers[{i}] ({name}, input {_fmt_shape(shape)}): {err}") from err
        rows.append(LayerRow(name, typ, shape, params, macs))
    total = sum(r.params for r in rows)
    return Summary(rows, start, total, total, sum(r.macs for r in rows))


def _stack_conv(shape, out_channels, kernel_size, stride=1, padding=0):
    if len(shape) != 3:
        raise ValueError("a convolution needs a (channels, height, width) input")
    c, h, w = shape
    oh = conv_output_size(h, kernel_size, stride, padding)
    ow = conv_output_size(w, kernel_size, stride, padding)
    params = conv_params(c, out_channels, kernel_size)
    return (out_channels, oh, ow), params, out_channels * oh * ow * c * kernel_size ** 2, "Conv2d"
