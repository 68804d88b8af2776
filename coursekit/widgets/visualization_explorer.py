"""The visualization explorer: pick an image, a method, a layer and a class; see the
heat-map overlay. The widget holds no maths: maps come from :mod:`coursekit.viz`."""
from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np

__all__ = ["visualization_explorer", "VisualizationExplorer", "METHODS"]


def _methods():
    from coursekit import viz
    return {
        "Grad-CAM": lambda m, x, t, layer: viz.grad_cam(m, x, t, layer=layer),
        "CAM": lambda m, x, t, layer: viz.cam(m, x, t),
        "saliency": lambda m, x, t, layer: viz.saliency(m, x, t),
        "SmoothGrad": lambda m, x, t, layer: viz.saliency(m, x, t, smooth=True, n_samples=16),
        "guided backprop": lambda m, x, t, layer: viz.guided_backprop(m, x, t, reduce="max"),
        "occlusion": lambda m, x, t, layer: viz.occlusion(m, x, t, window=8, stride=4, baseline=0.5),
    }


METHODS = ("Grad-CAM", "CAM", "saliency", "SmoothGrad", "guided backprop", "occlusion")


class VisualizationExplorer(widgets.VBox):
    """Controls ``index`` (image), ``method``, ``layer`` (for Grad-CAM), ``target``
    ("predicted" or a class) and ``alpha``; output ``image`` (PNG) and ``info`` (HTML:
    prediction, and with masks the pointing game and energy inside the object).
    CSS classes for browser tests: ``ck-explorer ck-visualization-explorer``, ``ck-vis-index``
    (the image slider), ``ck-vis-info``."""

    def __init__(self, model, images, labels=None, classes=None, masks=None):
        import torch
        from torch import nn
        self.model, self.images = model, torch.as_tensor(np.asarray(images), dtype=torch.float32)
        self.labels, self.masks = labels, masks
        from coursekit.metrics import predict_proba
        k = predict_proba(model, self.images[:1]).shape[1]
        self.classes = list(classes) if classes is not None else [str(i) for i in range(k)]
        convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
        self.methods = _methods()
        self.index = widgets.IntSlider(0, 0, len(self.images) - 1, description="image",
                                       continuous_update=False)
        self.method = widgets.Dropdown(options=list(METHODS), value="Grad-CAM", description="method")
        self.layer = widgets.Dropdown(options=["last conv"] + convs, value="last conv",
                                      description="layer")
        self.target = widgets.Dropdown(options=["predicted"] + self.classes, value="predicted",
                                       description="class")
        self.alpha = widgets.FloatSlider(0.5, min=0, max=1, step=0.1, description="opacity",
                                         continuous_update=False)
        # natural size: a VBox would stretch (and blur) the map to the full width
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.info = widgets.HTML()
        for w in (self.index, self.method, self.layer, self.target, self.alpha):
            w.observe(lambda change: self.update(), names="value")
        super().__init__([widgets.HBox([self.index, self.method]),
                          widgets.HBox([self.layer, self.target, self.alpha]),
                          self.image, self.info])
        for w, css in ((self, "ck-explorer"), (self, "ck-visualization-explorer"),
                       (self.index, "ck-vis-index"), (self.info, "ck-vis-info")):
            w.add_class(css)
        self.heatmap = None
        self.update()

    def update(self):
        """Recompute the map for the current settings and redraw."""
        import matplotlib.pyplot as plt

        from coursekit.viz import energy_in_mask, overlay, pointing_game
        i = self.index.value
        x = self.images[i:i + 1]
        from coursekit.metrics import predict_proba
        probs = predict_proba(self.model, x)[0]
        pred = int(probs.argmax())
        t = pred if self.target.value == "predicted" else self.classes.index(self.target.value)
        layer = None if self.layer.value == "last conv" else self.layer.value
        try:
            hm = self.methods[self.method.value](self.model, x, t, layer)[0]
        except ValueError as e:            # e.g. CAM on a model without GAP -> linear
            self.info.value = f"<b>{html.escape(self.method.value)}</b>: {html.escape(str(e))}"
            return
        self.heatmap = hm                  # (H, W): every method returns one map per image
        fig, ax = plt.subplots(figsize=(3.2, 3.2))
        overlay(x[0], self.heatmap, ax=ax, alpha=self.alpha.value,
                title=f"{self.method.value} for '{self.classes[t]}'")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        self.image.value = buf.getvalue()
        truth = "" if self.labels is None else f", true: <b>{html.escape(self.classes[int(self.labels[i])])}</b>"
        text = (f"predicted: <b>{html.escape(self.classes[pred])}</b> ({float(probs[pred]):.0%})"
                f"{truth}")
        if self.masks is not None:
            m = np.asarray(self.masks[i:i + 1])
            hit = bool(pointing_game(self.heatmap[None], m)[0])
            share = float(energy_in_mask(self.heatmap[None], m)[0])
            text += (f" · pointing game: {'hit' if hit else 'miss'} · energy inside object: "
                     f"{share:.0%} (object area {m.mean():.0%})")
        self.info.value = text


def visualization_explorer(model, images, labels=None, classes=None, masks=None):
    """Interactive heat maps for ``images`` (N, C, H, W) and a classifier ``model``."""
    return VisualizationExplorer(model, images, labels, classes, masks)
