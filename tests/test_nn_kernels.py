"""Image kernels, the convolution plot and the kernel playground widget."""
import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit import nn

matplotlib.use("Agg")


def test_apply_kernel_matches_torch_and_flip_is_true_convolution():
    r = np.random.default_rng(0)
    img = r.random((11, 9))
    k = nn.get_kernel("sobel x")
    out = nn.apply_kernel(img, k, stride=2, padding=1)
    ref = F.conv2d(torch.tensor(img)[None, None], torch.tensor(k)[None, None], stride=2, padding=1)[0, 0]
    assert np.allclose(out, ref.numpy(), atol=1e-12)
    # true convolution with a kernel == cross-correlation with the kernel rotated 180 degrees
    assert np.allclose(nn.apply_kernel(img, k, flip=True), -nn.apply_kernel(img, k))
    blur = nn.get_kernel("gaussian blur")
    assert np.allclose(nn.apply_kernel(img, blur, flip=True), nn.apply_kernel(img, blur))
    assert abs(blur.sum() - 1) < 1e-12 and abs(nn.get_kernel("laplacian").sum()) < 1e-12


def test_to_gray_and_errors():
    rgb = np.ones((4, 5, 3)) * np.array([1.0, 0.0, 0.0])
    assert np.allclose(nn.to_gray(rgb), 0.299)
    with pytest.raises(ValueError, match="unknown kernel"):
        nn.get_kernel("blurry")
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        nn.to_gray(np.zeros((2, 2, 2, 2)))


def test_show_convolution_draws_three_panels_with_shapes():
    from coursekit.viz.kernels import show_convolution
    img = np.random.default_rng(1).random((20, 16))
    k = nn.get_kernel("sobel y")
    fig = show_convolution(img, k, nn.apply_kernel(img, k, 2), title="t")
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == ["input 20x16", "kernel 3x3", "output 9x7"]


def test_kernel_playground_reacts_to_controls():
    from coursekit.widgets.kernel_playground import CUSTOM, KernelPlayground
    img = np.random.default_rng(2).random((30, 24))
    pg = KernelPlayground(images={"noise": img}, kernel="sobel x")
    assert np.array_equal(pg.kernel(), nn.get_kernel("sobel x"))
    pg.stride_w.value = 2
    pg.padding_w.value = 0
    assert pg.output().shape == (14, 11)
    assert "14x11" in pg.info.value
    pg.kernel_w.value = "box blur"
    assert np.allclose([c.value for c in pg.cells], np.round(np.full(9, 1 / 9), 4))
    pg.cells[4].value = 3.0
    assert pg.kernel_w.value == CUSTOM and pg.kernel()[1, 1] == 3.0
    pg.mode_w.value = "convolution (flipped)"
    assert np.allclose(pg.output(), nn.apply_kernel(img, pg.kernel(), 2, 0, flip=True))
    assert len(pg.render().axes) >= 3
    with pytest.raises(ValueError, match="kernel must be one of"):
        KernelPlayground(images={"noise": img}, kernel="nope")
