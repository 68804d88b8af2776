"""The conv arithmetic explorer: slide size, kernel, stride, padding, dilation; see the windows.

The widget holds no maths: sizes and formulas come from :mod:`coursekit.arithmetic`, the
drawing from :func:`coursekit.viz.conv_grid`, and the "torch agrees" line runs the real
torch layer on a tiny input (:func:`coursekit.arithmetic.torch_output_size`).
"""
from __future__ import annotations

import html
import io

import ipywidgets as widgets

from coursekit.arithmetic import fit_problems, output_size, output_size_formula, torch_output_size
from coursekit.viz.conv_grid import conv_grid

__all__ = ["conv_explorer", "ConvExplorer"]

_AGREES = "<span style='color:#080'>✓ torch agrees</span>"
_DISAGREES = "<span style='color:#c00'>✗ torch disagrees</span>"



def _torch_call(s: dict) -> str:
    if s["pooling"]:
        return (f"nn.MaxPool2d({s['kernel_size']}, stride={s['stride']}, padding={s['padding']}, "
                f"dilation={s['dilation']}, ceil_mode={s['ceil_mode']})")
    if s["transposed"]:
        return (f"nn.ConvTranspose2d(1, 1, {s['kernel_size']}, stride={s['stride']}, "
                f"padding={s['padding']}, output_padding={s['output_padding']}, "
                f"dilation={s['dilation']})")
    return (f"nn.Conv2d(1, 1, {s['kernel_size']}, stride={s['stride']}, padding={s['padding']}, "
            f"dilation={s['dilation']})")


class ConvExplorer(widgets.VBox):
    """Controls (``size``, ``kernel_size``, ``stride``, ``padding``, ``dilation``,
    ``transposed``, ``output_padding``, ``pooling``, ``ceil_mode``), the output size
    (``output_size_html``, CSS class ``ck-output-size``), whether the windows fit
    (``fit_html``, class ``ck-fit``), the torch check (``torch_html``)
    and the drawing (``image``, a PNG). ``output_size`` holds the last size (None if invalid).
    CSS classes for browser tests: ``ck-explorer ck-conv-explorer`` (the whole explorer),
    ``ck-stride`` (the stride slider).
    """

    def __init__(self, size=7, kernel_size=3, stride=1, padding=0, dilation=1,
                 transposed=False, pooling=False, ceil_mode=False, output_padding=0,
                 draw: bool = True):
        style = {"description_width": "initial"}

        def slider(value, lo, hi, description):
            return widgets.IntSlider(value=value, min=lo, max=hi, description=description,
                                     continuous_update=False, style=style)

        self.size = slider(size, 1, 20, "input size")
        self.kernel_size = slider(kernel_size, 1, 7, "kernel")
        self.stride = slider(stride, 1, 4, "stride")
        self.stride.add_class("ck-stride")
        self.padding = slider(padding, 0, 4, "padding")
        self.dilation = slider(dilation, 1, 3, "dilation")
        self.transposed = widgets.Checkbox(value=transposed, description="transposed")
        self.output_padding = slider(output_padding, 0, 3, "output_padding")
        self.pooling = widgets.Checkbox(value=pooling, description="max pooling")
        self.ceil_mode = widgets.Checkbox(value=ceil_mode, description="ceil_mode")
        self.output_size_html = widgets.HTML()
        self.output_size_html.add_class("ck-output-size")
        self.fit_html = widgets.HTML()
        self.fit_html.add_class("ck-fit")
        self.torch_html = widgets.HTML()
        # natural size: a VBox would stretch (and blur) the drawing to the full width
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.draw = draw
        self.output_size: int | None = None
        self.controls = [self.size, self.kernel_size, self.stride, self.padding, self.dilation,
                         self.transposed, self.output_padding, self.pooling, self.ceil_mode]
        for c in self.controls:
            c.observe(self._changed, names="value")
        super().__init__([
            widgets.HBox([widgets.VBox(self.controls[:5]),
                          widgets.VBox(self.controls[5:])]),
            self.output_size_html, self.fit_html, self.torch_html, self.image])
        self.add_class("ck-explorer")
        self.add_class("ck-conv-explorer")
        self.update()

    def settings(self) -> dict:
        """The current settings as keyword arguments of the arithmetic functions."""
        return dict(size=self.size.value, kernel_size=self.kernel_size.value,
                    stride=self.stride.value, padding=self.padding.value,
                    dilation=self.dilation.value, transposed=self.transposed.value,
                    output_padding=self.output_padding.value, pooling=self.pooling.value,
                    ceil_mode=self.ceil_mode.value)

    def _changed(self, change):
        # transposed convolution and pooling exclude each other
        if change["new"] is True and change["owner"] is self.transposed:
            self.pooling.value = False
        elif change["new"] is True and change["owner"] is self.pooling:
            self.transposed.value = False
        self.update()

    def update(self):
        """Recompute the output size, the torch check and the drawing."""
        s = self.settings()
        self.output_padding.disabled = not s["transposed"]
        self.ceil_mode.disabled = not s["pooling"]
        args = (s["size"], s["kernel_size"], s["stride"], s["padding"], s["dilation"])
        kw = dict(transposed=s["transposed"], output_padding=s["output_padding"],
                  pooling=s["pooling"], ceil_mode=s["ceil_mode"])
        try:
            ours, formula, error = output_size(*args, **kw), output_size_formula(*args, **kw), None
        except ValueError as err:
            ours, error = None, str(err)
        self.output_size = ours
        if error is None:
            self.output_size_html.value = (
                f"<b>output size: {ours}</b> ({ours}×{ours}) &nbsp; "
                f"<code>{html.escape(formula)}</code>")
        else:
            self.output_size_html.value = (
                "<b>output size: none</b> &nbsp; <span style='color:#c00'>"
                f"ValueError: {html.escape(error)}</span>")
        self.fit_html.value = self._fit_note(s, args) if error is None else ""
        self.torch_html.value = self._torch_check(s, args, kw, ours)
        if self.draw:
            self.image.value = self._png(args, kw) if error is None else b""

    @staticmethod
    def _fit_note(s, args) -> str:
        """For a convolution: whether the windows fit (``fit_problems``), else nothing."""
        if s["transposed"] or s["pooling"]:
            return ""
        problems = fit_problems(*args)
        if not problems:
            return ("<span style='color:#080'>✓ fits: the windows tile the padded input, "
                    "read every pixel and never see only padding</span>")
        return ("<span style='color:#b60'>⚠ does not fit: "
                + html.escape("; ".join(problems)) + "</span>")

    def _torch_check(self, s, args, kw, ours) -> str:
        call = html.escape(_torch_call(s))
        try:
            theirs = torch_output_size(*args, **kw)
        except ImportError:  # the NumPy half runs without torch (pip install coursekit)
            return f"no check against torch: torch is not installed here (<code>{call}</code>)"
        except RuntimeError as err:
            first = html.escape(str(err).splitlines()[0])
            if ours is None:
                return f"{_AGREES}: <code>{call}</code> refuses too ({first})"
            return f"{_DISAGREES}: <code>{call}</code> refuses ({first})"
        shape = f"(1, 1, {theirs}, {theirs})"
        if theirs == ours:
            return f"{_AGREES}: <code>{call}</code> gives {shape}"
        return f"{_DISAGREES}: <code>{call}</code> gives {shape}"

    @staticmethod
    def _png(args, kw) -> bytes:
        fig = conv_grid(*args, **kw, new_figure=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
        return buf.getvalue()


def conv_explorer(size=7, kernel_size=3, stride=1, padding=0, dilation=1, transposed=False,
                  pooling=False, ceil_mode=False, output_padding=0) -> ConvExplorer:
    """The conv arithmetic explorer (an ipywidgets ``VBox``): display it in a notebook.

    Defaults: a 7x7 input and a 3x3 kernel, stride 1 -> "output size: 5".
    """
    return ConvExplorer(size, kernel_size, stride, padding, dilation, transposed, pooling,
                        ceil_mode, output_padding)
