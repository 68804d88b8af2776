"""coursekit.nn layers against torch (float64, forward and backward) and naive == fast."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit import nn

TOL = 1e-8

# (N, C, H, W, F, k, stride, padding): odd sizes, batch 1, stride 2, padding 0-2
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 9, 4, 3, 1, 1),
    (3, 2, 8, 8, 5, 3, 2, 1),
    (1, 4, 11, 6, 3, 5, 2, 2),
    (2, 3, 9, 9, 2, 2, 2, 0),
    (2, 2, 6, 7, 3, 4, 3, 2),
    (4, 3, 5, 5, 6, 1, 1, 0),
    (2, 1, 10, 10, 2, 3, 3, 1),
]


def _torch(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("method", ["fast", "naive"])
def test_conv_matches_torch(case, method):
    N, C, H, W, Fo, k, s, p = case
    r = _rng(hash(case) % 1000)
    x, w, b = r.standard_normal((N, C, H, W)), r.standard_normal((Fo, C, k, k)), r.standard_normal(Fo)
    out, cache = nn.conv2d_forward(x, w, b, stride=s, padding=p, method=method)
    xt, wt, bt = _torch(x), _torch(w), _torch(b)
    ot = F.conv2d(xt, wt, bt, stride=s, padding=p)
    assert out.shape == tuple(ot.shape)
    assert nn.rel_error(out, ot.detach().numpy()) < TOL
    dout = r.standard_normal(out.shape)
    ot.backward(torch.tensor(dout))
    dx, dw, db = nn.conv2d_backward(dout, cache)
    assert nn.rel_error(dx, xt.grad.numpy()) < TOL
    assert nn.rel_error(dw, wt.grad.numpy()) < TOL
    assert nn.rel_error(db, bt.grad.numpy()) < TOL


@pytest.mark.parametrize("seed", range(6))
def test_conv_random_shapes_naive_equals_fast(seed):
    r = _rng(100 + seed)
    N, C, Fo = r.integers(1, 4, size=3)
    k, s, p = int(r.integers(1, 5)), int(r.integers(1, 4)), int(r.integers(0, 3))
    H, W = r.integers(max(1, k - 2 * p), 12, size=2)
    x, w, b = r.standard_normal((N, C, H, W)), r.standard_normal((Fo, C, k, k)), r.standard_normal(Fo)
    o1, c1 = nn.conv2d_forward(x, w, b, s, p, method="naive")
    o2, c2 = nn.conv2d_forward(x, w, b, s, p, method="fast")
    assert nn.rel_error(o1, o2) < 1e-12
    dout = r.standard_normal(o1.shape)
    for g1, g2 in zip(nn.conv2d_backward(dout, c1), nn.conv2d_backward(dout, c2)):
        assert nn.rel_error(g1, g2) < 1e-12
    ot = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=s, padding=p)
    assert nn.rel_error(o2, ot.numpy()) < TOL


def test_conv_float32_keeps_dtype():
    r = _rng(3)
    x, w, b = (r.standard_normal(s).astype(np.float32) for s in [(2, 3, 8, 8), (4, 3, 3, 3), (4,)])
    out, cache = nn.conv2d_forward(x, w, b, 1, 1)
    assert out.dtype == np.float32
    dx, dw, db = nn.conv2d_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == np.float32
    ref = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1).numpy()
    assert np.allclose(out, ref, atol=1e-4)


POOL_CASES = [(1, 1, 4, 4, 2, 2), (2, 3, 7, 9, 2, 2), (2, 2, 9, 7, 3, 2), (3, 2, 8, 8, 3, 3),
              (1, 3, 5, 6, 2, 1), (2, 1, 11, 11, 4, 3)]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("method", ["fast", "naive"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_torch(case, method, kind):
    N, C, H, W, k, s = case
    r = _rng(sum(case))
    x = r.standard_normal((N, C, H, W))
    fwd, bwd, tf = {"max": (nn.maxpool2d_forward, nn.maxpool2d_backward, F.max_pool2d),
                    "avg": (nn.avgpool2d_forward, nn.avgpool2d_backward, F.avg_pool2d)}[kind]
    out, cache = fwd(x, kernel_size=k, stride=s, method=method)
    xt = _torch(x)
    ot = tf(xt, k, s)
    assert out.shape == tuple(ot.shape)
    assert nn.rel_error(out, ot.detach().numpy()) < TOL
    dout = r.standard_normal(out.shape)
    ot.backward(torch.tensor(dout))
    assert nn.rel_error(bwd(dout, cache), xt.grad.numpy()) < TOL


def test_maxpool_routes_gradient_to_argmax_only():
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    out, cache = nn.maxpool2d_forward(x, 2, 2)
    assert out.item() == 5.0
    dx = nn.maxpool2d_backward(np.array([[[[7.0]]]]), cache)
    assert np.array_equal(dx, [[[[0.0, 7.0], [0.0, 0.0]]]])


def test_relu_matches_torch():
    r = _rng(5)
    x = r.standard_normal((3, 4, 5))
    out, cache = nn.relu_forward(x)
    xt = _torch(x)
    ot = F.relu(xt)
    dout = r.standard_normal(x.shape)
    ot.backward(torch.tensor(dout))
    assert nn.rel_error(out, ot.detach().numpy()) < TOL
    assert nn.rel_error(nn.relu_backward(dout, cache), xt.grad.numpy()) < TOL


@pytest.mark.parametrize("shape", [(4, 7), (1, 3, 5, 5), (2, 2, 3)])
def test_linear_matches_torch_and_flattens(shape):
    r = _rng(len(shape))
    x = r.standard_normal(shape)
    D = int(np.prod(shape[1:]))
    w, b = r.standard_normal((D, 6)), r.standard_normal(6)
    out, cache = nn.linear_forward(x, w, b)
    xt, wt, bt = _torch(x), _torch(w.T.copy()), _torch(b)
    ot = F.linear(xt.reshape(shape[0], -1), wt, bt)
    dout = r.standard_normal(out.shape)
    ot.backward(torch.tensor(dout))
    dx, dw, db = nn.linear_backward(dout, cache)
    assert dx.shape == shape
    assert nn.rel_error(out, ot.detach().numpy()) < TOL
    assert nn.rel_error(dx, xt.grad.numpy()) < TOL
    assert nn.rel_error(dw, wt.grad.numpy().T) < TOL
    assert nn.rel_error(db, bt.grad.numpy()) < TOL


def test_softmax_cross_entropy_matches_torch_and_is_stable():
    r = _rng(9)
    scores = r.standard_normal((6, 5)) * 3
    scores[0] += 1000.0  # would overflow a naive exp
    y = r.integers(0, 5, 6)
    loss, ds = nn.softmax_cross_entropy(scores, y)
    st = _torch(scores)
    lt = F.cross_entropy(st, torch.tensor(y))
    lt.backward()
    assert np.isfinite(loss)
    assert abs(loss - lt.item()) / abs(lt.item()) < TOL
    assert nn.rel_error(ds, st.grad.numpy()) < TOL


def test_softmax_cross_entropy_uniform_scores_give_log_c():
    loss, _ = nn.softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert abs(loss - np.log(10)) < 1e-12


@pytest.mark.parametrize("k,s,p", [(3, 1, 1), (3, 2, 0), (2, 3, 2), (4, 2, 1)])
def test_col2im_is_the_adjoint_of_im2col(k, s, p):
    r = _rng(k * s + p)
    x = r.standard_normal((2, 3, 9, 8))
    cols = nn.im2col(x, k, k, s, p)
    c = r.standard_normal(cols.shape)
    # <im2col(x), c> == <x, col2im(c)> for every x, c: overlaps accumulate, gaps get zero
    assert abs(np.sum(cols * c) - np.sum(x * nn.col2im(c, x.shape, k, k, s, p))) < 1e-9


def test_nn_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, coursekit.nn; assert 'torch' not in sys.modules, 'coursekit.nn imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_conv_backward_in_small_chunks_matches_torch(monkeypatch):
    """The fast backward builds gradient columns a few images at a time; force 1 per chunk."""
    from coursekit.nn import conv
    monkeypatch.setattr(conv, "_DCOL_CHUNK_BYTES", 1)
    r = _rng(11)
    x, w, b = r.standard_normal((3, 2, 7, 8)), r.standard_normal((4, 2, 3, 3)), r.standard_normal(4)
    out, cache = nn.conv2d_forward(x, w, b, stride=2, padding=1)
    dout = r.standard_normal(out.shape)
    xt, wt = _torch(x), _torch(w)
    F.conv2d(xt, wt, torch.tensor(b), stride=2, padding=1).backward(torch.tensor(dout))
    dx, dw, _ = nn.conv2d_backward(dout, cache)
    assert nn.rel_error(dx, xt.grad.numpy()) < TOL
    assert nn.rel_error(dw, wt.grad.numpy()) < TOL


def test_fast_conv_holds_at_most_one_column_buffer():
    """tracemalloc: forward allocates one column buffer (+ output, padding); backward none."""
    import tracemalloc
    r = _rng(12)
    x, w, b = r.standard_normal((16, 4, 16, 16)), r.standard_normal((6, 4, 3, 3)), r.standard_normal(6)
    col_bytes = 16 * 4 * 9 * 16 * 16 * 8
    small = x.nbytes + 16 * 6 * 16 * 16 * 8 + 16 * 4 * 18 * 18 * 8   # x, output, padded x
    tracemalloc.start()
    out, cache = nn.conv2d_forward(x, w, b, 1, 1)
    fwd_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    nn.conv2d_backward(np.ones_like(out), cache)
    bwd_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert col_bytes <= fwd_peak < col_bytes + small
    assert bwd_peak < col_bytes / 2 + small
