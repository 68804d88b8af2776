"""coursekit.viz attributions: exact values on hand-weighted models, agreement with captum,
hook hygiene, batch invariance, in-place ReLU, inputs left untouched."""
import gc

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.viz import cam, grad_cam, guided_backprop, occlusion, saliency
from coursekit.torchutil import Hooks, count_hooks


def small_cnn(in_ch=3, inplace=False, classes=4, seed=0):
    torch.manual_seed(seed)
    m = nn.Sequential(
        nn.Conv2d(in_ch, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace=inplace),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(inplace=inplace),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))
    # non-trivial BatchNorm statistics so eval mode matters
    m[1].running_mean.uniform_(-0.2, 0.2)
    m[1].running_var.uniform_(0.5, 1.5)
    return m.eval()


def images(n=4, ch=3, size=12, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, ch, size, size, generator=g)


# ---------------------------------------------------------------- exact values
def linear_model(w):
    """logits = w @ flatten(x) for x (N, 1, 2, 2); w (classes, 4)."""
    m = nn.Sequential(nn.Flatten(), nn.Linear(4, len(w), bias=False))
    with torch.no_grad():
        m[1].weight.copy_(torch.tensor(w, dtype=torch.float32))
    return m


W = [[1.0, -2.0, 3.0, 0.5], [0.0, 1.0, -1.0, 4.0]]
X = torch.tensor([[[[1.0, 2.0], [-1.0, 0.5]]]])


def test_saliency_exact_on_linear_model():
    m = linear_model(W)
    np.testing.assert_allclose(saliency(m, X, target=0)[0], np.abs(np.reshape(W[0], (2, 2))))
    np.testing.assert_allclose(saliency(m, X, target=1, reduce=None)[0, 0], np.reshape(W[1], (2, 2)))


def test_smoothgrad_of_linear_model_equals_gradient():
    m = linear_model(W)   # the gradient does not depend on x, so noise changes nothing
    np.testing.assert_allclose(saliency(m, X, target=1, smooth=True, n_samples=5)[0],
                               np.abs(np.reshape(W[1], (2, 2))), rtol=1e-6)


def test_occlusion_exact_on_linear_model():
    m = linear_model(W)
    # window 1: the drop for pixel p is w_p * x_p
    expected = (np.reshape(W[0], (2, 2)) * X[0, 0].numpy())
    np.testing.assert_allclose(occlusion(m, X, target=0, window=1, stride=1)[0], expected, rtol=1e-6)
    # window 2 covers the whole image once: every pixel gets score(x) - score(0)
    full = float(np.dot(W[1], X.flatten().numpy()))
    np.testing.assert_allclose(occlusion(m, X, target=1, window=2, stride=1)[0], full, rtol=1e-6)
    # window (1, 2), stride 1 on rows: each row's drop is the row's contribution
    rows = (np.reshape(W[0], (2, 2)) * X[0, 0].numpy()).sum(1)
    np.testing.assert_allclose(occlusion(m, X, target=0, window=(1, 2), stride=1)[0],
                               np.repeat(rows[:, None], 2, 1), rtol=1e-6)


def test_occlusion_baseline_and_overlapping_windows():
    m = linear_model(W)
    # window 1x2, stride 1 along columns on a 2x2 image -> one window per row; with a 2x1
    # window, columns. Baseline b: drop = sum w*(x - b).
    b = 0.5
    cols = (np.reshape(W[0], (2, 2)) * (X[0, 0].numpy() - b)).sum(0)
    np.testing.assert_allclose(occlusion(m, X, target=0, window=(2, 1), stride=1, baseline=b)[0],
                               np.repeat(cols[None, :], 2, 0), rtol=1e-6)
    # 3x3 image, window 2 stride 1: 4 windows; the centre pixel is in all 4 and gets the
    # mean of the 4 drops
    m3 = nn.Sequential(nn.Flatten(), nn.Linear(9, 1, bias=False))
    with torch.no_grad():
        m3[1].weight.copy_(torch.arange(1.0, 10.0)[None])
    x3 = torch.ones(1, 1, 3, 3)
    wmap = np.arange(1.0, 10.0).reshape(3, 3)
    drops = [wmap[i:i + 2, j:j + 2].sum() for i in (0, 1) for j in (0, 1)]
    got = occlusion(m3, x3, target=0, window=2, stride=1)[0]
    assert got[1, 1] == pytest.approx(np.mean(drops))
    assert got[0, 0] == pytest.approx(drops[0])


def test_guided_backprop_exact():
    # x (1, 1, 1, 2) -> flatten -> identity linear -> ReLU -> linear [-1, 2]
    m = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        m[1].weight.copy_(torch.eye(2))
        m[3].weight.copy_(torch.tensor([[-1.0, 2.0]]))
    x = torch.tensor([[[[1.0, 2.0]]]])
    np.testing.assert_allclose(saliency(m, x, 0, reduce=None)[0, 0, 0], [-1.0, 2.0])   # vanilla
    np.testing.assert_allclose(guided_backprop(m, x, 0)[0, 0, 0], [0.0, 2.0])          # guided
    x_neg = torch.tensor([[[[-1.0, 2.0]]]])                                            # ReLU off
    np.testing.assert_allclose(guided_backprop(m, x_neg, 0)[0, 0, 0], [0.0, 2.0])


def cam_model():
    """conv 1x1 with channels (+x, -x) -> ReLU -> GAP -> identity linear."""
    m = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                      nn.Flatten(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
        m[4].weight.copy_(torch.eye(2))
    return m


def test_grad_cam_and_cam_exact():
    m = cam_model()
    x = torch.tensor([[[[1.0, 2.0], [3.0, -1.0]]]])
    # target 0: out = mean(relu(x)); dout/dA0 = [x>0]/4, mean over 4 pixels = 3/16
    np.testing.assert_allclose(grad_cam(m, x, 0, upsample=False)[0],
                               3 / 16 * np.array([[1.0, 2.0], [3.0, 0.0]]), rtol=1e-6)
    # target 1: channel -x, only pixel (1, 1) is positive -> weight 1/16, map relu(-x/16)
    np.testing.assert_allclose(grad_cam(m, x, 1, upsample=False)[0],
                               np.array([[0, 0], [0, 1 / 16]]), rtol=1e-6, atol=1e-8)
    # CAM: weights of the linear layer -> at the ReLU (what GAP sees, the default layer)
    # A_0 = relu(x); at the conv A_0 = x itself (CAM adds no ReLU)
    np.testing.assert_allclose(cam(m, x, 0, upsample=False)[0], [[1, 2], [3, 0]])
    np.testing.assert_allclose(cam(m, x, 1, upsample=False)[0], [[0, 0], [0, 1]])
    np.testing.assert_allclose(cam(m, x, 0, layer=m[0], upsample=False)[0], x[0, 0].numpy())
    # for GAP -> linear models CAM = (h*w) * Grad-CAM before its ReLU
    np.testing.assert_allclose(cam(m, x, 0, upsample=False)[0] / 4,
                               grad_cam(m, x, 0, layer=m[1], upsample=False, relu=False)[0], rtol=1e-6)


def test_grad_cam_picks_last_conv():
    m = small_cnn()
    x = images(2)
    np.testing.assert_allclose(grad_cam(m, x, 1), grad_cam(m, x, 1, layer=m[4]), rtol=1e-6)
    np.testing.assert_allclose(grad_cam(m, x, 1), grad_cam(m, x, 1, layer="4"), rtol=1e-6)
    assert grad_cam(m, x, 1).shape == (2, 12, 12)


# ---------------------------------------------------------------- captum agreement
@pytest.mark.parametrize("ch", [1, 3])
def test_agrees_with_captum(ch):
    from captum.attr import GuidedBackprop, LayerAttribution, LayerGradCam, Occlusion, Saliency
    m = small_cnn(ch)
    x = images(3, ch)
    t = torch.tensor([0, 2, 3])
    ref = Saliency(m).attribute(x.clone().requires_grad_(), target=t, abs=True).amax(1)
    np.testing.assert_allclose(saliency(m, x, t), ref.numpy(), rtol=1e-5, atol=1e-7)
    ref = Occlusion(m).attribute(x, target=t, sliding_window_shapes=(ch, 4, 4), strides=(ch, 3, 3),
                                 baselines=0.25)
    np.testing.assert_allclose(occlusion(m, x, t, window=4, stride=3, baseline=0.25),
                               ref[:, 0].numpy(), rtol=1e-4, atol=1e-6)
    ref = GuidedBackprop(m).attribute(x.clone().requires_grad_(), target=t)
    np.testing.assert_allclose(guided_backprop(m, x, t), ref.detach().numpy(), rtol=1e-5, atol=1e-7)
    lgc = LayerGradCam(m, m[4]).attribute(x, target=t, relu_attributions=True)
    ref = LayerAttribution.interpolate(lgc, (12, 12), interpolate_mode="bilinear")
    np.testing.assert_allclose(grad_cam(m, x, t, layer=m[4]), ref[:, 0].detach().numpy(),
                               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- hygiene
METHODS = {
    "saliency": lambda m, x, t: saliency(m, x, t),
    "smoothgrad": lambda m, x, t: saliency(m, x, t, smooth=True, n_samples=4),
    "occlusion": lambda m, x, t: occlusion(m, x, t, window=4, stride=2),
    "guided": lambda m, x, t: guided_backprop(m, x, t),
    "gradcam": lambda m, x, t: grad_cam(m, x, t),
    "cam": lambda m, x, t: cam(m, x, t),
}


@pytest.mark.parametrize("name", METHODS)
def test_batch_invariant_and_input_untouched(name):
    m = small_cnn()
    x = images(4)
    x0 = x.clone()
    t = [0, 1, 2, 3]
    full = METHODS[name](m, x, t)
    torch.testing.assert_close(x, x0, rtol=0, atol=0)
    for i in range(4):
        np.testing.assert_allclose(METHODS[name](m, x[i:i + 1], t[i])[0], full[i],
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", METHODS)
def test_inplace_relu_model_gives_same_maps(name):
    plain, inplace = small_cnn(inplace=False), small_cnn(inplace=True)
    inplace.load_state_dict(plain.state_dict())
    x = images(2)
    np.testing.assert_allclose(METHODS[name](inplace, x, 1), METHODS[name](plain, x, 1),
                               rtol=1e-5, atol=1e-7)


class Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = small_cnn()
        self.boom = False

    def forward(self, x):
        if self.boom:
            raise RuntimeError("boom")
        return self.net(x)


@pytest.mark.parametrize("name", METHODS)
def test_hooks_removed_also_on_error_and_mode_restored(name):
    m = Exploding()
    m.train()
    x = images(2)
    assert count_hooks(m) == 0
    METHODS[name](m, x, 1)
    assert count_hooks(m) == 0 and m.training and m.net[1].training
    assert all(p.grad is None for p in m.parameters())
    m.boom = True
    with pytest.raises(RuntimeError, match="boom"):
        METHODS[name](m, x, 1)
    assert count_hooks(m) == 0 and m.training
    with pytest.raises(ValueError, match="target"):
        m.boom = False
        METHODS[name](m, x, 9)
    assert count_hooks(m) == 0


def test_hooks_context_manager_removes_on_error():
    m = small_cnn()
    with pytest.raises(KeyError):
        with Hooks() as h:
            h.forward(m[0], lambda *a: None)
            h.backward(m[4], lambda *a: None)
            assert count_hooks(m) == 2
            raise KeyError("x")
    assert count_hooks(m) == 0


def test_repeated_calls_do_not_grow_memory():
    m = small_cnn()
    x = images(2)

    def n_tensors():
        gc.collect()
        return sum(1 for o in gc.get_objects() if torch.is_tensor(o))

    for f in METHODS.values():   # warm up
        f(m, x, 1)
    before = n_tensors()
    for _ in range(5):
        for f in METHODS.values():
            f(m, x, 1)
    assert n_tensors() <= before


def test_bad_inputs_raise_clear_errors():
    m = small_cnn()
    with pytest.raises(ValueError, match="channels"):
        saliency(m, torch.rand(1, 2, 8, 8), 0)
    with pytest.raises(ValueError, match="N, C, H, W"):
        grad_cam(m, torch.rand(8, 8), 0)
    with pytest.raises(TypeError, match="x must be"):
        occlusion(m, [[1.0]], 0)
    with pytest.raises(ValueError, match="window"):
        occlusion(m, images(1), 0, window=20)
    with pytest.raises(ValueError, match="no layer named"):
        grad_cam(m, images(1), 0, layer="nope")
    with pytest.raises(ValueError, match="conv -> global average pool -> Linear"):
        cam(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(200, 2)), images(1), 0)
