"""The kernel playground: slide a 3x3 kernel over a photo and see what it detects.

Pick a photo and a classic kernel (or type your own nine numbers), a stride and a padding,
and cross-correlation vs true convolution; input, kernel and output are drawn side by side
with their shapes. No maths here: :func:`coursekit.nn.apply_kernel` computes, and
:func:`coursekit.viz.kernels.show_convolution` draws.
"""
from __future__ import annotations

import numpy as np

from coursekit.arithmetic import output_size_formula
from coursekit.nn.kernels import KERNELS, apply_kernel, get_kernel, to_gray

__all__ = ["kernel_playground", "KernelPlayground"]

CUSTOM = "custom (type below)"


def _default_images(max_side: int = 160) -> dict:
    """Grey photos from coursekit.data.sample_images, subsampled to at most ``max_side``."""
    from coursekit.data import sample_images

    out = {}
    for name, img in sample_images().items():
        g = to_gray(img)
        step = max(1, int(np.ceil(max(g.shape) / max_side)))
        out[name] = g[::step, ::step]
    return out


class KernelPlayground:
    """State + controls of the playground (``.widget`` is what Jupyter shows).

    images: dict name -> (H, W) or (H, W, 3) array (default: the embedded sample photos).
    ``render()`` returns the current matplotlib Figure (used by tests and the display).
    CSS classes for browser tests: ``ck-explorer ck-kernel-playground``, ``ck-kernel-stride``,
    ``ck-kernel-info`` (the shapes line "input HxW → output HoxWo").
    """

    def __init__(self, images: dict | None = None, image: str | None = None, kernel: str = "sobel x"):
        import ipywidgets as w

        self.images = {k: to_gray(v) for k, v in (images or _default_images()).items()}
        if not self.images:
            raise ValueError("images must hold at least one (H, W) image")
        if kernel not in KERNELS and kernel != CUSTOM:
            raise ValueError(f"kernel must be one of {sorted(KERNELS)} or {CUSTOM!r}, got {kernel!r}")
        names = list(self.images)
        self.image_w = w.Dropdown(options=names, value=image if image in self.images else names[0],
                                  description="photo")
        self.kernel_w = w.Dropdown(options=list(KERNELS) + [CUSTOM], value=kernel, description="kernel")
        self.cells = [w.FloatText(value=0.0, layout=w.Layout(width="70px")) for _ in range(9)]
        self.stride_w = w.IntSlider(value=1, min=1, max=4, description="stride", continuous_update=False)
        self.padding_w = w.IntSlider(value=1, min=0, max=3, description="padding", continuous_update=False)
        self.mode_w = w.ToggleButtons(options=["cross-correlation", "convolution (flipped)"],
                                      value="cross-correlation", description="mode")
        self.info = w.HTML()
        self.out = w.Output()
        self._set_cells(get_kernel(kernel) if kernel != CUSTOM else np.eye(3))
        for c in [self.image_w, self.kernel_w, self.stride_w, self.padding_w, self.mode_w, *self.cells]:
            c.observe(self._changed, names="value")
        grid = w.GridBox(self.cells, layout=w.Layout(grid_template_columns="repeat(3, 75px)"))
        controls = w.VBox([self.image_w, self.kernel_w, w.Label("kernel numbers (edit = custom):"), grid,
                           self.stride_w, self.padding_w, self.mode_w, self.info])
        # the controls keep their width (readouts stay readable); the figure takes the rest
        controls.layout = w.Layout(flex="0 0 auto", width="320px")
        self.out.layout = w.Layout(flex="1 1 auto", min_width="0")
        self.widget = w.HBox([controls, self.out])
        for widget, css in ((self.widget, "ck-explorer"), (self.widget, "ck-kernel-playground"),
                            (self.stride_w, "ck-kernel-stride"), (self.info, "ck-kernel-info")):
            widget.add_class(css)
        self._syncing = False
        self.update()

    # -- state ---------------------------------------------------------------------
    def _set_cells(self, k):
        self._syncing = True
        for c, v in zip(self.cells, np.asarray(k, dtype=float).ravel()):
            c.value = float(round(v, 4))
        self._syncing = False

    def kernel(self) -> np.ndarray:
        """The current 3x3 kernel (from the preset, or the typed numbers)."""
        if self.kernel_w.value == CUSTOM:
            return np.array([c.value for c in self.cells], dtype=np.float64).reshape(3, 3)
        return get_kernel(self.kernel_w.value)

    def output(self) -> np.ndarray:
        """The current feature map (Ho, Wo)."""
        return apply_kernel(self.images[self.image_w.value], self.kernel(), self.stride_w.value,
                            self.padding_w.value, flip=self.mode_w.value != "cross-correlation")

    # -- events ----------------------------------------------------------------------
    def _changed(self, change):
        if getattr(self, "_syncing", False):
            return
        if change["owner"] is self.kernel_w and change["new"] != CUSTOM:
            self._set_cells(get_kernel(change["new"]))
        elif change["owner"] in self.cells and self.kernel_w.value != CUSTOM:
            self._syncing = True
            self.kernel_w.value = CUSTOM
            self._syncing = False
        self.update()

    def render(self):
        """Figure of input, kernel and output for the current settings."""
        from coursekit.viz.kernels import show_convolution

        img = self.images[self.image_w.value]
        flip = self.mode_w.value != "cross-correlation"
        k = self.kernel()
        shown_k = k[::-1, ::-1] if flip else k
        out = self.output()
        title = (f"{self.kernel_w.value}, stride {self.stride_w.value}, padding "
                 f"{self.padding_w.value}, {self.mode_w.value}")
        return show_convolution(img, shown_k, out, title=title)

    def update(self):
        """Redraw (called on every change)."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        img = self.images[self.image_w.value]
        try:
            out = self.output()
        except ValueError as exc:  # e.g. a kernel larger than a tiny image
            self.info.value = f"<b style='color:#b00'>{exc}</b>"
            return
        H, W = img.shape
        p, s = self.padding_w.value, self.stride_w.value
        k = self.kernel().shape[0]
        self.info.value = (f"input {H}x{W} &rarr; output {out.shape[0]}x{out.shape[1]}<br>"
                           f"H_out = {output_size_formula(H, k, s, p)}")
        self.out.clear_output(wait=True)
        with self.out:
            fig = self.render()
            display(fig)
            plt.close(fig)


def kernel_playground(images: dict | None = None, image: str | None = None, kernel: str = "sobel x"):
    """Show the kernel playground; returns the :class:`KernelPlayground` (its ``.widget`` is displayed)."""
    from IPython.display import display

    pg = KernelPlayground(images, image, kernel)
    display(pg.widget)
    return pg
