"""coursekit.batch_dependence (fixed-step loaders, accuracy with batch statistics) and
deep_mlp's norm option (BatchNorm vs GroupNorm)."""
import pytest
import torch
from torch import nn

from coursekit.batch_dependence import accuracy_with_batch_statistics, limited_steps
from coursekit.models import deep_mlp


def test_limited_steps_cycles_and_stops():
    loader = [(torch.zeros(2, 3), torch.zeros(2))] * 3
    assert len(limited_steps(loader, 7)) == 7 and len(list(limited_steps(loader, 7))) == 7
    assert len(list(limited_steps(loader, 2))) == 2
    with pytest.raises(ValueError):
        limited_steps(loader, 0)
    with pytest.raises(ValueError):
        list(limited_steps([], 3))


def test_deep_mlp_norm_option():
    assert any(isinstance(m, nn.GroupNorm) for m in deep_mlp(8, 3, depth=2, width=16, norm="group"))
    bn = deep_mlp(8, 3, depth=2, width=16, batchnorm=True)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in bn) == 2
    assert sum(isinstance(m, nn.BatchNorm1d) for m in deep_mlp(8, 3, depth=2, width=16, norm="batch")) == 2
    with pytest.raises(ValueError):
        deep_mlp(8, norm="layer")


def test_accuracy_with_batch_statistics_leaves_the_model_alone():
    torch.manual_seed(0)
    net = deep_mlp(6, 3, depth=2, width=16, norm="batch").eval()
    x, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    acc = accuracy_with_batch_statistics(net, x, y, batch_size=2)
    assert 0 <= acc <= 1 and not net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    gn = deep_mlp(6, 3, depth=2, width=16, norm="group").eval()    # no batch dependence
    with torch.no_grad():
        eval_acc = (gn(x).argmax(1) == y).float().mean().item()
    assert accuracy_with_batch_statistics(gn, x, y, 2) == pytest.approx(eval_acc)
    with pytest.raises(ValueError):
        accuracy_with_batch_statistics(net, x, y, 100)


def test_small_batch_study_reports_every_row_over_the_seeds():
    from coursekit.batch_dependence import small_batch_study
    from coursekit.data import dataloaders

    large, val = dataloaders("digits", batch_size=64)
    pairs, _ = dataloaders("digits", batch_size=2)
    res = small_batch_study(large, pairs, val, steps=3, seeds=[0, 1])
    assert list(res) == ["BN@64 eval mode", "BN@64 train mode, batches of 2", "BN@2 eval mode",
                         "BN@2 train mode, batches of 2", "GN@2 eval mode", "GN@2 batches of 2"]
    assert all(len(v.values) == 2 and all(0 <= a <= 1 for a in v.values) for v in res.values())
    assert res["GN@2 eval mode"].values == res["GN@2 batches of 2"].values   # GroupNorm: no batch statistics
