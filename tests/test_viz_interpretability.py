"""Pointing game, energy in mask, the cascading-randomization sanity check, and
activation maximization."""
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.viz import (activation_maximization, cascading_randomization, energy_in_mask,
                           evaluate_attributions, grad_cam, pointing_game, saliency)
from coursekit.torchutil import count_hooks
from coursekit.viz.interpretability import edge_detector, format_table, learnable_layers


def small_cnn(in_ch=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(in_ch, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 4)).eval()


def test_pointing_game_and_energy_exact():
    maps = np.array([[[1.0, 0.0], [3.0, -2.0]],     # max at (1, 0)
                     [[5.0, 0.0], [1.0, 1.0]],      # max at (0, 0)
                     [[2.0, 2.0], [2.0, 2.0]]])     # constant: no information
    masks = np.array([[[1, 0], [1, 0]], [[0, 1], [1, 1]], [[1, 1], [0, 0]]], bool)
    np.testing.assert_array_equal(pointing_game(maps, masks), [True, False, False])
    np.testing.assert_allclose(energy_in_mask(maps, masks), [4 / 4, 2 / 7, 0.5])
    # (N, C, H, W) attributions are reduced by max |.| over channels
    assert pointing_game(np.stack([-maps[:1] * 2, maps[:1]], 1), masks[:1])[0]
    assert np.isnan(energy_in_mask(-np.ones((1, 2, 2)), masks[:1])[0])
    with pytest.raises(ValueError, match="masks"):
        pointing_game(maps, masks[:, :1])


def test_evaluate_attributions_table():
    m = small_cnn()
    x = torch.rand(3, 3, 8, 8)
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:6, 2:6] = True
    res = evaluate_attributions(m, x, masks, {"saliency": saliency, "Grad-CAM": grad_cam})
    assert set(res) == {"saliency", "Grad-CAM", "uniform map (chance)"}
    assert res["uniform map (chance)"]["energy"] == pytest.approx(16 / 64)
    expect = energy_in_mask(saliency(m, x), masks).mean()
    assert res["saliency"]["energy"] == pytest.approx(expect)
    assert "| saliency |" in format_table(res)


def test_cascading_randomization_detects_model_independent_maps():
    m = small_cnn()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    edge = cascading_randomization(m, x, edge_detector)
    sal = cascading_randomization(m, x, saliency)
    names = [n for n, _ in sal]
    assert names == ["original", "7", "3", "0"]            # from the output layer down
    assert [r for _, r in edge] == pytest.approx([1.0] * 4)  # edge maps never change: fail
    assert sal[0][1] == pytest.approx(1.0)
    assert sal[-1][1] < 0.8                                 # fully random net: new maps
    for k, v in m.state_dict().items():                     # the original model is untouched
        torch.testing.assert_close(v, before[k])
    assert [type(l).__name__ for l in learnable_layers(m, x)] == ["Conv2d", "Conv2d", "Linear"]


@pytest.mark.parametrize("ch", [1, 3])
def test_activation_maximization_increases_the_unit(ch):
    m = small_cnn(ch)
    img, hist = activation_maximization(m, m[3], channel=2, steps=40, size=16, return_history=True)
    assert img.shape == (ch, 16, 16) and img.min() >= 0 and img.max() <= 1
    assert np.mean(hist[-5:]) > hist[0]
    assert count_hooks(m) == 0 and all(p.grad is None for p in m.parameters())
    # a class logit (linear output), no regularizers
    img2 = activation_maximization(m, "7", channel=1, steps=10, size=16, regularizers=False)
    assert img2.shape == (ch, 16, 16)


def test_activation_maximization_natural_init_and_errors():
    m = small_cnn()
    start = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    same = activation_maximization(m, m[3], 0, steps=0, init=start)
    np.testing.assert_allclose(same, start)
    moved = activation_maximization(m, m[3], 0, steps=5, init=start, regularizers={"jitter": 0})
    assert not np.allclose(moved, start)
    with pytest.raises(ValueError, match="channel"):
        activation_maximization(m, m[3], 99, steps=1)
    with pytest.raises(ValueError, match="regularizers"):
        activation_maximization(m, m[3], 0, steps=1, regularizers={"sharpness": 1})
    assert count_hooks(m) == 0
