"""coursekit.checks: every sanity check passes on a healthy model and fails on a broken one."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursekit import checks
from coursekit.regularization import l2_penalty

C = 5


def tiny_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, C))


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(20, 3, 8, 8, generator=g), torch.randint(0, C, (20,), generator=g)


def test_initial_loss_healthy(batch):
    r = checks.check_initial_loss(tiny_cnn(), *batch)
    assert r and r.expected == pytest.approx(math.log(C)), str(r)
    assert "PASS" in str(r)


def test_initial_loss_fails_missing_log(batch):
    # nll_loss on probabilities instead of log-probabilities: the "missing log" bug
    r = checks.check_initial_loss(tiny_cnn(), *batch,
                                  loss=lambda s, y: F.nll_loss(F.softmax(s, 1), y))
    assert not r and "log" in r.message and r.value < 0


def test_initial_loss_fails_oversized_init(batch):
    model = tiny_cnn()
    with torch.no_grad():
        model[-1].weight.mul_(100)
    r = checks.check_initial_loss(model, *batch)
    assert not r and "above" in r.message and "FAIL" in str(r)


def test_overfit_healthy_and_model_unchanged(batch):
    model = tiny_cnn()
    before = [p.detach().clone() for p in model.parameters()]
    r = checks.check_overfit_small_batch(model, *batch, lr=1e-2, steps=300)
    assert r and r.value == 1.0, str(r)
    assert r.details["losses"][-1] < r.details["losses"][0]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_overfit_fails_with_too_high_lr(batch):
    r = checks.check_overfit_small_batch(tiny_cnn(), *batch, optimizer="sgd", lr=50.0, steps=25)
    assert not r and r.value < 1.0 and ("lr=50.0" in r.message), str(r)


def test_overfit_fails_with_wrong_loss(batch):
    # a loss that ignores the labels (always class 0) cannot fit them
    wrong = lambda s, y: F.cross_entropy(s, torch.zeros_like(y))  # noqa: E731
    r = checks.check_overfit_small_batch(tiny_cnn(), *batch, loss=wrong, steps=40)
    assert not r and r.value < 0.5, str(r)


def test_regularization_check(batch):
    model = tiny_cnn()
    assert checks.check_regularization_raises_loss(model, *batch, lam=0.1)
    wrong_sign = checks.check_regularization_raises_loss(
        model, *batch, penalty=lambda m: -l2_penalty(m, 0.1))
    assert not wrong_sign and "did not raise" in wrong_sign.message
    detached = checks.check_regularization_raises_loss(
        model, *batch, penalty=lambda m: l2_penalty(m, 0.1).detach())
    assert not detached and "no gradient" in detached.message
    assert not checks.check_regularization_raises_loss(model, *batch, lam=0.0)


class SafeSqrt(nn.Module):
    """sqrt where positive, 0 elsewhere: finite forward, NaN gradient (the classic where-trap)."""

    def forward(self, x):
        return torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x))


class Log(nn.Module):
    def forward(self, x):
        return torch.log(x)


def test_nonfinite_healthy(batch):
    r = checks.find_nonfinite(tiny_cnn(), *batch)
    assert r and r.details["stage"] is None, str(r)


def test_nonfinite_forward_points_at_layer(batch):
    model = nn.Sequential(nn.Linear(192, 16), nn.Tanh(), nn.Linear(16, 16), Log(), nn.Linear(16, C))
    r = checks.find_nonfinite(model, batch[0].flatten(1), batch[1])
    assert not r and r.details == {"stage": "forward", "layer": "3", "type": "Log"}, str(r)


def test_nonfinite_backward_points_at_layer_and_op(batch):
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), SafeSqrt(), nn.Linear(16, C))
    r = checks.find_nonfinite(model, *batch)
    assert not r and r.details["stage"] == "backward", str(r)
    assert r.details["layer"] == "2" and r.details["type"] == "SafeSqrt"
    assert "Sqrt" in r.details["anomaly"]
    assert all(p.grad is None for p in model.parameters())


def test_nonfinite_parameters_and_input(batch):
    model = tiny_cnn()
    with torch.no_grad():
        model[4].weight[0, 0] = float("inf")
    r = checks.find_nonfinite(model, *batch)
    assert not r and r.details == {"stage": "parameters", "layer": "4.weight"}
    x = batch[0].clone()
    x[0, 0, 0, 0] = float("nan")
    assert checks.find_nonfinite(tiny_cnn(), x, batch[1]).details["stage"] == "input"


def test_diverged_training_detected(batch):
    # a too-high learning rate makes the weights blow up; the check names a parameter
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.ReLU(), nn.Linear(16, C))
    opt = torch.optim.SGD(model.parameters(), lr=1e35)
    for _ in range(4):
        opt.zero_grad()
        F.cross_entropy(model(batch[0]), batch[1]).backward()
        opt.step()
    r = checks.find_nonfinite(model, *batch)
    assert not r and r.details["stage"] in {"parameters", "forward", "loss", "backward"}, str(r)


def test_run_sanity_checks(batch, capsys):
    results = checks.run_sanity_checks(tiny_cnn(), *batch, steps=300)
    assert len(results) == 4 and all(results), [str(r) for r in results]
    assert capsys.readouterr().out.count("[PASS]") == 4


def test_bad_arguments(batch):
    with pytest.raises(TypeError, match="model"):
        checks.check_initial_loss("not a model", *batch)
    with pytest.raises(ValueError, match="y must be"):
        checks.check_initial_loss(tiny_cnn(), batch[0], batch[1][:3])
