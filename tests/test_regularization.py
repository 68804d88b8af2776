"""coursekit.regularization: penalties equal their formulas; L2 in the loss equals weight decay."""
import pytest
import torch
from torch import nn

from coursekit import optim, regularization as reg


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).double()


def test_penalties_equal_formulas():
    net = _net()
    ws = [net[0].weight, net[2].weight]
    l2 = 0.3 / 2 * sum((w ** 2).sum() for w in ws)
    l1 = 0.3 * sum(w.abs().sum() for w in ws)
    torch.testing.assert_close(reg.l2_penalty(net, 0.3), l2)
    torch.testing.assert_close(reg.l1_penalty(net, 0.3), l1)
    torch.testing.assert_close(reg.elastic_net_penalty(net, 0.3, l1_ratio=0.25), 0.25 * l1 + 0.75 * l2)
    with_bias = reg.l2_penalty(net, 0.3, include_bias=True)
    assert with_bias > l2
    torch.testing.assert_close(reg.make_penalty("elastic", 0.3, 1.0)(net), l1)
    assert float(reg.make_penalty("none", 0.3)(net)) == 0.0


def test_l2_in_the_loss_equals_sgd_weight_decay():
    a, b = _net(), _net()
    opt_a = optim.SGD(a.parameters(), lr=0.1, momentum=0.9)
    # weight_decay acts on every parameter, so penalize the biases too for the equality
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9, weight_decay=0.05)
    g = torch.Generator().manual_seed(0)
    for _ in range(10):
        x = torch.randn(16, 4, generator=g, dtype=torch.float64)
        y = torch.randint(0, 3, (16,), generator=g)
        opt_a.zero_grad()
        (nn.functional.cross_entropy(a(x), y) + reg.l2_penalty(a, 0.05, include_bias=True)).backward()
        opt_a.step()
        opt_b.zero_grad()
        nn.functional.cross_entropy(b(x), y).backward()
        opt_b.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12)


def test_l1_makes_weights_sparse_and_l2_shrinks_them():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 20, generator=g)
    y = x[:, :3].sum(1, keepdim=True) + 0.5 * torch.randn(200, 1, generator=g)  # 3 of 20 matter

    def train(kind, lam):
        torch.manual_seed(1)
        lin = nn.Linear(20, 1)
        opt = torch.optim.SGD(lin.parameters(), lr=0.05)
        pen = reg.make_penalty(kind, lam)
        for _ in range(400):
            opt.zero_grad()
            (nn.functional.mse_loss(lin(x), y) + pen(lin)).backward()
            opt.step()
        return lin

    plain, l2, l1 = train("none", 0), train("l2", 0.5), train("l1", 0.05)
    assert l2.weight.norm() < 0.9 * plain.weight.norm()
    assert reg.sparsity(l1, 0.01) > reg.sparsity(plain, 0.01) + 0.3


def test_proximal_l1_gives_exact_zeros_and_the_subgradient_does_not():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 20, generator=g)
    y = x[:, :3].sum(1, keepdim=True) + 0.5 * torch.randn(200, 1, generator=g)

    def train(proximal):
        torch.manual_seed(1)
        lin = nn.Linear(20, 1)
        opt = torch.optim.SGD(lin.parameters(), lr=0.05)
        opt = reg.ProximalL1(opt, lin, 0.05) if proximal else opt
        for _ in range(400):
            opt.zero_grad()
            loss = nn.functional.mse_loss(lin(x), y)
            (loss if proximal else loss + reg.l1_penalty(lin, 0.05)).backward()
            opt.step()
        return lin

    sub, prox = train(False), train(True)
    assert reg.exact_zero_fraction(sub) == 0.0               # near zero, never at it
    assert reg.exact_zero_fraction(prox) >= 0.5              # 17 of 20 inputs are noise
    assert (prox.weight[0, :3].abs() > 0.5).all()            # the 3 that matter survive
    w = torch.tensor([-0.3, -0.05, 0.0, 0.02, 0.4])
    reg.soft_threshold_([w], 0.1)
    torch.testing.assert_close(w, torch.tensor([-0.2, 0.0, 0.0, 0.0, 0.3]))


def test_bad_input():
    with pytest.raises(ValueError, match="lam"):
        reg.l2_penalty(_net(), -1)
    with pytest.raises(ValueError, match="l1_ratio"):
        reg.elastic_net_penalty(_net(), 0.1, l1_ratio=2)
    with pytest.raises(ValueError, match="kind"):
        reg.make_penalty("l3", 0.1)
    with pytest.raises(TypeError, match="Module"):
        reg.l1_penalty([torch.zeros(2)], 0.1)
    with pytest.raises(TypeError, match="optimizer"):
        reg.ProximalL1("sgd", _net(), 0.1)
