"""coursekit.monitor and coursekit.lr_finder on tiny models."""
import numpy as np
import pytest
import torch
from torch import nn

from coursekit import lr_finder, monitor


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))


def test_weight_and_grad_values():
    net = _mlp()
    w = monitor.weight_values(net)
    assert list(w) == ["0.weight", "2.weight", "4.weight"] and w["2.weight"].shape == (1024,)
    np.testing.assert_array_equal(w["0.weight"], net[0].weight.detach().numpy().ravel())
    with pytest.raises(ValueError, match="backward"):
        monitor.grad_values(net)
    nn.functional.cross_entropy(net(torch.randn(8, 10)), torch.zeros(8, dtype=torch.long)).backward()
    np.testing.assert_array_equal(monitor.grad_values(net)["4.weight"], net[4].weight.grad.numpy().ravel())


def test_dead_relu_fraction_counts_killed_units():
    net = _mlp()
    x = torch.randn(256, 10)
    healthy = monitor.dead_relu_fraction(net, x)
    assert set(healthy) == {"1", "3"} and healthy["1"] < 0.1
    with torch.no_grad():                 # kill 8 of the 32 first-layer units
        net[0].bias[:8] = -100.0
    assert monitor.dead_relu_fraction(net, x)["1"] == pytest.approx(8 / 32)
    acts = monitor.activation_values(net, x)
    assert acts["1"].shape == (256, 32) and (acts["1"][:, :8] == 0).all()
    assert net.training                   # mode restored


def test_update_ratio_report():
    hist = {"update_ratio": {"0.weight": [5e-2, 1e-3], "2.weight": [1e-6, 1e-5]}}
    rep = monitor.update_ratio_report(hist)
    assert rep["0.weight"] == (1e-3, "healthy") and "too small" in rep["2.weight"][1]
    assert "too large" in monitor.update_ratio_report(hist, epoch=0)["0.weight"][1]
    assert "too small" in monitor.update_ratio_verdict(5e-4)       # the lectures' band starts at 1e-3
    with pytest.raises(ValueError, match="fit"):
        monitor.update_ratio_report({"update_ratio": {}})
    with pytest.raises(TypeError, match="History"):
        monitor.update_ratio_report(None)
    # huge first steps, then nothing: not "learning rate too low"
    died = {"update_ratio": {"0.weight": [0.2, 0.0]}, "step_update_ratio": {"0.weight": [0.5, 0.3, 0.0]}}
    verdict = monitor.update_ratio_report(died)["0.weight"][1]
    assert "too large at first" in verdict and "lower the learning rate" in verdict


def _run(ratio_steps, last, loss, diverged=False):
    return {"update_ratio": {"0.weight": [last]}, "step_update_ratio": {"0.weight": ratio_steps},
            "train_loss": [loss], "diverged": diverged}


def test_diagnose_run_reads_loss_ratios_and_dead_relus():
    dead = {"1": 0.1, "4": 1.0}
    d = monitor.diagnose_run(_run([0.3, 1.2, 0.0], 0.0, 2.35), dead, num_classes=10)
    assert d.startswith("diverged, then died") and "lower the learning rate" in d
    assert d.evidence["early_peak_ratio"] == 1.2 and d.evidence["max_dead_fraction"] == 1.0
    assert monitor.diagnose_run(_run([1e-5], 5e-5, 2.28), {"1": 0.0}, 10).startswith("learning rate too low")
    assert monitor.diagnose_run(_run([8e-3], 2e-3, 0.2), {"1": 0.1}, 10).startswith("healthy")
    assert monitor.diagnose_run(_run([1.0], float("nan"), float("nan"), True), None, 10).startswith("diverged (")
    with pytest.raises(TypeError, match="History"):
        monitor.diagnose_run(None)
    with pytest.raises(TypeError, match="dead_relu_fraction"):
        monitor.diagnose_run(_run([1e-3], 1e-3, 1.0), dead=[0.5])


def test_wrong_channel_count_is_a_clear_error():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    with pytest.raises(ValueError, match="expecting \\(N, 1, H, W\\).*channel"):
        monitor.dead_relu_fraction(net, torch.randn(8, 3, 8, 8))
    assert set(monitor.dead_relu_fraction(net, torch.randn(8, 1, 8, 8))) == {"1"}
    with pytest.raises(ValueError, match="Linear"):
        monitor.dead_relu_fraction(_mlp(), torch.randn(8, 7))


def _loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 10, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32,
                                       shuffle=True, generator=g)


def test_lr_finder_shape_of_curve_and_model_untouched():
    net = _mlp()
    before = [p.detach().clone() for p in net.parameters()]
    res = lr_finder.lr_find(net, _loader(), start_lr=1e-5, end_lr=100, num_steps=120)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert res.diverged and len(res.lrs) < 120          # 100 is far too high: it stops early
    assert np.all(np.diff(np.log(res.lrs)) > 0)
    # the loss is flat at tiny rates and lowest somewhere in between
    assert res.smoothed.min() < 0.8 * res.smoothed[:10].mean()
    assert 1e-4 < res.suggestion <= res.min_lr < 100
    assert "suggestion" in repr(res)


def test_lr_finder_bad_input():
    with pytest.raises(ValueError, match="start_lr"):
        lr_finder.lr_find(_mlp(), _loader(), start_lr=1.0, end_lr=0.1)
    with pytest.raises(TypeError, match="Module"):
        lr_finder.lr_find("net", _loader())
