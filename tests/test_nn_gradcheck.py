"""Numerical gradient checks of every coursekit.nn layer and of a whole small network."""
import numpy as np
import pytest

from coursekit import nn

GTOL = 1e-6


def test_numerical_gradient_scalar_and_array_functions():
    x = np.array([0.5, -1.0, 2.0])
    g = nn.numerical_gradient(lambda v: np.sum(v ** 3), x)
    assert nn.rel_error(g, 3 * x ** 2) < 1e-8
    dout = np.array([1.0, 2.0, -1.0])
    g = nn.numerical_gradient(lambda v: np.sin(v), x, dout)
    assert nn.rel_error(g, np.cos(x) * dout) < 1e-8
    with pytest.raises(ValueError, match="dout"):
        nn.numerical_gradient(lambda v: v * 2, x)


def test_rel_error_detects_wrong_gradients():
    assert nn.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert nn.rel_error(np.ones(3), np.array([1.0, 1.0, 1.1])) > 1e-2
    x = np.array([1.0, 2.0])
    assert nn.gradcheck(lambda v: np.sum(v ** 2), x, 2 * x) < 1e-8
    assert nn.gradcheck(lambda v: np.sum(v ** 2), x, 2.2 * x) > 1e-2


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_conv_gradcheck(stride, padding):
    r = np.random.default_rng(stride * 10 + padding)
    x, w, b = r.standard_normal((2, 2, 7, 6)), r.standard_normal((3, 2, 3, 3)), r.standard_normal(3)
    out, cache = nn.conv2d_forward(x, w, b, stride, padding)
    dout = r.standard_normal(out.shape)
    dx, dw, db = nn.conv2d_backward(dout, cache)
    assert nn.gradcheck(lambda v: nn.conv2d_forward(v, w, b, stride, padding)[0], x, dx, dout) < GTOL
    assert nn.gradcheck(lambda v: nn.conv2d_forward(x, v, b, stride, padding)[0], w, dw, dout) < GTOL
    assert nn.gradcheck(lambda v: nn.conv2d_forward(x, w, v, stride, padding)[0], b, db, dout) < GTOL


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s", [(2, 2), (3, 2), (2, 1)])
def test_pool_gradcheck(kind, k, s):
    r = np.random.default_rng(k + s)
    x = r.standard_normal((2, 2, 7, 7))
    fwd, bwd = ((nn.maxpool2d_forward, nn.maxpool2d_backward) if kind == "max"
                else (nn.avgpool2d_forward, nn.avgpool2d_backward))
    out, cache = fwd(x, k, s)
    dout = r.standard_normal(out.shape)
    dx = bwd(dout, cache)
    assert nn.gradcheck(lambda v: fwd(v, k, s)[0], x, dx, dout) < GTOL


def test_relu_linear_softmax_gradcheck():
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 3, 2))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    out, cache = nn.relu_forward(x)
    dout = r.standard_normal(out.shape)
    assert nn.gradcheck(lambda v: nn.relu_forward(v)[0], x, nn.relu_backward(dout, cache), dout) < GTOL
    w, b = r.standard_normal((6, 5)), r.standard_normal(5)
    out, cache = nn.linear_forward(x, w, b)
    dout = r.standard_normal(out.shape)
    dx, dw, db = nn.linear_backward(dout, cache)
    assert nn.gradcheck(lambda v: nn.linear_forward(v, w, b)[0], x, dx, dout) < GTOL
    assert nn.gradcheck(lambda v: nn.linear_forward(x, v, b)[0], w, dw, dout) < GTOL
    scores, y = r.standard_normal((5, 4)), r.integers(0, 4, 5)
    _, ds = nn.softmax_cross_entropy(scores, y)
    assert nn.gradcheck(lambda v: nn.softmax_cross_entropy(v, y)[0], scores, ds) < GTOL


def test_whole_network_gradcheck():
    r = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=r), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=r), nn.ReLU(),
                          nn.AvgPool2d(2, 1), nn.Flatten(), nn.Linear(4, 3, rng=r))
    for p in model.params.values():
        if p.ndim == 1:
            p += r.standard_normal(p.shape) * 0.1
    x, y = r.standard_normal((3, 2, 8, 8)), np.array([0, 2, 1])

    def loss_of(_):
        return nn.softmax_cross_entropy(model.forward(x), y)[0]

    _, ds = nn.softmax_cross_entropy(model.forward(x), y)
    model.backward(ds)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert set(grads) == {"0.w", "0.b", "3.w", "3.b", "7.w", "7.b"}
    for name, p in model.params.items():
        assert nn.gradcheck(loss_of, p, grads[name], num_checks=25) < GTOL, name


def test_check_layers_reports_every_layer_small():
    errs = nn.check_layers()
    assert {"conv dx", "conv dw", "conv db", "maxpool dx", "avgpool dx", "relu dx",
            "linear dx", "linear dw", "softmax dscores"} <= set(errs)
    assert max(errs.values()) < 1e-6, errs
