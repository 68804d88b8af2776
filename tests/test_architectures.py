"""coursekit.architectures: blocks match torchvision (parameter counts and outputs with
torchvision's own weights), FC->conv equals classifying every crop, dense models' shapes."""
import pytest
import torch
import torchvision.models as tvm
from torch import nn

from coursekit.architectures import (BasicBlock, ConvAutoencoder, DenseBlock, Inception, SegNet,
                                     classify_crops, fc_to_conv, fit_dense, iou,
                                     two_3x3_vs_one_5x5, vgg_block)
from coursekit.arithmetic import count_parameters


def same_outputs(mine, ref, x):
    mine.load_state_dict(ref.state_dict())   # names match torchvision: weights load as-is
    mine.eval(), ref.eval()
    with torch.no_grad():
        torch.testing.assert_close(mine(x), ref(x))


def test_vgg_block_matches_torchvision_vgg_block():
    ref = tvm.vgg.make_layers([64, 64, "M"])   # how vgg16(weights=None) builds its first block
    mine = vgg_block(3, 64, 2)
    assert count_parameters(mine) == count_parameters(ref) == 2 * 64 + 3 * 64 * 9 + 64 * 64 * 9
    same_outputs(mine, ref, torch.rand(2, 3, 16, 16))


def test_two_3x3_have_same_receptive_field_and_fewer_params():
    r = two_3x3_vs_one_5x5(64)
    assert r["two 3x3"]["receptive_field"] == r["one 5x5"]["receptive_field"] == 5
    assert r["two 3x3"]["params"] == 2 * (9 * 64 * 64 + 64)
    assert r["one 5x5"]["params"] == 25 * 64 * 64 + 64
    assert r["two 3x3"]["params"] < r["one 5x5"]["params"]


def test_inception_matches_googlenet_3a():
    ref = tvm.googlenet(weights=None, init_weights=False, aux_logits=False).inception3a
    mine = Inception(192, 64, 96, 128, 16, 32, 32, five_kernel=3)
    assert count_parameters(mine) == count_parameters(ref)
    same_outputs(mine, ref, torch.rand(2, 192, 8, 8))
    # with a true 5x5 branch: 16*32*(25-9) more weights, same output channels
    five = Inception(192, 64, 96, 128, 16, 32, 32)
    assert count_parameters(five) - count_parameters(ref) == 16 * 32 * 16
    assert five(torch.rand(1, 192, 8, 8)).shape == (1, 256, 8, 8)


@pytest.mark.parametrize("layer,cin,cout,stride", [("layer1", 64, 64, 1), ("layer2", 64, 128, 2)])
def test_basic_block_matches_resnet18(layer, cin, cout, stride):
    ref = getattr(tvm.resnet18(weights=None), layer)[0]
    mine = BasicBlock(cin, cout, stride)
    assert count_parameters(mine) == count_parameters(ref)
    same_outputs(mine, ref, torch.rand(2, cin, 8, 8))


def test_dense_block_matches_densenet121_block1():
    ref = tvm.densenet121(weights=None).features.denseblock1
    mine = DenseBlock(6, 64, growth_rate=32, bn_size=4)
    assert count_parameters(mine) == count_parameters(ref)
    x = torch.rand(2, 64, 8, 8)
    same_outputs(mine, ref, x)
    assert mine(x).shape == (2, 64 + 6 * 32, 8, 8)


def classifier(seed=0):
    """A 'trained' (random) classifier for 12x12 crops with valid (unpadded) convs."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2),      # 12 -> 10 -> 5
        nn.Conv2d(8, 16, 3), nn.ReLU(),                       # 5 -> 3
        nn.Flatten(), nn.Linear(16 * 9, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 5)).eval()


def test_fc_to_conv_equals_classifying_every_crop():
    clf = classifier()
    fcn = fc_to_conv(clf, (3, 12, 12)).eval()
    x = torch.rand(2, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(fcn(x)[:, :, 0, 0], clf(x))
        big = torch.rand(2, 3, 30, 26)
        scores = fcn(big)                                 # one forward pass
    assert scores.shape == (2, 5, 10, 8)                  # (30-12)/2+1, (26-12)/2+1
    torch.testing.assert_close(scores, classify_crops(clf, big, crop=12, step=2))


def test_fc_to_conv_rejects_unsupported_models():
    with pytest.raises(TypeError):
        fc_to_conv(nn.Linear(3, 3), (3, 4, 4))
    with pytest.raises(ValueError, match="Flatten"):
        fc_to_conv(nn.Sequential(nn.Conv2d(3, 2, 3)), (3, 8, 8))
    with pytest.raises(ValueError, match="input_size"):
        fc_to_conv(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(10, 2)), (3, 8, 8))


@pytest.mark.slow
def test_autoencoder_and_segnet_shapes_and_learning():
    torch.manual_seed(0)   # weights and data the same on every run
    x = torch.rand(4, 1, 16, 16)
    assert ConvAutoencoder(1)(x).shape == x.shape
    seg = SegNet(3, classes=1, width=8)
    xs = torch.rand(8, 3, 16, 16)
    masks = xs[:, 0] > 0.5                           # a learnable per-pixel rule
    assert seg(xs).shape == (8, 1, 16, 16)
    before = iou(seg(xs).detach(), masks)
    losses = fit_dense(seg, xs, masks[:, None].float(), nn.BCEWithLogitsLoss(), epochs=40,
                       batch_size=8, lr=1e-2, progress=False)
    assert losses[-1] < losses[0]
    assert iou(seg(xs).detach(), masks) > max(before, 0.8)


def test_deep_cnn_plain_and_residual_twins():
    from coursekit.architectures import ConvPair, deep_cnn
    from coursekit.signal_propagation import weight_grad_norms
    torch.manual_seed(0)
    plain = deep_cnn(20, width=4, residual=False)
    torch.manual_seed(0)
    res = deep_cnn(20, width=4, residual=True)
    convs = [m for m in plain.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(convs) == 20 and sum(isinstance(m, ConvPair) for m in plain) == 9
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in res.parameters())
    x, y = torch.rand(8, 1, 8, 8), torch.arange(8) % 10
    assert plain(x).shape == res(x).shape == (8, 10)
    # same weights: the only difference is the shortcut; it carries the gradient to layer 1
    g_plain, g_res = weight_grad_norms(plain, x, y), weight_grad_norms(res, x, y)
    first = next(iter(g_plain))
    assert g_res[first] > 100 * g_plain[first]
    he = deep_cnn(20, width=4, init="he")
    assert all(float(m.bias.detach().abs().sum()) == 0 for m in he.modules() if isinstance(m, nn.Conv2d))
    with pytest.raises(ValueError, match="depth"):
        deep_cnn(7)
    with pytest.raises(ValueError, match="init"):
        deep_cnn(init="xavier")
