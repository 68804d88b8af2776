"""coursekit.signal_propagation: Glorot/He formulas against torch, the ReLU std prediction
against a wide net, gradient norms by depth, singular values; and their plots."""
import math

import matplotlib
matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from coursekit.models import deep_mlp, init_weights
from coursekit.signal_propagation import (glorot_std, glorot_uniform_bound, he_std,
                                          relu_std_prediction, singular_values, weight_grad_norms)
from coursekit.viz import plot_grad_norms_by_depth, plot_singular_values
from coursekit.viz.activation_stats import activation_stats, layer_activations, plot_activation_stats


def test_glorot_bounds_match_torch():
    torch.manual_seed(0)
    w = torch.empty(300, 200)
    torch.nn.init.xavier_uniform_(w)
    a = glorot_uniform_bound(200, 300)
    assert a == pytest.approx(math.sqrt(6 / 500))
    assert w.abs().max() <= a and w.abs().max() > 0.99 * a
    assert w.std().item() == pytest.approx(a / math.sqrt(3), rel=0.02)
    torch.nn.init.xavier_normal_(w)
    assert w.std().item() == pytest.approx(glorot_std(200, 300), rel=0.02)
    assert he_std(200) == pytest.approx(math.sqrt(2 / 200))
    with pytest.raises(ValueError):
        glorot_std(0, 3)


def test_relu_std_prediction_matches_a_wide_net():
    x = torch.randn(1000, 400, generator=torch.Generator().manual_seed(123))
    for scheme, gain in (("xavier", 1.0), ("he", 2.0)):
        net = init_weights(deep_mlp(400, 10, depth=6, width=400), scheme, seed=0)
        measured = np.array(activation_stats(layer_activations(net, x))["std"])
        assert np.allclose(measured, relu_std_prediction(6, gain), rtol=0.2)


def test_weight_grad_norms_by_depth_and_mode_restored():
    net = init_weights(deep_mlp(20, 3, depth=4, width=16, batchnorm=True), "he", seed=0)
    net.eval()
    x, y = torch.randn(32, 20), torch.randint(0, 3, (32,))
    norms = weight_grad_norms(net, x, y)
    assert list(norms) == [n for n, p in net.named_parameters() if p.dim() >= 2]
    assert all(v > 0 for v in norms.values())
    assert not net.training and all(p.grad is None for p in net.parameters())
    zero = weight_grad_norms(init_weights(deep_mlp(20, 3, depth=3, width=8), "zero"), x, y)
    assert list(zero.values())[:3] == [0.0, 0.0, 0.0]


def test_singular_values_rms_is_sigma_sqrt_n():
    w = torch.randn(400, 400, generator=torch.Generator().manual_seed(0)) * 0.05
    s = singular_values(w)
    assert s.shape == (400,) and np.all(np.diff(s) <= 1e-12)
    assert math.sqrt(np.mean(s ** 2)) == pytest.approx(0.05 * 20, rel=0.01)
    with pytest.raises(ValueError):
        singular_values(np.ones(3))


def test_plots_share_axes_and_draw():
    net = init_weights(deep_mlp(50, 3, depth=6, width=50, activation="tanh"), "small", seed=0)
    acts = layer_activations(net, torch.randn(64, 50))
    fig = plot_activation_stats(acts, title="t")
    hist_axes = fig.axes[:-1]
    assert len({ax.get_xlim() for ax in hist_axes}) == 1
    ax = plot_grad_norms_by_depth({"a": {"w1": 1.0, "w2": 0.0}})
    assert "exactly 0" in ax.get_legend().get_texts()[0].get_text()
    ax = plot_singular_values({"a": np.array([0.5, 1.0, 1.5])})
    assert ax.get_xlabel().startswith("singular value")
    with pytest.raises(ValueError):
        plot_grad_norms_by_depth({})


def test_grad_norm_zeros_get_their_own_row_labelled_zero():
    """Exact zeros are not drawn as a small value: they sit below every non-zero norm, one
    empty decade lower, on a tick labelled "0" (a log axis has no 0)."""
    ax = plot_grad_norms_by_depth({"zero": {"w1": 0.0, "w2": 0.0}, "tiny": {"w1": 2e-5, "w2": 1e-5},
                                   "he": {"w1": 0.5, "w2": 0.9}})
    ax.figure.canvas.draw()
    zero_line = next(line for line in ax.get_lines() if line.get_label().startswith("zero"))
    assert "2 layers exactly 0" in zero_line.get_label()
    assert np.all(zero_line.get_ydata() <= 1e-5 / 100)
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert "0" in labels and "$10^{-5}$" in labels
    assert ax.get_ylim()[0] < zero_line.get_ydata()[0]
    ax = plot_grad_norms_by_depth({"a": {"w1": 1e-11, "w2": 2e-11}})      # no zeros: a plain log axis
    assert "0" not in {t.get_text() for t in ax.get_yticklabels()}
