"""Optimizer explorer: the paths of SGD, momentum, Nesterov, RMSProp and Adam on a 2-D loss
surface, with learning-rate, momentum and beta sliders (maths in ``coursekit.optim``)."""
from __future__ import annotations

__all__ = ["optimizer_explorer"]


def optimizer_explorer(surface: str = "ravine", optimizers=("sgd", "momentum", "adam"),
                       steps: int = 60):
    """An ipywidgets panel: pick the surface and the optimizers, move the sliders (learning
    rate on a log scale, momentum, Adam's beta1/beta2, number of steps) and the paths are
    redrawn. Returns the widget (display it as a cell's last expression).

    Under the plot, one line per optimizer (CSS class ``ck-opt-summary``) gives where the
    path ends and the loss there (or the step where it diverged). CSS classes for browser
    tests: ``ck-explorer ck-optimizer-explorer``, ``ck-opt-lr`` (the learning-rate slider).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    from ..optim import OPTIMIZERS, SURFACES, optimizer_path
    from ..viz.loss_surface import plot_optimizer_paths

    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose one of {sorted(SURFACES)}")
    unknown = set(optimizers) - set(OPTIMIZERS)
    if unknown:
        raise ValueError(f"unknown optimizers {sorted(unknown)}; choose from {sorted(OPTIMIZERS)}")
    style = dict(continuous_update=False, style={"description_width": "90px"},
                 layout=w.Layout(width="340px"))
    surf = w.Dropdown(options=sorted(SURFACES), value=surface, description="surface", **{
        k: v for k, v in style.items() if k != "continuous_update"})
    which = w.SelectMultiple(options=sorted(OPTIMIZERS), value=tuple(optimizers),
                             description="optimizers", rows=5)
    lr = w.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.05,
                          description="learning rate", readout_format=".3f", **style)
    mom = w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum", **style)
    b1 = w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="Adam beta1", **style)
    b2 = w.FloatSlider(value=0.999, min=0.5, max=0.9999, step=0.0005, readout_format=".4f",
                       description="beta2 (RMSProp)", **style)
    n = w.IntSlider(value=steps, min=5, max=300, step=5, description="steps", **style)
    out = w.Output()
    summary = w.HTML()
    lr.add_class("ck-opt-lr")
    summary.add_class("ck-opt-summary")

    def redraw(*_):
        paths = {name: optimizer_path(surf.value, name, lr=lr.value, steps=n.value,
                                      momentum=mom.value, betas=(b1.value, b2.value))
                 for name in which.value}
        summary.value = "<br>".join(_end_text(surf.value, name, path, n.value)
                                    for name, path in paths.items())
        with out:
            out.clear_output(wait=True)
            # fits beside the controls in a ~900 px notebook (540 px at 100 dpi)
            fig, ax = plt.subplots(figsize=(5.4, 4.6))
            plot_optimizer_paths(paths, surf.value, ax=ax,
                                 title=f"{surf.value}: lr={lr.value:.3g}, momentum={mom.value}, "
                                       f"betas=({b1.value}, {b2.value})")
            display(fig)
            plt.close(fig)

    for c in (surf, which, lr, mom, b1, b2, n):
        c.observe(redraw, names="value")
    redraw()
    # the controls keep their width (readouts stay readable); the plot shrinks to the rest
    box = w.HBox([w.VBox([surf, which, lr, mom, b1, b2, n], layout=w.Layout(flex="0 0 auto")),
                  w.VBox([out, summary], layout=w.Layout(flex="1 1 auto", min_width="0"))])
    box.add_class("ck-explorer")
    box.add_class("ck-optimizer-explorer")
    return box


def _end_text(surface: str, name: str, path, steps: int) -> str:
    """``"sgd: after 60 steps at (-0.123, 0.000), loss 0.00123"`` (or where it diverged)."""
    from ..optim import SURFACES

    x, y = path[-1]
    if len(path) < steps + 1:
        return f"{name}: diverged at step {len(path)} (last finite point ({x:.3f}, {y:.3f}))"
    loss = float(SURFACES[surface]["f"](x, y))
    return f"{name}: after {steps} steps at ({x:.3f}, {y:.3f}), loss {loss:.4g}"
