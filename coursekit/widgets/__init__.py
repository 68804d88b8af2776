"""ipywidgets explorers, one per file. Widgets hold no maths: they call coursekit and draw."""
from .bn_dropout_explorer import bn_dropout_explorer  # noqa: E402,F401  (H4)
from .optimizer_explorer import optimizer_explorer  # noqa: E402,F401  (H5)
from .conv_explorer import conv_explorer  # noqa: E402,F401  (H1)
from .layer_stack import layer_stack  # noqa: E402,F401  (H1)
from .kernel_playground import kernel_playground  # noqa: E402,F401  (H3)
from .augmentation_explorer import augmentation_explorer  # noqa: E402,F401  (H2)
from .visualization_explorer import visualization_explorer  # noqa: E402,F401  (H6)
