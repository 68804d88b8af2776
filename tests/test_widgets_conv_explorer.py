"""The conv arithmetic explorer, the layer-stack builder and their plots."""
import re

import ipywidgets as widgets
import matplotlib
import pytest

from coursekit.arithmetic import (conv_output_size, conv_transpose_output_size,
                                  pool_output_size, stack_summary, summary)
from coursekit.viz import conv_grid, param_bars
from coursekit.widgets import conv_explorer, layer_stack
from coursekit.arithmetic import torch_output_size
from coursekit.widgets.conv_explorer import ConvExplorer

matplotlib.use("Agg")


def _text(w) -> str:
    return re.sub(r"<[^>]+>", "", w.value)


def _shown_size(explorer) -> int | None:
    m = re.search(r"output size: (\d+)", _text(explorer.output_size_html))
    return int(m.group(1)) if m else None


def _walk(w):
    yield w
    for child in getattr(w, "children", ()):
        yield from _walk(child)


@pytest.fixture(scope="module")
def explorer():
    return conv_explorer()


def test_explorer_browser_contract(explorer):
    assert isinstance(explorer, widgets.Box)
    strides = [w for w in _walk(explorer) if "ck-stride" in w._dom_classes]
    outputs = [w for w in _walk(explorer) if "ck-output-size" in w._dom_classes]
    assert len(strides) == 1 and len(outputs) == 1
    stride, out = strides[0], outputs[0]
    assert isinstance(stride, widgets.IntSlider) and stride.description == "stride"
    assert stride.min <= 1 and stride.max >= 4
    assert isinstance(out, widgets.HTML)
    assert "output size: 5" in _text(out)
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert _text(explorer.torch_html).startswith("✓ torch agrees")
    stride.value = 2
    assert "output size: 3" in _text(out)
    stride.value = 1
    assert "output size: 5" in _text(out)


def test_explorer_names_fit_problems():
    e = ConvExplorer(size=7, kernel_size=3, stride=3, draw=False)
    assert "does not fit" in _text(e.fit_html) and "2.333" in _text(e.fit_html)
    e.stride.value = 4                       # stride > kernel: pixel 3 skipped
    assert "skipped between windows" in _text(e.fit_html)
    e.stride.value, e.padding.value = 3, 4   # padding = kernel span: windows of zeros
    assert "see only padding" in _text(e.fit_html)
    e.padding.value = 1
    assert _text(e.fit_html).startswith("✓ fits")
    e.pooling.value = True                   # the note is for convolutions only
    assert _text(e.fit_html) == ""


@pytest.mark.parametrize("settings, expected", [
    (dict(size=7, kernel_size=3, stride=3), conv_output_size(7, 3, 3)),
    (dict(size=20, kernel_size=5, stride=2, padding=2, dilation=2),
     conv_output_size(20, 5, 2, 2, 2)),
    (dict(size=5, kernel_size=3, stride=2, padding=1, transposed=True, output_padding=1),
     conv_transpose_output_size(5, 3, 2, 1, 1)),
    (dict(size=5, kernel_size=2, stride=2, padding=1, pooling=True, ceil_mode=True),
     pool_output_size(5, 2, 2, 1, ceil_mode=True)),
    (dict(size=5, kernel_size=2, stride=2, padding=1, pooling=True), pool_output_size(5, 2, 2, 1)),
])
def test_explorer_settings_show_the_size_and_torch_agrees(explorer, settings, expected):
    explorer.transposed.value = explorer.pooling.value = explorer.ceil_mode.value = False
    defaults = dict(size=7, kernel_size=3, stride=1, padding=0, dilation=1, output_padding=0)
    for name, value in {**defaults, **settings}.items():
        getattr(explorer, name).value = value
    assert _shown_size(explorer) == expected == explorer.output_size
    assert f"= {expected}" in _text(explorer.output_size_html)  # the formula, filled in
    assert _text(explorer.torch_html).startswith("✓ torch agrees"), explorer.torch_html.value
    kw = {k: v for k, v in explorer.settings().items() if k != "size"}
    assert torch_output_size(explorer.size.value, **kw) == expected


def test_explorer_invalid_settings_say_so_and_torch_refuses_too():
    e = ConvExplorer(size=4, kernel_size=3, draw=False)
    e.dilation.value = 3
    text = _text(e.output_size_html)
    assert _shown_size(e) is None and "output size: none" in text and "kernel_size=3" in text
    assert _text(e.torch_html).startswith("✓ torch agrees")
    assert "refuses too" in e.torch_html.value
    e.dilation.value = 1
    e.transposed.value = True
    e.output_padding.value = 2
    assert "output_padding=2" in _text(e.output_size_html)
    assert "refuses too" in e.torch_html.value


def test_explorer_transposed_and_pooling_exclude_each_other():
    e = ConvExplorer(draw=False)
    assert e.output_padding.disabled and e.ceil_mode.disabled
    e.transposed.value = True
    assert not e.output_padding.disabled
    e.pooling.value = True
    assert e.transposed.value is False and not e.ceil_mode.disabled
    e.transposed.value = True
    assert e.pooling.value is False


def test_layer_stack_builds_shapes_and_counts():
    b = layer_stack((3, 16, 16), [("conv", 10, 3, 1, 1), ("relu",), ("pool", 2)])
    assert [r.output_shape for r in b.summary.rows] == [(10, 16, 16), (10, 16, 16), (10, 8, 8)]
    assert "(10, 8, 8)" in b.table_html.value and "280" in b.table_html.value
    b.kind.value = "fc"
    b.channels.value = 10
    b.add_button.click()
    assert b.layers[-1] == ("fc", 10)
    assert b.summary.rows[-1].params == 10 * 8 * 8 * 10 + 10
    assert b.summary.total_params == stack_summary((3, 16, 16), b.layers).total_params
    assert f"{b.summary.total_params:,}" in b.table_html.value
    assert not b.add("conv", 4, 3)  # a conv after fc does not fit: refused, explained
    assert len(b.layers) == 4 and "cannot add" in b.message.value
    b.remove_button.click()
    assert len(b.layers) == 3 and b.message.value == ""
    b.in_size.value = 32
    assert b.summary.rows[-1].output_shape == (10, 16, 16)
    b.kind.value = "conv"
    b.kernel_size.value, b.stride.value, b.padding.value, b.channels.value = 5, 2, 0, 4
    b.add_button.click()
    assert b.summary.rows[-1].output_shape == (4, conv_output_size(16, 5, 2), 6)
    b.clear_button.click()
    assert b.layers == [] and b.summary.rows == []


def test_layer_stack_input_change_that_breaks_the_stack_is_reported():
    b = layer_stack((3, 8, 8), [("conv", 4, 5)])
    b.in_size.value = 3
    assert b.summary is None and "kernel_size=5" in _text(b.table_html)


def test_conv_grid_draws_windows_and_formula():
    fig = conv_grid(7, 3, stride=3)
    ax = fig.axes[0]
    assert "⌊(7 + 2·0 − 1·(3−1) − 1) / 3⌋ + 1 = 2" in ax.get_title()
    assert "never read" in ax.get_title()
    faces = [p.get_facecolor() for p in ax.patches]
    red = matplotlib.colors.to_rgba("#f4a6a6")
    assert sum(f == red for f in faces) == 13  # last row and column of 7x7: 7 + 7 - 1
    assert "never" not in conv_grid(7, 3, stride=2).axes[0].get_title()
    assert conv_grid(3, 3, 2, 1, transposed=True, output_padding=1).axes[0].get_title() \
        .split("\n")[1].endswith("= 6")
    ceil = conv_grid(5, 2, pooling=True, ceil_mode=True).axes[0]  # stride = kernel for pooling
    assert ceil.get_xlim() == (0, 6) and "3×3 out" in ceil.get_title()  # last window overhangs
    with pytest.raises(ValueError, match="kernel_size"):
        conv_grid(3, 5)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_param_bars_of_a_summary():
    import torch
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(8 * 6 * 6, 10))
    s = summary(net, (3, 8, 8))
    fig = param_bars(s)
    top, bottom = fig.axes
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["conv1: 8@6×6", "fc1: 10"]
    assert [b.get_height() for b in top.patches] == pytest.approx(
        [r.params / 1e6 for r in s.rows if r.params])
    assert "parameters" in top.get_ylabel() and "multiply" in bottom.get_ylabel()
    from coursekit.viz.param_bars import COLOUR_KEY
    assert [b.get_facecolor()[:3] for b in top.patches] == [pytest.approx((0.122, 0.467, 0.706), abs=1e-3),
                                                            pytest.approx((0.839, 0.153, 0.157), abs=1e-3)]
    for titled in (fig, param_bars(s, title="my title"), param_bars(s, horizontal=True)):
        assert COLOUR_KEY in titled.axes[0].get_title()   # the colours are explained, whatever the title
    with pytest.raises(ValueError, match="summary"):
        param_bars(stack_summary((3, 8, 8), [("relu",)]))
    import matplotlib.pyplot as plt
    plt.close("all")


def test_conv_diagrams_draw_what_nn_and_arithmetic_compute():
    import numpy as np
    from coursekit import arithmetic as ar
    from coursekit.viz.conv_diagrams import plot_border_effect, plot_signals, repeated_blur, show_kernel_responses
    fig = plot_signals({"x": np.arange(5.0), "y": np.ones(3)})
    assert [ax.get_title() for ax in fig.axes] == ["x (5 samples)", "y (3 samples)"]
    img = np.random.default_rng(0).random((12, 10))
    fig = show_kernel_responses(img, {"blur": np.ones((3, 3)) / 9, "edge": [[-1, 0, 1]] * 3})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["input 12×10", "blur: 10×8", "edge: 10×8"]
    assert fig.axes[2].images[0].get_cmap().name == "RdBu_r"     # signed: diverging, with a colorbar
    blurred = repeated_blur(np.ones((9, 9)), 3, times=2)
    assert blurred.shape == (9, 9) and blurred[4, 4] == 1.0 and blurred[0, 0] < 0.5
    c = ar.read_counts(6, 3)
    fig = plot_border_effect(np.outer(c, c), blurred)
    assert "windows reading" in fig.axes[-1].get_ylabel()
    import matplotlib.pyplot as plt
    plt.close("all")
