"""Augmentation explorer: pick transforms and strengths, see a live grid of augmented
samples, change the seed (or draw again) to see other random draws.

The widget holds no maths: it builds pipelines with ``coursekit.data.augmentation`` /
``mix_batch`` and draws with ``coursekit.viz.gallery``.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

__all__ = ["augmentation_explorer", "AugmentationExplorer"]


class AugmentationExplorer(widgets.VBox):
    """The explorer; ``pipeline()`` is the current v2 pipeline, ``redraw()`` draws again,
    ``figure`` is the last figure drawn, ``info`` (HTML, CSS class ``ck-aug-info``) says what
    is shown and, when a batch is mixed, each image's soft label as computed by ``mix_batch``.
    CSS classes for browser tests: ``ck-explorer ck-augmentation-explorer``, ``ck-aug-mix``
    (the mix toggle), ``ck-aug-info``."""

    def __init__(self, x=None, y=None, class_names=None, n: int = 12, seed: int = 0,
                 cols: int = 6):
        from coursekit.data import SHAPES_CLASSES, load
        from coursekit.data.augment import DEFAULT_STRENGTH, TRANSFORMS
        if x is None:
            x, y = load("shapes", "val", n=n)
            class_names = SHAPES_CLASSES
        x = np.asarray(x, np.float32)
        if x.ndim != 4:
            raise ValueError(f"x: expected images (N, C, H, W), got shape {x.shape}")
        self.x, self.y, self.class_names, self.cols = x[:n], y, class_names, cols
        self.checks, self.sliders = {}, {}
        rows = []
        for name in TRANSFORMS:
            self.checks[name] = widgets.Checkbox(value=name in ("hflip", "crop"),
                                                 description=name, indent=False,
                                                 layout=widgets.Layout(width="110px"))
            self.sliders[name] = widgets.FloatSlider(
                value=DEFAULT_STRENGTH[name], min=0.0, max=1.0, step=0.05,
                description="strength", continuous_update=False, readout_format=".2f",
                layout=widgets.Layout(width="260px"))
            rows.append(widgets.HBox([self.checks[name], self.sliders[name]]))
        self.mix = widgets.ToggleButtons(options=["none", "mixup", "cutmix"], value="none",
                                         description="mix batch")
        self.seed = widgets.IntText(value=seed, description="seed",
                                    layout=widgets.Layout(width="160px"))
        self.again = widgets.Button(description="draw again (seed + 1)")
        self.again.on_click(lambda _: setattr(self.seed, "value", self.seed.value + 1))
        self.out = widgets.Output()
        self.info = widgets.HTML()
        for w, css in ((self, "ck-explorer"), (self, "ck-augmentation-explorer"),
                       (self.mix, "ck-aug-mix"), (self.info, "ck-aug-info")):
            w.add_class(css)
        for w in [*self.checks.values(), *self.sliders.values(), self.mix, self.seed]:
            w.observe(lambda change: self.redraw(), names="value")
        half = (len(rows) + 1) // 2
        controls = widgets.HBox([widgets.VBox(rows[:half]), widgets.VBox(rows[half:])])
        super().__init__([controls, widgets.HBox([self.mix, self.seed, self.again]), self.info,
                          self.out])
        self.redraw()

    def spec(self) -> dict:
        """The chosen transforms: ``{name: strength}``."""
        return {n: self.sliders[n].value for n, c in self.checks.items() if c.value}

    def pipeline(self):
        from coursekit.data import augmentation
        return augmentation(self.spec(), size=self.x.shape[-2:])

    def _spec_text(self) -> str:
        return ", ".join(f"{n} {s:.2f}" for n, s in self.spec().items()) or "no augmentation"

    def _label(self, k: int) -> str:
        return self.class_names[k] if self.class_names else str(k)

    def _soft_labels_text(self, y_soft) -> str:
        """``"image 1: circle 0.63 + square 0.37; ..."`` for each image (weights > 0)."""
        parts = []
        for i, row in enumerate(np.asarray(y_soft)):
            order = np.argsort(row)[::-1]
            words = " + ".join(f"{html.escape(self._label(int(k)))} {row[k]:.2f}"
                               for k in order if row[k] > 0)
            parts.append(f"image {i + 1}: {words}")
        return "; ".join(parts)

    def redraw(self):
        from coursekit.data import augment_batch, mix_batch
        from coursekit.viz.gallery import show_augmented_grid, show_mixed_batch
        self.out.clear_output(wait=True)
        with self.out:
            seed = int(self.seed.value)
            n, (h, w) = len(self.x), self.x.shape[-2:]
            if self.mix.value == "none" or self.y is None:
                self.info.value = (f"{n} images, {h}×{w}: {html.escape(self._spec_text())}, "
                                   f"seed {seed}")
                fig = show_augmented_grid(self.x, self.pipeline(), labels=self.y,
                                          class_names=self.class_names, cols=self.cols,
                                          seed=seed, title=f"{self.spec() or 'no augmentation'}"
                                          f" (seed {seed})")
            else:
                xa = augment_batch(self.x, self.pipeline(), seed=seed)
                k = len(self.class_names) if self.class_names else int(np.max(self.y)) + 1
                xm, ym = mix_batch(xa, self.y[:len(xa)], self.mix.value, num_classes=k,
                                   seed=seed)
                shown = min(len(xm), self.cols)
                self.info.value = (f"{self.mix.value} after {html.escape(self._spec_text())}, "
                                   f"seed {seed}; soft labels of the {shown} images shown: "
                                   f"{self._soft_labels_text(ym[:shown])}")
                fig = show_mixed_batch(xm, ym, self.class_names, n=min(len(xm), self.cols),
                                       title=f"{self.mix.value} after {self.spec() or 'nothing'}")
            self.figure = fig
            display(fig)
            plt.close(fig)


def augmentation_explorer(x=None, y=None, class_names=None, n: int = 12, seed: int = 0):
    """Show the augmentation explorer on images ``x`` (N, C, H, W) (default: shapes) with
    labels ``y``; returns the widget."""
    w = AugmentationExplorer(x, y, class_names, n=n, seed=seed)
    display(w)
    return w
