"""coursekit.arithmetic against the shapes torch actually produces, and the lectures' examples."""
import itertools
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit import arithmetic as ar
from coursekit.arithmetic import (conv_output_size, conv_params, conv_transpose_output_size,
                                  linear_params, pool_output_size, receptive_field)

SIZES = range(1, 21)
KERNELS = range(1, 8)
STRIDES = range(1, 5)
DILATIONS = range(1, 4)


def _combos():
    for n, k, s, d in itertools.product(SIZES, KERNELS, STRIDES, DILATIONS):
        for p in range(k // 2 + 1):
            yield n, k, s, p, d


def _torch_side(fn, *args, **kw):
    """Output side length torch gives, or None when torch refuses."""
    try:
        return fn(*args, **kw).shape[-1]
    except RuntimeError:
        return None


def _ours(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except ValueError:
        return None


def _weight(k):
    return torch.zeros(1, 1, k)


def _x(n):
    """A tiny 1D input: torch applies the same per-side rule to every spatial dimension,
    and 1D keeps the sweep fast (a 2D cross-check follows)."""
    return torch.zeros(1, 1, n)


# ----------------------------------------------------------------------------- sweeps
def test_conv_output_size_sweep_matches_torch():
    bad, refused = [], 0
    for n, k, s, p, d in _combos():
        want = _torch_side(F.conv1d, _x(n), _weight(k), stride=s,
                           padding=p, dilation=d)
        refused += want is None
        got = _ours(conv_output_size, n, k, s, p, d)
        if got != want:
            bad.append(((n, k, s, p, d), got, want))
    assert not bad, f"{len(bad)} mismatches (args, ours, torch), e.g. {bad[:5]}"
    assert refused > 100  # the sweep does reach kernels larger than the padded input


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("mode", ["same", "valid"])
def test_conv_string_padding_matches_torch(mode):
    bad = []
    for n, k, d in itertools.product(SIZES, KERNELS, DILATIONS):
        want = _torch_side(F.conv1d, _x(n), _weight(k), padding=mode,
                           dilation=d)
        got = _ours(conv_output_size, n, k, 1, mode, d)
        if got != want:
            bad.append(((n, k, mode, d), got, want))
    assert not bad, bad[:5]


def _torch_fit(n, k, s, p, d, out):
    """What torch says about a setting, independently of coursekit: (tiles, reads, blind).

    tiles: the transposed conv of the output gives the input size back (no leftover pixels);
    reads: how many windows read each input pixel (a transposed conv of ones with a ones kernel);
    blind: the number of windows that see only padding (a conv of ones that gives 0)."""
    back = _torch_side(F.conv_transpose1d, _x(out), _weight(k), stride=s, padding=p, dilation=d)
    ones_k = torch.ones(1, 1, k)
    reads = F.conv_transpose1d(torch.ones(1, 1, out), ones_k, stride=s, padding=p, dilation=d,
                               output_padding=(n + 2 * p - d * (k - 1) - 1) % s)[0, 0]
    blind = int((F.conv1d(torch.ones(1, 1, n), ones_k, stride=s, padding=p, dilation=d) == 0).sum())
    return back == n, [int(v) for v in reads], blind


def test_strict_accepts_exactly_the_settings_that_fit():
    """strict=True passes iff the windows tile the padded input (the transposed conv of the
    output gives the input size back), every pixel is read and no window sees only padding,
    each checked with torch; read_counts equals torch's count of windows per pixel."""
    checked = refused_skip = refused_blind = 0
    for n, k, s, d in itertools.product(range(1, 14), range(1, 6), STRIDES, DILATIONS):
        for p in range(k + 2):
            out = _ours(conv_output_size, n, k, s, p, d)
            if out is None:
                continue
            tiles, reads, blind = _torch_fit(n, k, s, p, d, out)
            assert ar.read_counts(n, k, s, p, d) == reads[:n], (n, k, s, p, d)
            fits = tiles and 0 not in reads[:n] and blind == 0
            try:
                assert conv_output_size(n, k, s, p, d, strict=True) == out
                assert fits, (n, k, s, p, d)
            except ValueError:
                assert not fits, (n, k, s, p, d)
                refused_skip += tiles and 0 in reads[:n]
                refused_blind += tiles and blind > 0
            assert (ar.fit_problems(n, k, s, p, d) == []) == fits
            checked += 1
    assert checked > 2500 and refused_skip > 50 and refused_blind > 50


def test_strict_flags_skipped_pixels_and_padding_only_windows():
    with pytest.raises(ValueError, match=r"skipped between windows \(3\): stride=4 is larger"):
        conv_output_size(7, 3, stride=4, strict=True)         # tiles (2 windows) but skips pixel 3
    with pytest.raises(ValueError, match="2 of the 5 windows see only padding"):
        conv_output_size(7, 3, stride=3, padding=4, strict=True)
    assert ar.fit_problems(9, 3, 2) == [] and ar.fit_problems(9, 3, 2, 2) == []
    assert "see only padding" in ar.fit_problems(9, 3, 2, 3)[0]
    assert ar.read_counts(5, 3) == [1, 2, 3, 2, 1]
    assert ar.read_counts(7, 3, 4) == [1, 1, 1, 0, 1, 1, 1]


def test_pool_output_size_sweep_matches_torch():
    bad = []
    for (n, k, s, p, d), ceil in itertools.product(_combos(), (False, True)):
        want = _torch_side(F.max_pool1d, _x(n), k, stride=s, padding=p,
                           dilation=d, ceil_mode=ceil)
        got = _ours(pool_output_size, n, k, s, p, d, ceil)
        if got != want:
            bad.append(((n, k, s, p, d, ceil), got, want))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:5]}"


def test_pool_ceil_mode_keeps_partial_windows_and_default_stride_is_kernel():
    assert pool_output_size(5, 2) == 2 == F.max_pool2d(torch.zeros(1, 1, 5, 5), 2).shape[-1]
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    # a window that would start in the right padding is dropped (torch's rule)
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert F.max_pool2d(torch.zeros(1, 1, 5, 5), 2, 2, 1, ceil_mode=True).shape[-1] == 3


def test_pool_padding_beyond_half_kernel_raises_like_torch():
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 9, 9), 3, padding=2)
    with pytest.raises(ValueError, match="padding"):
        pool_output_size(9, 3, padding=2)


def test_conv_transpose_output_size_sweep_matches_torch():
    """Every legal output_padding, and the first illegal one (which torch refuses too)."""
    bad, illegal = [], 0
    for n, k, s, p, d in _combos():
        for op in range(max(s, d) + 1):
            want = _torch_side(F.conv_transpose1d, _x(n), _weight(k),
                               stride=s, padding=p, output_padding=op, dilation=d)
            got = _ours(conv_transpose_output_size, n, k, s, p, op, d)
            illegal += op >= max(s, d)
            if got != want:
                bad.append(((n, k, s, p, op, d), got, want))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:5]}"
    assert illegal > 1000


def test_2d_layers_apply_the_rule_per_side():
    """Non-square 2D inputs and kernels: each side follows the 1D rule (a sample of the sweep)."""
    rng = np.random.default_rng(1)
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(6, 21, 2))
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        s, p, d = int(rng.integers(1, 5)), int(rng.integers(0, 2)), int(rng.integers(1, 3))
        x = torch.zeros(1, 1, h, w)
        conv = F.conv2d(x, torch.zeros(1, 1, kh, kw), stride=s, padding=p, dilation=d)
        assert conv.shape[-2:] == (conv_output_size(h, kh, s, p, d),
                                   conv_output_size(w, kw, s, p, d))
        pp = min(p, min(kh, kw) // 2)  # torch's pooling padding limit
        pool = F.max_pool2d(x, (kh, kw), s, pp, d, ceil_mode=True)
        assert pool.shape[-2:] == (pool_output_size(h, kh, s, pp, d, True),
                                   pool_output_size(w, kw, s, pp, d, True))
        op = int(rng.integers(0, max(s, d)))
        tr = F.conv_transpose2d(x, torch.zeros(1, 1, kh, kw), stride=s, padding=p,
                                output_padding=op, dilation=d)
        assert tr.shape[-2:] == (conv_transpose_output_size(h, kh, s, p, op, d),
                                 conv_transpose_output_size(w, kw, s, p, op, d))


def test_transposed_output_padding_error_names_the_argument():
    with pytest.raises(ValueError, match=r"output_padding=2 .*stride \(2\)"):
        conv_transpose_output_size(4, 3, stride=2, output_padding=2)


def test_transposed_inverts_strided_conv_shapes():
    # 7 and 8 both map to 4 under a stride-2 3x3 conv with padding 1; output_padding picks one
    assert conv_output_size(7, 3, 2, 1) == conv_output_size(8, 3, 2, 1) == 4
    assert conv_transpose_output_size(4, 3, 2, 1, output_padding=0) == 7
    assert conv_transpose_output_size(4, 3, 2, 1, output_padding=1) == 8


# ----------------------------------------------------------------------- worked examples
def test_lecture_32x32x3_five_5x5_filters():
    layer = torch.nn.Conv2d(3, 5, 5)
    assert tuple(layer(torch.zeros(1, 3, 32, 32)).shape[1:]) == (5, 28, 28)
    assert conv_output_size(32, 5) == 28
    assert conv_params(3, 1, 5, bias=False) == 75 == layer.weight[0].numel()
    assert conv_params(3, 5, 5) == 5 * 76 == sum(p.numel() for p in layer.parameters())
    assert conv_output_size(32, 5, stride=3) == 10
    assert torch.nn.Conv2d(3, 5, 5, stride=3)(torch.zeros(1, 3, 32, 32)).shape[-1] == 10


def test_lecture_7x7_3x3_stride_3_does_not_fit():
    assert conv_output_size(7, 3, stride=3) == 2  # torch floors silently
    with pytest.raises(ValueError) as info:
        conv_output_size(7, 3, stride=3, strict=True)
    msg = str(info.value)
    assert "stride=3" in msg and "does not fit" in msg
    assert "2.333" in msg  # (7 - 3)/3 + 1 is not a whole number
    paddings = re.search(r"Paddings that fit with stride=3: ([\d, ]+)", msg).group(1)
    strides = re.search(r"Strides that fit with padding=0: ([\d, ]+)", msg).group(1)
    for p in map(int, paddings.split(", ")):
        assert conv_output_size(7, 3, 3, p, strict=True)
    assert [int(s) for s in strides.split(", ")] == [1, 2]   # stride 4 > kernel 3 skips pixels
    assert [int(p) for p in paddings.split(", ")] == [1]     # padding 4: windows of zeros only
    for s in (1, 2):
        assert conv_output_size(7, 3, s, strict=True)
    assert conv_output_size(7, 3, stride=2, strict=True) == 3
    assert "Input sizes that fit these settings: 6 or 9." in msg
    for n in (6, 9):
        assert conv_output_size(n, 3, 3, strict=True)


def test_same_padding_gives_ceil_size_over_stride_with_torch():
    """Keras' 'same' for any stride: pad (before, after), then a torch conv gives ceil(n/s)."""
    for n, k, s, d in itertools.product(range(1, 16), range(1, 6), range(1, 4), range(1, 3)):
        before, after = ar.same_padding(n, k, s, d)
        x = F.pad(_x(n), (before, after))
        assert F.conv1d(x, _weight(k), stride=s, dilation=d).shape[-1] == -(-n // s), (n, k, s, d)
        assert after - before in (0, 1)
    assert ar.same_padding(8, 3, 2) == (0, 1) and ar.same_padding(7, 3, 2) == (1, 1)


def test_lesson_01_question_3_premise():
    """A 3x3 kernel with stride 2 fits 9x9 with paddings 0, 1, 2 and 10x10 with none."""
    assert [p for p in range(6) if not ar.fit_problems(9, 3, 2, p)] == [0, 1, 2]
    assert [p for p in range(6) if not ar.fit_problems(10, 3, 2, p)] == []


def test_strict_message_when_no_padding_can_fit():
    # 8 - 3 = 5 is odd and 2*padding is even: no padding fits stride 2
    with pytest.raises(ValueError, match="No padding fits with stride=2"):
        conv_output_size(8, 3, stride=2, strict=True)


def test_lecture_90x90x10_same_padding_vs_fully_connected():
    assert conv_output_size(90, 3, padding=1) == 90
    conv = torch.nn.Conv2d(10, 5, 3, padding=1)
    assert tuple(conv(torch.zeros(1, 10, 90, 90)).shape[1:]) == (5, 90, 90)
    assert conv_params(10, 5, 3) == 455 == sum(p.numel() for p in conv.parameters())
    fc = linear_params(90 * 90 * 10, 90 * 90 * 5)
    assert fc == 90 * 90 * 10 * 90 * 90 * 5 + 90 * 90 * 5 > 3_280_500_000
    assert linear_params(90 * 90 * 10, 90 * 90 * 5, bias=False) == 3_280_500_000


def test_lecture_conv_relu_conv_relu_pool_counts():
    layers = [("conv", 10, 3, 1, 1), ("relu",), ("conv", 10, 3, 1, 1), ("relu",), ("pool", 2),
              ("conv", 10, 3, 1, 1), ("relu",), ("conv", 10, 3, 1, 1), ("relu",), ("pool", 2),
              ("fc", 10)]
    s = ar.stack_summary((3, 16, 16), layers)
    assert [r.params for r in s.rows if r.type == "Conv2d"] == [280, 910, 910, 910]
    assert s.rows[-2].output_shape == (10, 4, 4)
    assert s.rows[-1].params == 1_610 == linear_params(4 * 4 * 10, 10)
    assert s.total_params == 280 + 3 * 910 + 1610


def test_lecture_32x32x3_network_counts():
    """Lesson 02: 32x32x3 through three CONV-RELU-CONV-RELU-POOL blocks to 4x4x10, FC 10."""
    block = [("conv", 10, 3, 1, 1), ("relu",), ("conv", 10, 3, 1, 1), ("relu",), ("pool", 2)]
    s = ar.stack_summary((3, 32, 32), block * 3 + [("fc", 10)])
    assert [r.params for r in s.rows if r.type == "Conv2d"] == [280] + [910] * 5
    assert s.rows[-2].output_shape == (10, 4, 4) and s.rows[-1].params == 1_610
    # the lecture's sharing example: 5x5 with padding 1 gives 30x30, 30 filters x 76 = 2,280
    assert conv_output_size(32, 5, padding=1) == 30 and conv_params(3, 30, 5) == 2_280


def test_lecture_alexnet_conv1():
    assert conv_output_size(227, 11, stride=4) == (227 - 11) // 4 + 1 == 55
    conv1 = torch.nn.Conv2d(3, 96, 11, stride=4)
    assert tuple(conv1(torch.zeros(1, 3, 227, 227)).shape[1:]) == (96, 55, 55)
    shared = conv_params(3, 96, 11)
    assert shared == 34_944 == sum(p.numel() for p in conv1.parameters())
    unshared = 55 * 55 * 96 * conv_params(3, 1, 11)  # one private filter + bias per neuron
    assert unshared == 105_705_600


def test_conv_params_tuple_kernels_and_groups_match_torch():
    for cin, cout, k, bias, groups in [(3, 8, (1, 7), True, 1), (8, 8, 3, False, 8),
                                       (6, 12, (3, 5), True, 3), (4, 4, (3,), True, 2),
                                       (2, 4, (3, 3, 3), False, 1)]:
        kk = k if isinstance(k, tuple) else (k, k)
        cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[len(kk)]
        layer = cls(cin, cout, kk, bias=bias, groups=groups)
        assert conv_params(cin, cout, k, bias, groups) == \
            sum(p.numel() for p in layer.parameters())
    assert linear_params(784, 10) == sum(p.numel() for p in torch.nn.Linear(784, 10).parameters())


# ------------------------------------------------------------------- receptive fields
def test_receptive_field_matches_torch_gradients():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    for _ in range(40):
        depth = int(rng.integers(1, 5))
        layers = [(int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3)))
                  for _ in range(depth)]
        size, jump = _torch_receptive_field_positive(layers)
        assert receptive_field(layers) == (size, jump), layers


def _torch_receptive_field_positive(layers):
    """Measure size and jump with torch: which inputs do output pixels 0 and 1 depend on?
    (weights set to 1 so no gradient cancels out)"""
    net = torch.nn.Sequential(*[torch.nn.Conv1d(1, 1, k, s, dilation=d, bias=False)
                                for k, s, d in layers])
    for m in net:
        torch.nn.init.constant_(m.weight, 1.0)
    n = 400
    x = torch.ones(1, 1, n, requires_grad=True)
    out = net(x)
    starts, size = [], None
    for i in (0, 1):
        (grad,) = torch.autograd.grad(out[0, 0, i], x, retain_graph=True)
        idx = torch.nonzero(grad[0, 0]).flatten()
        starts.append(idx.min().item())
        if i == 0:
            size = idx.max().item() - idx.min().item() + 1
    return size, starts[1] - starts[0]


def test_receptive_field_classics():
    assert receptive_field([(3, 1, 1)] * 3) == (7, 1)        # three 3x3 convs see 7x7
    assert receptive_field([(5,), (5,)]).size == 9
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == (15, 1)  # dilated stack
    assert receptive_field([(11, 4), (3, 2)]) == (19, 8)      # AlexNet conv1 + pool1
    assert receptive_field([]) == (1, 1)
    rf = receptive_field([(2, 2)] * 3)
    assert rf.size == 8 and rf.jump == 8


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, name", [
    (lambda: conv_output_size(0, 3), "size"),
    (lambda: conv_output_size(-5, 3), "size"),
    (lambda: conv_output_size(5, 0), "kernel_size"),
    (lambda: conv_output_size(5, 3, stride=0), "stride"),
    (lambda: conv_output_size(5, 3, padding=-1), "padding"),
    (lambda: conv_output_size(5, 3, dilation=0), "dilation"),
    (lambda: conv_output_size(5.0, 3), "size"),
    (lambda: conv_output_size(5, 2.5), "kernel_size"),
    (lambda: conv_output_size(True, 3), "size"),
    (lambda: conv_output_size(5, 3, stride=True), "stride"),
    (lambda: conv_output_size("5", 3), "size"),
    (lambda: conv_output_size(5, 7), "kernel_size"),
    (lambda: conv_output_size(5, 3, dilation=3), "kernel_size"),
    (lambda: conv_output_size(5, 3, stride=2, padding="same"), "same"),
    (lambda: conv_output_size(5, 3, padding="full"), "padding"),
    (lambda: pool_output_size(0, 2), "size"),
    (lambda: pool_output_size(4, 2, stride=1.5), "stride"),
    (lambda: pool_output_size(4, 3, padding=2), "padding"),
    (lambda: pool_output_size(2, 5, padding=2, dilation=2), "kernel_size"),
    (lambda: pool_output_size(4, 2, ceil_mode=1), "ceil_mode"),
    (lambda: conv_transpose_output_size(4, 3, stride=2, output_padding=2), "output_padding"),
    (lambda: conv_transpose_output_size(4, 3, output_padding=-1), "output_padding"),
    (lambda: conv_transpose_output_size(1, 1, padding=1), "padding"),
    (lambda: conv_transpose_output_size(1, 1, stride=2, padding=2, output_padding=1), "padding"),
    (lambda: conv_transpose_output_size(0, 3), "size"),
    (lambda: conv_params(3, 0, 3), "out_channels"),
    (lambda: conv_params(3, 6, 3, groups=2), "in_channels"),
    (lambda: conv_params(3, 6, (3, 0)), "kernel_size"),
    (lambda: conv_params(3, 6, 3, bias="yes"), "bias"),
    (lambda: linear_params(0, 10), "in_features"),
    (lambda: linear_params(10, 2.0), "out_features"),
    (lambda: receptive_field([(3, 0)]), "stride"),
    (lambda: receptive_field([(3, 1, 1, 1)]), "layers[0]"),
    (lambda: receptive_field(3), "layers"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=re.escape(name)):
        call()


def test_numpy_integers_are_accepted():
    assert conv_output_size(np.int64(32), np.int32(5)) == 28


def test_formula_and_taps_agree_with_the_sizes():
    assert ar.output_size_formula(7, 3, 2) == "⌊(7 + 2·0 − 1·(3−1) − 1) / 2⌋ + 1 = 3"
    dropped = ar.output_size_formula(5, 2, 2, 1, pooling=True, ceil_mode=True)
    assert dropped.startswith("⌈(5 + 2·1 − 1·(2−1) − 1) / 2⌉ + 1 = 3")
    assert "4 → 3" in dropped
    assert ar.output_size_formula(3, 3, 2, 1, transposed=True, output_padding=1).endswith("= 6")
    for n, k, s, p, d in list(_combos())[::37]:
        out = _ours(conv_output_size, n, k, s, p, d)
        if out is None:
            continue
        taps = ar.window_taps(n, k, s, p, d)
        assert len(taps) == out and all(len(t) == k for t in taps)
        assert taps[0][0] == -p and taps[-1][-1] <= n - 1 + p  # inside the padded input
        assert ar.output_size_formula(n, k, s, p, d).endswith(f"= {out}")
    canvas = ar.window_taps(3, 3, 2, transposed=True)
    assert canvas[-1][-1] + 1 == conv_transpose_output_size(3, 3, 2)


def test_layer0_does_not_import_torch():
    code = "import sys, coursekit.arithmetic; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_count_parameters_counts_numpy_and_torch_models_alike():
    from coursekit import nn as cnn
    from coursekit.models import numpy_to_torch

    net = cnn.lesson_cnn(1, 3, 8, channels=(2,), rng=0)
    assert ar.count_parameters(net) == ar.count_parameters(numpy_to_torch(net)) == 2 * 9 + 2 + 2 * 16 * 3 + 3
    with pytest.raises(TypeError, match="params dict"):
        ar.count_parameters(object())
