"""The layer-stack builder: add conv / pool / fc layers and watch shapes and counts grow.

The widget holds no maths: every shape, parameter and multiply-accumulate count comes from
:func:`coursekit.arithmetic.stack_summary`.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from coursekit.arithmetic import stack_summary

__all__ = ["layer_stack", "LayerStackBuilder"]


class LayerStackBuilder(widgets.VBox):
    """Input shape controls, a layer form (``kind``, ``channels``, ``kernel_size``,
    ``stride``, ``padding``), buttons ``add_button`` / ``remove_button`` / ``clear_button``,
    and the table (``table_html``). ``layers`` is the list of layer specs,
    ``summary`` the last :class:`coursekit.arithmetic.Summary` (None if invalid).
    CSS classes for browser tests: ``ck-explorer ck-layer-stack``, ``ck-in-size`` (input
    height = width), ``ck-stack-table`` (the table)."""

    def __init__(self, input_shape=(3, 32, 32), layers=()):
        style = {"description_width": "initial"}
        c, h, _ = input_shape
        self.in_channels = widgets.BoundedIntText(value=c, min=1, max=4096,
                                                  description="input channels", style=style)
        self.in_size = widgets.BoundedIntText(value=h, min=1, max=1024,
                                              description="input height = width", style=style)
        self.kind = widgets.ToggleButtons(options=["conv", "relu", "pool", "fc"], value="conv",
                                          description="layer", style=style)
        self.channels = widgets.BoundedIntText(value=10, min=1, max=100_000,
                                               description="out channels / features",
                                               style=style)
        self.kernel_size = widgets.IntSlider(value=3, min=1, max=11, description="kernel",
                                             style=style)
        self.stride = widgets.IntSlider(value=1, min=1, max=4, description="stride",
                                        style=style)
        self.padding = widgets.IntSlider(value=1, min=0, max=5, description="padding",
                                         style=style)
        self.add_button = widgets.Button(description="add layer", button_style="primary")
        self.remove_button = widgets.Button(description="remove last")
        self.clear_button = widgets.Button(description="clear")
        self.message = widgets.HTML()
        self.table_html = widgets.HTML()
        self.layers: list[tuple] = []
        self.summary = None
        self.add_button.on_click(lambda _: self.add(*self.form_layer()))
        self.remove_button.on_click(lambda _: self.remove_last())
        self.clear_button.on_click(lambda _: self.clear())
        for w in (self.in_channels, self.in_size):
            w.observe(lambda _: self.update(), names="value")
        self.kind.observe(lambda _: self._form_state(), names="value")
        super().__init__([
            widgets.HBox([self.in_channels, self.in_size]), self.kind,
            widgets.HBox([self.channels, self.kernel_size]),
            widgets.HBox([self.stride, self.padding]),
            widgets.HBox([self.add_button, self.remove_button, self.clear_button]),
            self.message, self.table_html])
        for w, css in ((self, "ck-explorer"), (self, "ck-layer-stack"),
                       (self.in_size, "ck-in-size"), (self.table_html, "ck-stack-table")):
            w.add_class(css)
        self._form_state()
        for layer in layers:
            self.add(*layer)
        self.update()

    @property
    def input_shape(self) -> tuple:
        return (self.in_channels.value, self.in_size.value, self.in_size.value)

    def _form_state(self):
        kind = self.kind.value
        self.channels.disabled = kind not in ("conv", "fc")
        self.kernel_size.disabled = kind not in ("conv", "pool")
        self.stride.disabled = kind not in ("conv", "pool")
        self.padding.disabled = kind != "conv"
        if kind == "pool" and self.kernel_size.value == 3 and self.stride.value == 1:
            self.kernel_size.value, self.stride.value = 2, 2

    def form_layer(self) -> tuple:
        """The layer spec the form describes, e.g. ``("conv", 10, 3, 1, 1)``."""
        kind = self.kind.value
        if kind == "conv":
            return ("conv", self.channels.value, self.kernel_size.value, self.stride.value,
                    self.padding.value)
        if kind == "pool":
            return ("pool", self.kernel_size.value, self.stride.value)
        if kind == "fc":
            return ("fc", self.channels.value)
        return ("relu",)

    def add(self, *layer) -> bool:
        """Append a layer (e.g. ``add("conv", 10, 3, 1, 1)``) if it fits the current output;
        otherwise leave the stack unchanged and show why. Returns whether it was added."""
        try:
            stack_summary(self.input_shape, [*self.layers, tuple(layer)])
        except ValueError as err:
            self.message.value = (f"<span style='color:#c00'>cannot add {html.escape(str(layer))}"
                                  f": {html.escape(str(err))}</span>")
            return False
        self.layers.append(tuple(layer))
        self.message.value = ""
        self.update()
        return True

    def remove_last(self):
        if self.layers:
            self.layers.pop()
        self.message.value = ""
        self.update()

    def clear(self):
        self.layers.clear()
        self.message.value = ""
        self.update()

    def update(self):
        """Recompute the table for the current input and layers."""
        try:
            self.summary = stack_summary(self.input_shape, self.layers)
        except ValueError as err:
            self.summary = None
            self.table_html.value = (f"<span style='color:#c00'>{html.escape(str(err))} "
                                     "(change the input or remove layers)</span>")
            return
        self.table_html.value = self.summary._repr_html_()


def layer_stack(input_shape=(3, 32, 32), layers=()) -> LayerStackBuilder:
    """The layer-stack builder widget, optionally pre-filled with ``layers`` such as
    ``[("conv", 10, 3, 1, 1), ("relu",), ("pool", 2), ("fc", 10)]``."""
    return LayerStackBuilder(input_shape, layers)
