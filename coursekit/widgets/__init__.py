"""ipywidgets explorers, one per file. Widgets hold no maths: they call coursekit and draw.

Lazy (PEP 562): each explorer is imported from its file on first use, so the NumPy widgets
(kernel playground, conv explorer, layer stack) import without torch. To add one, add one
line ``"name": "submodule"`` to ``EXPORTS``.
"""
from coursekit.lazy import lazy_package

# name -> submodule it is defined in
EXPORTS = {
    "bn_dropout_explorer": "bn_dropout_explorer",
    "optimizer_explorer": "optimizer_explorer",
    "conv_explorer": "conv_explorer",
    "layer_stack": "layer_stack",
    "kernel_playground": "kernel_playground",
    "augmentation_explorer": "augmentation_explorer",
    "visualization_explorer": "visualization_explorer",
}

__getattr__, __dir__, __all__ = lazy_package(__name__, EXPORTS)
