"""NumPy dropout: statistics, both conventions, gradients."""
import numpy as np
import pytest

from coursekit.nn.dropout import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_drop_fraction_and_expectation(p):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 10))
    outs = np.stack([dropout_forward(x, p, True, rng)[0] for _ in range(4000)])
    assert abs((outs == 0).mean() - p) < 0.01
    # inverted dropout: E[out] = x (standard error of the mean ~ |x| * sqrt(p/q/4000))
    se = np.abs(x) * np.sqrt(p / (1 - p) / len(outs))
    assert np.all(np.abs(outs.mean(axis=0) - x) < 5 * se + 1e-12)
    test_out, _ = dropout_forward(x, p, False, rng)
    np.testing.assert_array_equal(test_out, x)


def test_classic_expectation_equals_its_test_output():
    rng = np.random.default_rng(1)
    x, p = rng.normal(size=(5, 8)), 0.4
    outs = np.stack([dropout_forward(x, p, True, rng, mode="classic")[0] for _ in range(4000)])
    test_out, _ = dropout_forward(x, p, False, mode="classic")
    np.testing.assert_allclose(test_out, 0.6 * x)
    se = np.abs(x) * np.sqrt(p * (1 - p) / len(outs))
    assert np.all(np.abs(outs.mean(axis=0) - test_out) < 5 * se + 1e-12)


def test_two_conventions_define_the_same_network():
    """Classic dropout with weights W2 == inverted dropout with weights q*W2, train and test."""
    rng = np.random.default_rng(2)
    h, w2, p = rng.normal(size=(6, 10)), rng.normal(size=(10, 3)), 0.3
    q = 1 - p
    for train in (True, False):
        a, _ = dropout_forward(h, p, train, np.random.default_rng(7), mode="classic")
        b, _ = dropout_forward(h, p, train, np.random.default_rng(7), mode="inverted")
        np.testing.assert_allclose(a @ w2, b @ (q * w2))


def test_same_seed_same_mask_and_backward():
    x = np.random.default_rng(3).normal(size=(4, 3, 5, 5))
    o1, c1 = dropout_forward(x, 0.5, True, np.random.default_rng(9))
    o2, _ = dropout_forward(x, 0.5, True, 9)
    np.testing.assert_array_equal(o1, o2)
    dout = np.ones_like(x)
    dx = dropout_backward(dout, c1)
    np.testing.assert_array_equal(dx, c1["mask"])
    np.testing.assert_array_equal(dx == 0, o1 == 0)
    # gradient of sum(w * out) is w * mask: check numerically on one entry per kind
    w = np.random.default_rng(4).normal(size=x.shape)
    g = dropout_backward(w, c1)
    h = 1e-6
    for idx in [(0, 0, 0, 0), (1, 2, 3, 4), (3, 1, 2, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        num = ((w * dropout_forward(xp, 0.5, True, 9)[0]).sum()
               - (w * dropout_forward(xm, 0.5, True, 9)[0]).sum()) / (2 * h)
        assert abs(num - g[idx]) < 1e-6


def test_p_zero_is_identity_and_errors():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(dropout_forward(x, 0.0, True, 0)[0], x)
    with pytest.raises(ValueError, match="p"):
        dropout_forward(x, 1.0, True, 0)
    with pytest.raises(ValueError, match="mode"):
        dropout_forward(x, 0.5, True, 0, mode="weird")
    with pytest.raises(TypeError, match="rng"):
        dropout_forward(x, 0.5, True, "seed")
    with pytest.raises(TypeError, match="x must"):
        dropout_forward([1.0, 2.0], 0.5, True, 0)
