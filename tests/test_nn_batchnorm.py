"""NumPy batch normalization against torch's BatchNorm1d/2d, step for step."""
import numpy as np
import pytest
import torch

from coursekit.nn.batchnorm import batchnorm_backward, batchnorm_forward, batchnorm_state


def _torch_bn(shape, gamma, beta, momentum):
    cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    bn = cls(shape[1], momentum=momentum, eps=1e-5).double()
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    return bn


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6)])
def test_matches_torch_step_for_step(shape):
    rng = np.random.default_rng(0)
    c = shape[1]
    gamma, beta = rng.normal(1, 0.3, c), rng.normal(0, 0.3, c)
    bn = _torch_bn(shape, gamma, beta, momentum=0.2)
    state = {}
    for step in range(4):
        x = rng.normal(step, 1 + step, shape)
        dout = rng.normal(size=shape)
        out, cache = batchnorm_forward(x, gamma, beta, state, train=True, momentum=0.2)
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
        xt = torch.from_numpy(x).requires_grad_()
        bn.train()
        bn.weight.grad = bn.bias.grad = None
        ot = bn(xt)
        ot.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(state["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(state["running_var"], bn.running_var.numpy(), rtol=1e-12)
        assert state["num_batches_tracked"] == int(bn.num_batches_tracked) == step + 1
        # evaluation mode uses the running statistics, in both implementations
        xe = rng.normal(size=shape)
        oe, ce = batchnorm_forward(xe, gamma, beta, state, train=False)
        bn.eval()
        xet = torch.from_numpy(xe).requires_grad_()
        oet = bn(xet)
        oet.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(oe, oet.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(batchnorm_backward(dout, ce)[0], xet.grad.numpy(), rtol=1e-10)


def _numgrad(f, x, h=1e-6):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 3)])
@pytest.mark.parametrize("train", [True, False])
def test_gradient_check(shape, train):
    rng = np.random.default_rng(1)
    c = shape[1]
    x = rng.normal(size=shape)
    gamma, beta = rng.normal(1, 0.5, c), rng.normal(size=c)
    w = rng.normal(size=shape)  # loss = sum(w * out) so that dout = w
    state = {"running_mean": rng.normal(size=c), "running_var": rng.uniform(0.5, 2, c)}

    def loss():
        s = {k: v.copy() for k, v in state.items()}
        return float((w * batchnorm_forward(x, gamma, beta, s, train=train)[0]).sum())

    _, cache = batchnorm_forward(x, gamma, beta, {k: v.copy() for k, v in state.items()},
                                 train=train)
    dx, dgamma, dbeta = batchnorm_backward(w, cache)
    for analytic, param in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        num = _numgrad(loss, param)
        rel = np.abs(analytic - num).max() / max(1e-8, np.abs(num).max())
        assert rel < 1e-6, rel


def test_training_output_is_normalized():
    x = np.random.default_rng(2).normal(5, 3, (64, 3, 4, 4))
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-4)


def test_cs231n_convention():
    rng = np.random.default_rng(3)
    x = rng.normal(2, 3, (10, 4))
    t, c = {}, {}
    batchnorm_forward(x, np.ones(4), np.zeros(4), t, momentum=0.1)
    batchnorm_forward(x, np.ones(4), np.zeros(4), c, momentum=0.9, convention="cs231n")
    np.testing.assert_allclose(t["running_mean"], c["running_mean"])  # same weighting
    # torch tracks the unbiased variance, cs231n the biased one
    biased, unbiased = x.var(axis=0), x.var(axis=0, ddof=1)
    np.testing.assert_allclose(t["running_var"], 0.9 + 0.1 * unbiased)
    np.testing.assert_allclose(c["running_var"], 0.9 + 0.1 * biased)


def test_state_helper_and_errors():
    s = batchnorm_state(3)
    assert s["running_mean"].tolist() == [0, 0, 0] and s["running_var"].tolist() == [1, 1, 1]
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="gamma"):
        batchnorm_forward(x, np.ones(2), np.zeros(3), {})
    with pytest.raises(ValueError, match="x must"):
        batchnorm_forward(np.zeros((4, 3, 2)), np.ones(3), np.zeros(3), {})
    with pytest.raises(TypeError, match="state"):
        batchnorm_forward(x, np.ones(3), np.zeros(3), None)
    with pytest.raises(ValueError, match="more than one value"):
        batchnorm_forward(np.zeros((1, 3)), np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match="convention"):
        batchnorm_forward(x, np.ones(3), np.zeros(3), {}, convention="keras")
