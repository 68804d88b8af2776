"""Plots and the BN/dropout explorer built on coursekit.train/models, and MC dropout."""
import matplotlib
import numpy as np
import pytest
import torch

from coursekit.models import deep_mlp, init_weights
from coursekit.train import mc_dropout_predict
from coursekit.viz.activation_stats import (activation_stats, layer_activations,
                                            plot_activation_stats)
from coursekit.widgets import bn_dropout_explorer

matplotlib.use("Agg")


def test_activation_stats_follow_initialization():
    x = torch.randn(256, 200, generator=torch.Generator().manual_seed(0))
    std = {}
    for scheme in ("small", "xavier", "he"):
        m = init_weights(deep_mlp(200, 10, depth=8, width=200), scheme, seed=0)
        acts = layer_activations(m, x)
        assert len(acts) == 8 and all(a.shape == (256, 200) for a in acts.values())
        std[scheme] = activation_stats(acts)["std"]
    assert std["small"][-1] < 1e-6 < std["xavier"][-1] < std["he"][-1]  # ReLU: He keeps scale
    assert 0.3 < std["he"][-1] / std["he"][0] < 3
    assert std["xavier"][-1] / std["xavier"][0] < 0.2
    fig = plot_activation_stats(acts, title="he")
    assert fig.axes[-1].get_xlabel() == "layer (depth)" and len(fig.axes) == 7
    with pytest.raises(ValueError, match="no layers"):
        layer_activations(torch.nn.Linear(3, 3), torch.zeros(2, 3))


def test_explorer_reacts_to_controls():
    e = bn_dropout_explorer(depth=6, width=64)
    he = e.stats["std"]
    e.init.value = "small"
    small = e.stats["std"]
    assert small[-1] < 1e-3 * he[-1]
    e.batchnorm.value = True  # BN rescues the small initialization
    assert 0.3 < e.stats["std"][-1] < 1.5
    e.depth.value = 3
    assert len(e.stats["std"]) == 3


def test_mc_dropout_predict():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(5, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                            torch.nn.Linear(32, 3)).eval()
    x = torch.randn(4, 5)
    mean, std = mc_dropout_predict(m, x, samples=50, seed=1)
    assert mean.shape == std.shape == (4, 3) and not m.training
    assert torch.allclose(mean.sum(1), torch.ones(4)) and (std > 0).all()
    again, _ = mc_dropout_predict(m, x, samples=50, seed=1)
    assert torch.equal(mean, again)
    with pytest.raises(ValueError, match="dropout"):
        mc_dropout_predict(torch.nn.Linear(5, 3), x)
