"""coursekit.torchutil: the torch plumbing every torch module shares."""
import pytest
import torch
from torch import nn

from coursekit.arithmetic import count_parameters
from coursekit.torchutil import (Hooks, count_hooks, eval_mode, get_layer,
                                 layer_name, layers_in_forward_order, leaves, model_device,
                                 model_mode)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Sequential(nn.Conv2d(4, 2, 1), nn.Dropout(0.5)),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))


def test_eval_mode_restores_every_submodules_own_mode():
    net = _net().train()
    net[1].eval()                       # a frozen BatchNorm inside a training model
    before = [m.training for m in net.modules()]
    with eval_mode(net) as m:
        assert m is net and not any(x.training for x in net.modules())
    assert [m.training for m in net.modules()] == before
    with pytest.raises(RuntimeError), eval_mode(net):
        raise RuntimeError("restored also when the block raises")
    assert [m.training for m in net.modules()] == before


def test_model_mode_train():
    net = _net().eval()
    with model_mode(net, True):
        assert all(m.training for m in net.modules())
    assert not any(m.training for m in net.modules())


def test_device_count_and_lookups():
    net = _net()
    assert model_device(net) == torch.device("cpu") == model_device(nn.ReLU())
    assert count_parameters(net) == sum(p.numel() for p in net.parameters())
    net[0].weight.requires_grad_(False)
    assert count_parameters(net) == sum(p.numel() for p in net.parameters()) - 4 * 3 * 9
    assert get_layer(net, "3.0") is net[3][0] and layer_name(net, net[3][0]) == "3.0"
    with pytest.raises(ValueError, match="conv layers are"):
        get_layer(net, "nope")
    assert [n for n, _ in leaves(net)] == ["0", "1", "2", "3.0", "3.1", "4", "5", "6"]
    x = torch.zeros(2, 3, 8, 8)
    assert layers_in_forward_order(net, x) == [net[0], net[3][0]]


def test_hooks_are_removed_even_when_the_forward_raises():
    net = _net()
    with pytest.raises(ValueError), Hooks() as h:
        h.forward(net[0], lambda m, i, o: None)
        h.backward(net[6], lambda m, gi, go: None)
        assert count_hooks(net) == 2
        raise ValueError
    assert count_hooks(net) == 0
