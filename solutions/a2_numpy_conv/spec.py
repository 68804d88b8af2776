"""Grading spec for a2_numpy_conv (instructor only, never released).

Visible tests use the visible test cells' inputs; hidden tests random shapes, strides, paddings
and values from ``rng`` (the instructor's secret seed). Expected outputs are the reference
solution's, computed by the grader on the same inputs. float64 throughout.
"""
import numpy as np

from coursekit.grading.spec import Close, Ref, Step, Test, call, chain

TOL = Close(rtol=1e-6, atol=1e-8)


def _conv_shapes(rng):
    n, c, f = (int(rng.integers(1, 4)) for _ in range(3))
    hh, ww = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    stride, pad = int(rng.integers(1, 3)), int(rng.integers(0, 3))
    h = int(rng.integers(max(hh, 4), 9))
    w = int(rng.integers(max(ww, 4), 9))
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, hh, ww))
    b = rng.standard_normal(f)
    ho, wo = (h + 2 * pad - hh) // stride + 1, (w + 2 * pad - ww) // stride + 1
    return x, wt, b, stride, pad, rng.standard_normal((n, f, ho, wo))


def _pool_shapes(rng):
    k = int(rng.integers(2, 4))
    s = int(rng.integers(1, k + 1))
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h, w = int(rng.integers(k + 1, 9)), int(rng.integers(k + 1, 9))
    x = rng.standard_normal((n, c, h, w))
    return x, k, s, rng.standard_normal((n, c, (h - k) // s + 1, (w - k) // s + 1))


def conv_forward_cases(rng, fn, count):
    cases = []
    for _ in range(count):
        x, w, b, s, p, _ = _conv_shapes(rng)
        cases.append(call(fn, x, w, b, stride=s, padding=p, pick=0))
    return cases


def conv_backward_cases(rng, prefix, count):
    cases = []
    for _ in range(count):
        x, w, b, s, p, dout = _conv_shapes(rng)
        cases.append(chain(Step(f"conv_forward_{prefix}", (x, w, b), {"stride": s, "padding": p}),
                           Step(f"conv_backward_{prefix}", (dout, Ref(0, 1))),
                           returns=[(1, 0), (1, 1), (1, 2)]))
    return cases


def pool_cases(rng, backward, count):
    cases = []
    for _ in range(count):
        x, k, s, dout = _pool_shapes(rng)
        if backward:
            cases.append(chain(Step("maxpool_forward_naive", (x,), {"kernel_size": k, "stride": s}),
                               Step("maxpool_backward_naive", (dout, Ref(0, 1))), returns=[(1,)]))
        else:
            cases.append(call("maxpool_forward_naive", x, kernel_size=k, stride=s, pick=0))
    return cases


def visible():
    """The visible test cells' inputs, rebuilt identically."""
    out = {}
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out["test_conv_forward_naive"] = [call("conv_forward_naive", x, w, b, stride=2, padding=1, pick=0)]
    rng = np.random.default_rng(231)
    x, w, b = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    dout = rng.standard_normal((1, 2, 4, 4))
    out["test_conv_backward_naive"] = [chain(
        Step("conv_forward_naive", (x, w, b), {"stride": 1, "padding": 1}),
        Step("conv_backward_naive", (dout, Ref(0, 1))), returns=[(1, 0), (1, 1), (1, 2)])]
    out["test_conv_fast"] = [chain(
        Step("conv_forward_fast", (x, w, b), {"stride": 1, "padding": 1}),
        Step("conv_backward_fast", (dout, Ref(0, 1))), returns=[(0, 0), (1, 0), (1, 1), (1, 2)])]
    xp = np.array([[[[1, 3, 2, 0], [4, 6, 5, 7], [8, 1, 0, 2], [3, 9, 4, 1]]]], dtype=float) / 10
    out["test_maxpool_forward_naive"] = [call("maxpool_forward_naive", xp, kernel_size=2, stride=2, pick=0)]
    rng = np.random.default_rng(7)
    x, dout = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((1, 2, 2, 2))
    out["test_maxpool_backward_naive"] = [chain(
        Step("maxpool_forward_naive", (x,), {"kernel_size": 2, "stride": 2}),
        Step("maxpool_backward_naive", (dout, Ref(0, 1))), returns=[(1,)])]
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    dout = np.linspace(1, 2, 12).reshape(3, 4)
    out["test_numerical_gradient"] = [call("gradcheck_example", x, dout)]
    return out


def tests(rng, fast):
    """The 24 points of a2."""
    v = visible()
    grad_tol = Close(rtol=1e-6, atol=1e-7)
    numgrad = []
    for _ in range(4):
        shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
        numgrad.append(call("gradcheck_example", rng.uniform(-3, 3, size=shape), rng.uniform(0.5, 2, size=shape)))
    return [
        Test("test_conv_forward_naive", 2, v["test_conv_forward_naive"], compare=TOL),
        Test("hidden_conv_forward_naive", 3, conv_forward_cases(rng, "conv_forward_naive", 6), hidden=True, compare=TOL),
        Test("test_conv_backward_naive", 2, v["test_conv_backward_naive"], compare=TOL),
        Test("hidden_conv_backward_naive", 3, conv_backward_cases(rng, "naive", 6), hidden=True, compare=TOL),
        Test("test_maxpool_forward_naive", 1, v["test_maxpool_forward_naive"], compare=TOL),
        Test("hidden_maxpool_forward_naive", 1, pool_cases(rng, False, 4), hidden=True, compare=TOL),
        Test("test_maxpool_backward_naive", 1, v["test_maxpool_backward_naive"], compare=TOL),
        Test("hidden_maxpool_backward_naive", 2, pool_cases(rng, True, 4), hidden=True, compare=TOL),
        Test("test_conv_fast", 2, v["test_conv_fast"], compare=TOL),
        Test("hidden_conv_forward_fast", 2, conv_forward_cases(rng, "conv_forward_fast", 4), hidden=True, compare=TOL),
        Test("hidden_conv_backward_fast", 2, conv_backward_cases(rng, "fast", 4), hidden=True, compare=TOL),
        Test("test_numerical_gradient", 1, v["test_numerical_gradient"], compare=grad_tol),
        Test("hidden_numerical_gradient", 2, numgrad, hidden=True, compare=grad_tol),
    ]
