"""Reference models, weight initialization and NumPy -> torch conversion."""
import numpy as np
import pytest
import torch

from coursekit import nn as cnn
from coursekit.arithmetic import count_parameters
from coursekit.models import (deep_mlp, init_weights, lesson_cnn,
                              numpy_to_torch, resnet_style, small_cnn, vgg_style)


def _compare(np_net, x, rtol=1e-10):
    """Forward and backward of a NumPy net and its torch copy agree."""
    t_net = numpy_to_torch(np_net)
    out = np_net.forward(x)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    ot = t_net(xt)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=rtol, atol=1e-12)
    dout = np.random.default_rng(5).normal(size=out.shape)
    dx = np_net.backward(dout)
    ot.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-12)
    tparams = dict(t_net.named_parameters())
    for key, g in np_net.grads.items():
        i, name = key.split(".")
        tname = {"w": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}[name]
        tg = tparams[f"{i}.{tname}"].grad.numpy()
        if isinstance(np_net[int(i)], cnn.Linear) and name == "w":
            tg = tg.T
        np.testing.assert_allclose(g, tg, rtol=1e-8, atol=1e-12, err_msg=key)
    return t_net


def test_lesson_cnn_numpy_and_torch_identical():
    np_net = cnn.lesson_cnn(in_channels=3, num_classes=10, size=32, rng=0)
    x = np.random.default_rng(0).normal(size=(4, 3, 32, 32))
    t_net = _compare(np_net, x)
    # same architecture as the torch builder: same parameter names and shapes
    ref = lesson_cnn(3, 10, 32)
    assert [(k, v.shape) for k, v in t_net.state_dict().items()] == \
           [(k, v.shape) for k, v in ref.state_dict().items()]
    # the torch copy shares no memory with the NumPy arrays
    with torch.no_grad():
        t_net[0].weight.add_(1.0)
    assert not np.allclose(np_net[0].params["w"], t_net[0].weight.detach().numpy())


def test_batchnorm_and_dropout_convert():
    rng = np.random.default_rng(1)
    np_net = cnn.Sequential(cnn.Conv2d(3, 4, 3, padding=1, rng=0), cnn.BatchNorm2d(4),
                            cnn.ReLU(), cnn.MaxPool2d(2), cnn.Flatten(),
                            cnn.Linear(4 * 4 * 4, 6, rng=1), cnn.BatchNorm(6), cnn.ReLU(),
                            cnn.Dropout(0.5, rng=0), cnn.Linear(6, 3, rng=2))
    np_net[1].params["gamma"][:] = rng.normal(1, 0.2, 4)
    np_net[6].params["beta"][:] = rng.normal(0, 0.2, 6)
    for _ in range(2):  # let the running statistics move away from 0/1
        np_net.train().forward(rng.normal(1, 2, (8, 3, 8, 8)))
    np_net.eval()  # eval: dropout off, BN on running statistics
    x = rng.normal(size=(5, 3, 8, 8))
    t_net = _compare(np_net, x)
    assert isinstance(t_net[6], torch.nn.BatchNorm1d) and isinstance(t_net[1], torch.nn.BatchNorm2d)
    assert not t_net.training
    # train mode (no dropout): batch statistics and running-stat updates agree
    np_net2 = cnn.Sequential(*np_net.layers[:8]).train()
    t2 = numpy_to_torch(np_net2)
    xb = rng.normal(size=(6, 3, 8, 8))
    np.testing.assert_allclose(np_net2.forward(xb), t2(torch.from_numpy(xb)).detach().numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np_net2[1].buffers["running_var"], t2[1].running_var.numpy())


def test_numpy_to_torch_errors():
    with pytest.raises(TypeError, match="coursekit.nn.Sequential"):
        numpy_to_torch(torch.nn.Linear(2, 2))

    class Odd(cnn.Module):
        pass

    with pytest.raises(TypeError, match="Odd"):
        numpy_to_torch(cnn.Sequential(Odd()))
    with pytest.raises(ValueError, match="inverted"):
        numpy_to_torch(cnn.Sequential(cnn.Dropout(0.5, mode="classic")))


@pytest.mark.parametrize("build", [lesson_cnn, small_cnn, vgg_style, resnet_style])
def test_reference_models_shapes_and_backward(build):
    torch.manual_seed(0)
    model = build()
    x = torch.randn(2, 3, 32, 32)
    out = model(x)
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert 1_000 < count_parameters(model) < 2_000_000


def test_resnet_has_projection_shortcuts():
    model = resnet_style(widths=(8, 16), blocks_per_stage=2)
    assert model[3].downsample is None  # identity shortcut (torchvision's names)
    assert isinstance(model[5].downsample, torch.nn.Sequential)  # stride-2 stage start
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("scheme,expected", [("he", lambda fi, fo: (2 / fi) ** 0.5),
                                             ("xavier", lambda fi, fo: (2 / (fi + fo)) ** 0.5),
                                             ("small", lambda fi, fo: 0.01)])
def test_init_weights_std(scheme, expected):
    model = deep_mlp(400, 10, depth=2, width=300)
    init_weights(model, scheme, seed=0)
    lin = model[1]
    assert abs(lin.weight.std().item() / expected(400, 300) - 1) < 0.02
    assert torch.all(lin.bias == 0)
    conv = init_weights(small_cnn(batchnorm=False), scheme, seed=0)[0]
    assert abs(conv.weight.std().item() / expected(27, 16 * 9) - 1) < 0.15


def test_init_zero_and_errors():
    model = init_weights(deep_mlp(8, 2, depth=2, width=4), "zero")
    assert all(torch.all(p == 0) for p in model.parameters())
    with pytest.raises(ValueError, match="scheme"):
        init_weights(model, "lecun")
    with pytest.raises(ValueError, match="activation"):
        deep_mlp(8, activation="gelu")
    with pytest.raises(ValueError, match="width"):
        small_cnn(width=0)
