"""BN/dropout explorer: per-layer activation distributions of a deep network while
toggling batch normalization, dropout p, the initialization scheme and the activation.

The widget holds no maths: it builds the network with ``coursekit.models.deep_mlp`` and
``init_weights``, captures activations with ``coursekit.viz.activation_stats`` and draws.
"""
from __future__ import annotations

import ipywidgets as widgets
from IPython.display import display
import matplotlib.pyplot as plt
import torch

from coursekit.models import INIT_SCHEMES, deep_mlp, init_weights
from coursekit.viz.activation_stats import activation_stats, layer_activations, \
    plot_activation_stats

__all__ = ["bn_dropout_explorer", "BNDropoutExplorer"]


class BNDropoutExplorer(widgets.VBox):
    """The explorer widget; ``redraw()`` recomputes, ``stats`` holds the last statistics
    (``activation_stats``), and ``summary_html`` (CSS class ``ck-bn-summary``) prints the
    activation std of the first and last layers and the last layer's fraction of zeros.
    CSS classes for browser tests: ``ck-explorer ck-bn-dropout-explorer``, ``ck-bn-batchnorm``
    (the batch-norm checkbox), ``ck-bn-summary``."""

    def __init__(self, x=None, depth: int = 10, width: int = 256, seed: int = 0,
                 init: str = "he", activation: str = "relu", batchnorm: bool = False,
                 dropout: float = 0.0):
        if x is None:
            x = torch.randn(512, width, generator=torch.Generator().manual_seed(seed))
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.ndim < 2 or len(x) < 2:
            raise ValueError(f"x must be a batch of at least 2 inputs (N, ...), got shape "
                             f"{tuple(x.shape)}")
        self.x, self.width, self.seed = x, width, seed
        style = {"description_width": "initial"}
        self.init = widgets.Dropdown(options=[s for s in INIT_SCHEMES if s != "default"],
                                     value=init, description="initialization", style=style)
        self.activation = widgets.ToggleButtons(options=["relu", "tanh"], value=activation,
                                                description="activation", style=style)
        self.batchnorm = widgets.Checkbox(value=batchnorm, description="batch norm")
        self.dropout = widgets.FloatSlider(value=dropout, min=0.0, max=0.9, step=0.1,
                                           description="dropout p", continuous_update=False,
                                           style=style)
        self.depth = widgets.IntSlider(value=depth, min=2, max=30, description="depth",
                                       continuous_update=False, style=style)
        self.mode = widgets.ToggleButtons(options=["train", "eval"], value="train",
                                          description="mode", style=style)
        self.out = widgets.Output()
        self.summary_html = widgets.HTML()
        for w, css in ((self, "ck-explorer"), (self, "ck-bn-dropout-explorer"),
                       (self.batchnorm, "ck-bn-batchnorm"), (self.summary_html, "ck-bn-summary")):
            w.add_class(css)
        self.stats: dict = {}
        controls = [self.init, self.activation, self.batchnorm, self.dropout, self.depth,
                    self.mode]
        for c in controls:
            c.observe(lambda change: self.redraw(), names="value")
        super().__init__([widgets.HBox(controls[:3]), widgets.HBox(controls[3:]),
                          self.summary_html, self.out])
        self.redraw()

    def build(self) -> torch.nn.Module:
        """The network for the current settings (seeded, so only the settings change it)."""
        torch.manual_seed(self.seed)
        model = deep_mlp(self.x[0].numel(), 10, depth=self.depth.value, width=self.width,
                         activation=self.activation.value, batchnorm=self.batchnorm.value,
                         dropout=self.dropout.value)
        return init_weights(model, self.init.value, seed=self.seed)

    def redraw(self) -> None:
        """Recompute the activations and redraw the figure."""
        torch.manual_seed(self.seed)  # same dropout masks for the same settings
        acts = layer_activations(self.build(), self.x, train=self.mode.value == "train")
        self.stats = activation_stats(acts)
        std, zeros = self.stats["std"], self.stats["zero_frac"]
        self.summary_html.value = (
            f"activation std: first layer {std[0]:.3f}, last layer (layer {len(std)}) "
            f"{std[-1]:.3f} · zeros in the last layer: {zeros[-1]:.1%}")
        title = (f"{self.activation.value}, {self.init.value} init, "
                 f"{'with' if self.batchnorm.value else 'no'} BN, dropout p={self.dropout.value:.1f},"
                 f" {self.mode.value} mode")
        self.out.clear_output(wait=True)
        with self.out:
            fig = plot_activation_stats(acts, title=title)
            display(fig)
        plt.close(fig)


def bn_dropout_explorer(x=None, depth: int = 10, width: int = 256, seed: int = 0,
                        init: str = "he", activation: str = "relu", batchnorm: bool = False,
                        dropout: float = 0.0) -> BNDropoutExplorer:
    """Build the BN/dropout explorer for inputs ``x`` (N, D) (default: 512 standard-normal
    vectors of size ``width``), starting from the given settings (init: "zero", "small",
    "xavier" or "he"; activation: "relu" or "tanh"); display it by leaving it last in a cell."""
    return BNDropoutExplorer(x, depth=depth, width=width, seed=seed, init=init,
                             activation=activation, batchnorm=batchnorm, dropout=dropout)
