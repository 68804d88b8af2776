"""Plots and attributions (matplotlib): what the lessons draw; ``viz/X`` draws what ``X`` computes.

Lazy (PEP 562): a name is imported from its submodule on first use, so the NumPy plots
(``coursekit.viz.kernels``, lesson 03) import without torch. To add a plot, add one line
``"name": "submodule"`` to ``EXPORTS``.
"""
from coursekit.lazy import lazy_package

# name -> submodule it is defined in
EXPORTS = {
    "saliency": "saliency",
    "occlusion": "occlusion",
    "guided_backprop": "guided_backprop",
    "cam": "gradcam",
    "grad_cam": "gradcam",
    "overlay": "overlay",
    "show_attributions": "overlay",
    "plot_history": "history",
    "activation_stats": "activation_stats",
    "layer_activations": "activation_stats",
    "plot_activation_stats": "activation_stats",
    "plot_std_by_depth": "activation_stats",
    "plot_grad_norms_by_depth": "signal_propagation",
    "plot_singular_values": "signal_propagation",
    "filters": "filters",
    "activations": "activations",
    "get_activations": "activations",
    "embedding": "embedding",
    "embed_points": "embedding",
    "neighbour_agreement": "embedding",
    "top_activating": "top_activating",
    "activation_maximization": "actmax",
    "cascading_randomization": "interpretability",
    "energy_in_mask": "interpretability",
    "evaluate_attributions": "interpretability",
    "plot_sanity_check": "interpretability",
    "pointing_game": "interpretability",
    "default_schedules": "schedules",
    "plot_schedules": "schedules",
    "plot_loss_surface": "loss_surface",
    "plot_optimizer_paths": "loss_surface",
    "plot_lr_finder": "curves",
    "plot_step_losses": "curves",
    "plot_train_val_gap": "curves",
    "plot_update_ratios": "curves",
    "plot_step_update_ratios": "curves",
    "plot_loss_views": "curves",
    "smooth": "curves",
    "plot_distributions": "distributions",
    "plot_coarse_to_fine": "hpsearch",
    "plot_data_vs_search": "hpsearch",
    "plot_search_comparison": "hpsearch",
    "plot_search_points": "hpsearch",
    "plot_anchors": "metrics",
    "plot_confusion_matrix": "metrics",
    "plot_pr_roc": "metrics",
    "conv_grid": "conv_grid",
    "param_bars": "param_bars",
    "show_convolution": "kernels",
    "show_feature_maps": "kernels",
    "plot_numpy_training": "numpy_training",
    "plot_timings": "numpy_training",
    "plot_tta_gain": "gallery",
    "show_augmented_grid": "gallery",
    "show_mixed_batch": "gallery",
    "show_transform_gallery": "gallery",
}

__getattr__, __dir__, __all__ = lazy_package(__name__, EXPORTS)
