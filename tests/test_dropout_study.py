"""coursekit.dropout_study: single-unit ablation and error-detection AUC."""
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.dropout_study import error_detection_auc, unit_ablation


def test_unit_ablation_finds_the_one_unit_that_matters():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[5.0, 0.0, 0.0], [-5.0, 0.0, 0.0]]))
        net[2].bias.zero_()
    x = torch.tensor([[1.0, 0.0], [2.0, 1.0]])
    y = torch.tensor([0, 0])
    net.train()
    d = unit_ablation(net, net[1], x, y)
    assert d.shape == (3,) and d[0] > 0.5 and np.allclose(d[1:], 0)
    assert net.training and not net[1]._forward_hooks
    with pytest.raises(ValueError):
        unit_ablation(net, nn.ReLU(), x, y)


def test_error_detection_auc():
    auc, n = error_detection_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False])
    assert (auc, n) == (1.0, 2)
    assert error_detection_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False])[0] == 0.0
    assert np.isnan(error_detection_auc([0.1, 0.2], [False, False])[0])
    with pytest.raises(ValueError):
        error_detection_auc([0.1], [True, False])
