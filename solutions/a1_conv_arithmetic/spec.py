"""Grading spec for a1_conv_arithmetic (instructor only, never released).

Visible tests re-use the literal cases of the notebook's visible test cells. Hidden tests draw
their inputs from ``rng`` (seeded with the instructor's secret seed at grading time) in fixed
families, so that a given mistake (e.g. ignoring dilation) always loses the same share of points.
"""
from coursekit.grading.spec import Exact, Test, call, labelled, notebook_literal


def _visible(grade_id, fn=None):
    cases = []
    for row in notebook_literal(__file__, grade_id):
        name, (args, kwargs, expected) = (fn, row) if fn else (row[0], row[1:])
        if name == "receptive_field":
            expected = tuple(expected)
        cases.append(call(name, *args, expected=[expected], **kwargs))
    return cases


def _i(rng, lo, hi):
    return int(rng.integers(lo, hi + 1))


def hidden_conv(rng):
    """4 cases per family; a stride > 1 case leaves a last window that does not fit (the
    remainder is over half the stride, so round() or ceil instead of floor always shows)."""
    cases = []
    for family in ("stride 1", "stride > 1", "dilation > 1"):
        for _ in range(4):
            k = _i(rng, 2, 5) if family == "dilation > 1" else _i(rng, 1, 7)
            d = _i(rng, 2, 3) if family == "dilation > 1" else 1
            s = _i(rng, 3, 4) if family == "stride > 1" else 1
            p = _i(rng, 0, k // 2)
            n = _i(rng, max(1, d * (k - 1) + 1 - 2 * p), 64)
            if s > 1:  # n + 2p - k = s * m + (s - 1)
                n = k - 2 * p + s * _i(rng, 1, 12) + s - 1
            cases.append(call("conv_output_size", n, k, stride=s, padding=p, dilation=d, family=family))
    return cases


def hidden_fits(rng):
    cases = []
    for fits in (True, False):
        family = "windows fit exactly" if fits else "windows leave a remainder"
        for _ in range(6):
            k, s, d, p = _i(rng, 1, 5), _i(rng, 2, 4), _i(rng, 1, 2), _i(rng, 0, 1)
            n = (_i(rng, 1, 12) - 1) * s + d * (k - 1) + 1 - 2 * p
            n = n if n >= 1 else n + s * ((1 - n) // s + 1)
            if not fits:
                n += _i(rng, 1, s - 1)
            cases.append(call("stride_fits", n, k, stride=s, padding=p, dilation=d, family=family))
    return cases


def hidden_pool(rng):
    cases = []
    for i in range(6):  # floor mode (stride=None for half of them)
        k = _i(rng, 2, 4)
        s = None if i % 2 else _i(rng, 1, k)
        p = _i(rng, 0, k // 2)
        n = _i(rng, k, 40)
        family = "stride omitted (= kernel size)" if s is None else "stride given"
        cases.append(call("pool_output_size", n, k, stride=s, padding=p, family=family))
    for _ in range(6):  # ceil mode where ceil and floor differ (no padding, stride <= kernel)
        k = _i(rng, 2, 5)
        s = _i(rng, 2, k)
        n = k + s * _i(rng, 1, 8) + _i(rng, 1, s - 1)
        cases.append(call("pool_output_size", n, k, stride=s, ceil_mode=True, family="ceil_mode=True"))
    return cases


def hidden_transpose(rng):
    cases = []
    for i in range(8):
        k, s = _i(rng, 2, 5), _i(rng, 2, 3)
        op = _i(rng, 1, s - 1) if i >= 4 else 0
        d = _i(rng, 1, 2) if i >= 4 else 1
        family = "output_padding > 0 (dilation 1 or 2)" if i >= 4 else "output_padding = 0"
        cases.append(call("conv_transpose_output_size", _i(rng, 2, 20), k, stride=s,
                          padding=_i(rng, 0, (k - 1) // 2), output_padding=op, dilation=d, family=family))
    return cases


def hidden_params(rng):
    cases = labelled("conv with bias", [call("conv_params", _i(rng, 1, 512), _i(rng, 1, 512), _i(rng, 1, 7))
                                        for _ in range(3)])
    cases += labelled("conv without bias (non-square kernel)",
                      [call("conv_params", _i(rng, 1, 64), _i(rng, 1, 64), (_i(rng, 1, 7), _i(rng, 1, 7)),
                            bias=False) for _ in range(2)])
    cases += labelled("linear with bias",
                      [call("linear_params", _i(rng, 1, 10**5), _i(rng, 1, 4096)) for _ in range(3)])
    cases += labelled("linear without bias",
                      [call("linear_params", _i(rng, 1, 10**5), _i(rng, 1, 4096), bias=False)
                       for _ in range(2)])
    return cases


def hidden_rf(rng):
    cases = []
    for dilated in (False, True):
        for _ in range(4):
            layers = [(_i(rng, 1, 7), _i(rng, 1, 3), _i(rng, 1, 3) if dilated else 1)
                      for _ in range(_i(rng, 2, 6))]
            if dilated:
                layers[0] = (_i(rng, 2, 7), layers[0][1], _i(rng, 2, 3))
            cases.append(call("receptive_field", layers,
                              family="some dilation > 1" if dilated else "no dilation"))
    return cases


def tests(rng, fast):
    """The 20 points of a1 (see the notebook for what each test checks)."""
    ex = Exact()
    return [
        Test("test_conv_output_size", 2, _visible("test_conv_output_size", "conv_output_size"), compare=ex),
        Test("hidden_conv_output_size", 3, hidden_conv(rng), hidden=True, compare=ex),
        Test("test_stride_fits", 1, _visible("test_stride_fits", "stride_fits"), compare=ex),
        Test("hidden_stride_fits", 1, hidden_fits(rng), hidden=True, compare=ex),
        Test("test_pool_output_size", 1, _visible("test_pool_output_size", "pool_output_size"), compare=ex),
        Test("hidden_pool_output_size", 2, hidden_pool(rng), hidden=True, compare=ex),
        Test("test_conv_transpose_output_size", 1,
             _visible("test_conv_transpose_output_size", "conv_transpose_output_size"), compare=ex),
        Test("hidden_conv_transpose_output_size", 2, hidden_transpose(rng), hidden=True, compare=ex),
        Test("test_params", 2, _visible("test_params"), compare=ex),
        Test("hidden_params", 1, hidden_params(rng), hidden=True, compare=ex),
        Test("test_receptive_field", 2, _visible("test_receptive_field", "receptive_field"), compare=ex),
        Test("hidden_receptive_field", 2, hidden_rf(rng), hidden=True, compare=ex),
    ]
