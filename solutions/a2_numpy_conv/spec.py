"""Grading spec for a2_numpy_conv (instructor only, never released).

Visible tests use the visible test cells' inputs; hidden tests random shapes, strides, paddings
and values from ``rng`` (the instructor's secret seed), in fixed families (the labels feedback
shows) that separate the usual mistakes. Expected outputs are the reference
solution's, computed by the grader on the same inputs. float64 throughout.
"""
import numpy as np

from coursekit.grading.spec import Close, Ref, Step, Test, call, chain

TOL = Close(rtol=1e-6, atol=1e-8)


PAD0, PAD, STRIDE, NONSQUARE = "padding = 0", "padding > 0", "stride > 1", "non-square input and kernel"
CONV_FAMILIES = (PAD0, PAD, STRIDE, NONSQUARE)
POOL_FAMILIES = ("stride = kernel size", "non-square input", "overlapping windows (stride < kernel size)",
                 "overlapping windows (stride < kernel size)")


def _conv_shapes(rng, family):
    """Inputs of one conv case. Each family changes one thing from a square kernel and input,
    stride 1 and padding > 0, so that one mistake fails one family: an empty ``pad:-pad``
    slice fails "padding = 0", the width from the kernel height fails "non-square ..."."""
    n, c, f = (int(rng.integers(1, 4)) for _ in range(3))
    hh = ww = int(rng.integers(1, 4))
    stride, pad = 1, int(rng.integers(1, 3))
    h = w = int(rng.integers(4, 9))
    if family == PAD0:
        pad = 0
    elif family == STRIDE:
        stride = int(rng.integers(2, 4))
    elif family == NONSQUARE:
        hh = int(rng.integers(1, 4))
        ww = hh + int(rng.integers(1, 3))
        h = int(rng.integers(5, 8))
        w = h + int(rng.integers(1, 3))
        if rng.random() < 0.5:  # taller or wider
            hh, ww, h, w = ww, hh, w, h
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, hh, ww))
    b = rng.standard_normal(f)
    ho, wo = (h + 2 * pad - hh) // stride + 1, (w + 2 * pad - ww) // stride + 1
    return x, wt, b, stride, pad, rng.standard_normal((n, f, ho, wo))


def _pool_shapes(rng, family):
    """Max-pool inputs. Overlapping windows share their maximum (one planted entry), so that
    ``dx[...] = dout`` instead of ``+=`` always loses a gradient."""
    k = int(rng.integers(2, 4))
    s = int(rng.integers(1, k)) if family.startswith("overlapping") else k
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h = int(rng.integers(k + s, 9))
    w = int(rng.integers(k + s, 9)) if family == "non-square input" else h
    if family == "non-square input" and w == h:
        w = h - 1 if h - 1 >= k + s else h + 1
    x = rng.standard_normal((n, c, h, w))
    if s < k:
        x[:, :, s, s] = np.abs(x).max() + 1.0
    return x, k, s, rng.standard_normal((n, c, (h - k) // s + 1, (w - k) // s + 1))


def conv_forward_cases(rng, fn, per_family):
    cases = []
    for family in CONV_FAMILIES:
        for _ in range(per_family):
            x, w, b, s, p, _ = _conv_shapes(rng, family)
            cases.append(call(fn, x, w, b, stride=s, padding=p, pick=0, family=family))
    return cases


def conv_backward_cases(rng, prefix, per_family):
    cases = []
    for family in CONV_FAMILIES:
        for _ in range(per_family):
            x, w, b, s, p, dout = _conv_shapes(rng, family)
            cases.append(chain(Step(f"conv_forward_{prefix}", (x, w, b), {"stride": s, "padding": p}),
                               Step(f"conv_backward_{prefix}", (dout, Ref(0, 1))),
                               returns=[(1, 0), (1, 1), (1, 2)], family=family))
    return cases


def pool_cases(rng, backward):
    cases = []
    for family in POOL_FAMILIES:
        x, k, s, dout = _pool_shapes(rng, family)
        if backward:
            cases.append(chain(Step("maxpool_forward_naive", (x,), {"kernel_size": k, "stride": s}),
                               Step("maxpool_backward_naive", (dout, Ref(0, 1))), returns=[(1,)],
                               family=family))
        else:
            cases.append(call("maxpool_forward_naive", x, kernel_size=k, stride=s, pick=0, family=family))
    return cases


def numgrad_cases(rng):
    """Two random-dout cases and one each of dout = 1 (a gradient that ignores dout passes
    only there) and a 3-D x (loops over two axes fail there)."""
    def one(shape, family, ones=False):
        dout = np.ones(shape) if ones else rng.uniform(0.5, 2, size=shape)
        return call("gradcheck_example", rng.uniform(-3, 3, size=shape), dout, family=family)

    shape2 = lambda: (int(rng.integers(2, 5)), int(rng.integers(2, 6)))  # noqa: E731
    return [one(shape2(), "dout = 1 everywhere", ones=True),
            one(shape2(), "random dout"), one(shape2(), "random dout"),
            one((2, int(rng.integers(2, 4)), int(rng.integers(2, 4))), "3-D x")]


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
    numgrad = numgrad_cases(rng)
    return [
        Test("test_conv_forward_naive", 2, v["test_conv_forward_naive"], compare=TOL),
        Test("hidden_conv_forward_naive", 3, conv_forward_cases(rng, "conv_forward_naive", 2), hidden=True, compare=TOL),
        Test("test_conv_backward_naive", 2, v["test_conv_backward_naive"], compare=TOL),
        Test("hidden_conv_backward_naive", 3, conv_backward_cases(rng, "naive", 2), hidden=True, compare=TOL),
        Test("test_maxpool_forward_naive", 1, v["test_maxpool_forward_naive"], compare=TOL),
        Test("hidden_maxpool_forward_naive", 1, pool_cases(rng, False), hidden=True, compare=TOL),
        Test("test_maxpool_backward_naive", 1, v["test_maxpool_backward_naive"], compare=TOL),
        Test("hidden_maxpool_backward_naive", 2, pool_cases(rng, True), hidden=True, compare=TOL),
        Test("test_conv_fast", 2, v["test_conv_fast"], compare=TOL),
        Test("hidden_conv_forward_fast", 2, conv_forward_cases(rng, "conv_forward_fast", 1), hidden=True, compare=TOL),
        Test("hidden_conv_backward_fast", 2, conv_backward_cases(rng, "fast", 1), hidden=True, compare=TOL),
        Test("test_numerical_gradient", 1, v["test_numerical_gradient"], compare=grad_tol),
        Test("hidden_numerical_gradient", 2, numgrad, hidden=True, compare=grad_tol),
    ]
