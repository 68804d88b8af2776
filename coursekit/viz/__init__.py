"""Plots and attributions (matplotlib): what the lessons draw."""
from .saliency import saliency  # noqa: E402,F401  (H6)
from .occlusion import occlusion  # noqa: E402,F401  (H6)
from .guided_backprop import guided_backprop  # noqa: E402,F401  (H6)
from .gradcam import cam, grad_cam  # noqa: E402,F401  (H6)
from .overlay import overlay, show_attributions  # noqa: E402,F401  (H6)
from .history import plot_history  # noqa: E402,F401  (H4)
from .activation_stats import (activation_stats, layer_activations,  # noqa: E402,F401  (H4)
                               plot_activation_stats)
