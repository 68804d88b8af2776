"""coursekit.optim: each optimizer equals torch.optim step for step; helpers reject bad input."""
import math

import numpy as np
import pytest
import torch

from coursekit import optim

CASES = [
    (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: optim.SGD(p, lr=0.05, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01)),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    (lambda p: optim.RMSProp(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    (lambda p: optim.RMSProp(p, lr=0.003, alpha=0.9, eps=1e-6, weight_decay=0.1),
     lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda p: optim.Adam(p, lr=0.02, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.05),
     lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.05)),
    (lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled=True),
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
]
IDS = ["sgd", "sgd_wd", "momentum", "nesterov_wd", "rmsprop", "rmsprop_opts", "adam",
       "adam_l2", "adamw"]


def _net(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(),
                               torch.nn.Linear(7, 3)).double()


@pytest.mark.parametrize("ours_factory, ref_factory", CASES, ids=IDS)
def test_step_for_step_equal_to_torch_optim(ours_factory, ref_factory):
    ours, ref = _net(0), _net(0)
    opt_a, opt_b = ours_factory(ours.parameters()), ref_factory(ref.parameters())
    gen = torch.Generator().manual_seed(1)
    for step in range(25):
        x = torch.randn(8, 5, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 3, (8,), generator=gen)
        for net, opt in ((ours, opt_a), (ref, opt_b)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        for pa, pb in zip(ours.parameters(), ref.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-10, atol=1e-12,
                                       msg=f"parameters differ after step {step + 1}")
    # the parameters really moved (the equality is not between two frozen copies)
    assert not torch.allclose(next(ours.parameters()), next(_net(0).parameters()))
    # the state is torch's, key for key (one name per quantity on both sides)
    for pa, pb in zip(ours.parameters(), ref.parameters()):
        sa, sb = opt_a.state[pa], opt_b.state[pb]
        assert set(sa) <= set(sb) and ("momentum_buffer" in sb) == ("momentum_buffer" in sa)
        for key, value in sa.items():
            torch.testing.assert_close(torch.as_tensor(value, dtype=torch.float64),
                                       torch.as_tensor(sb[key], dtype=torch.float64), msg=key)


def test_adam_first_step_is_lr_times_sign():
    # bias correction: after one step m_hat = g, v_hat = g^2, so the update is lr*sign(g)
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1, eps=0.0 + 1e-12)
    (w * torch.tensor([3.0, -0.5, 1e-3], dtype=torch.float64)).sum().backward()
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.9, 2.9], dtype=torch.float64))


def test_closure_is_called_and_returned():
    w = torch.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(2.0)
    torch.testing.assert_close(w.detach(), torch.ones(2))


@pytest.mark.parametrize("bad", [dict(lr=-1), dict(lr=0), dict(momentum=1.0),
                                 dict(nesterov=True), dict(weight_decay=-0.1)])
def test_sgd_rejects_bad_hyper_parameters(bad):
    kwargs = dict(lr=0.1) | bad
    with pytest.raises(ValueError):
        optim.SGD([torch.zeros(1, requires_grad=True)], **kwargs)


def test_adam_and_rmsprop_reject_bad_hyper_parameters():
    p = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSProp(p, alpha=1.5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.make_optimizer("adagrad", p, lr=0.1)


def test_scale_lr():
    assert optim.scale_lr(0.1, 512, 256) == pytest.approx(0.2)
    assert optim.scale_lr(0.1, 64, 256, rule="sqrt") == pytest.approx(0.05)
    with pytest.raises(ValueError):
        optim.scale_lr(0.1, 0)
    with pytest.raises(ValueError, match="rule"):
        optim.scale_lr(0.1, 32, rule="cubic")


def test_optimizer_path_on_ravine():
    sgd = optim.optimizer_path("ravine", "sgd", lr=0.1, steps=60)
    mom = optim.optimizer_path("ravine", "momentum", lr=0.1, steps=60, momentum=0.9)
    assert sgd.shape == (61, 2) and np.allclose(sgd[0], optim.SURFACES["ravine"]["start"])
    f = lambda p: optim.ravine(p[0], p[1])  # noqa: E731
    # both descend; momentum gets much further along the flat direction of the ravine
    assert f(sgd[-1]) < f(sgd[0]) and f(mom[-1]) < 0.05 * f(sgd[-1])
    # too high a learning rate diverges across the steep direction: the path is cut short
    assert len(optim.optimizer_path("ravine", "sgd", lr=1.2, steps=500)) < 501
    # SGD on the ravine equals the closed form w_t = (1 - lr*h)^t w_0, h = (0.1, 2.0)
    t = np.arange(61)[:, None]
    expected = np.array(optim.SURFACES["ravine"]["start"]) * (1 - 0.1 * np.array([0.1, 2.0])) ** t
    np.testing.assert_allclose(sgd, expected, rtol=1e-10, atol=1e-12)


def test_optimizer_path_rejects_unknown_surface():
    with pytest.raises(ValueError, match="unknown surface"):
        optim.optimizer_path("everest")
    with pytest.raises(ValueError, match="start"):
        optim.optimizer_path(lambda x, y: x * x + y * y)
    assert math.isclose(optim.rosenbrock(1.0, 1.0), 0.0)


def test_lesson_10_shows_each_update_rule_in_code():
    """Lesson 10 prints ``inspect.getsource`` of the rules; the rules must be in what it prints."""
    import inspect

    import nbformat
    from conftest import ROOT

    sgd, adam = inspect.getsource(optim.SGD.update), inspect.getsource(optim.Adam.update)
    assert 'state["momentum_buffer"].mul_(mu).add_(g)' in sgd and "g + mu * v" in sgd     # momentum, Nesterov
    assert "1 - b1 ** t" in adam and "1 - b2 ** t" in adam                          # bias correction
    assert "w.mul_(1 - lr * wd)" in adam and "g = g + wd * w" in adam               # AdamW vs L2
    nb = nbformat.read(ROOT / "notebooks" / "10_optimization_and_schedules.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "inspect.getsource(optim.SGD.update)" in code and "inspect.getsource(optim.Adam.update)" in code
