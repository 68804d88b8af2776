"""coursekit.arithmetic.summary / stack_summary against torchvision and torch."""
import pytest
import torch
import torchvision

from coursekit.arithmetic import LayerRow, Summary, stack_summary, summary


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def vgg16():
    torch.manual_seed(0)
    return torchvision.models.vgg16(weights=None)


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None)


def test_vgg16_totals_and_where_they_live(vgg16):
    s = summary(vgg16, (3, 224, 224))
    assert s.total_params == 138_357_544 == sum(p.numel() for p in vgg16.parameters())
    assert s.trainable_params == s.total_params
    assert sum(r.params for r in s.rows) == s.total_params
    # torchvision's published cost of VGG-16 (in GFLOPS, i.e. multiply-accumulates)
    published = torchvision.models.VGG16_Weights.IMAGENET1K_V1.meta["_ops"]
    assert round(s.total_macs / 1e9, 2) == published
    fc = sum(r.params for r in s.rows if r.type == "Linear")
    assert fc / s.total_params > 0.89  # most parameters sit in the fully connected layers
    conv_macs = sum(r.macs for r in s.rows if r.type == "Conv2d")
    assert conv_macs / s.total_macs > 0.99  # nearly all the work is in the convolutions
    first = s.rows[0]
    assert first.name == "features.0" and first.type == "Conv2d"
    assert first.output_shape == (64, 224, 224) and first.params == 1_792
    assert first.macs == 224 * 224 * 64 * 3 * 9
    assert s.rows[-1].output_shape == (1000,)
    assert _hooks(vgg16) == 0


def test_resnet18_totals(resnet18):
    s = summary(resnet18, (3, 224, 224))
    assert s.total_params == 11_689_512
    assert sum(r.params for r in s.rows) == s.total_params
    assert round(s.total_macs / 1e9, 3) == \
        torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["_ops"]
    names = [r.name for r in s.rows]
    assert "layer1.0.conv1" in names and "fc" in names
    assert s.totals == {"params": 11_689_512, "trainable": 11_689_512, "macs": s.total_macs}


def test_summary_matches_torch_shapes_on_a_small_net():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 4, 3, stride=2),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 10))
    s = summary(net, (3, 16, 16))
    shapes, x = [], torch.zeros(1, 3, 16, 16)
    for layer in net:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert [r.output_shape for r in s.rows] == shapes
    assert [r.type for r in s.rows] == [type(m).__name__ for m in net]
    assert [r.params for r in s.rows] == [sum(p.numel() for p in m.parameters()) for m in net]
    assert s.rows[0].macs == 16 * 16 * 8 * 3 * 9 and s.rows[-1].macs == 36 * 10
    assert s.rows[1].macs == 0 and s.input_size == (3, 16, 16)


def test_shared_module_counted_once_and_frozen_params_not_trainable():
    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)
            self.head = torch.nn.Linear(4, 2)
            self.head.requires_grad_(False)

        def forward(self, x):
            return self.head(self.fc(self.fc(x)))

    s = summary(Twice(), 4)
    assert [r.name for r in s.rows] == ["fc", "fc", "head"]
    assert [r.params for r in s.rows] == [20, 0, 10]
    assert s.total_params == 30 and s.trainable_params == 20
    assert s.total_macs == 16 + 16 + 8


def test_transposed_conv_macs():
    up = torch.nn.ConvTranspose2d(4, 2, 3, stride=2)
    s = summary(up, (4, 5, 5))
    assert s.rows[0].output_shape == (2, 11, 11)
    assert s.rows[0].macs == 5 * 5 * 4 * 2 * 9  # every input pixel scatters a 3x3x2 patch


def test_hooks_removed_and_modes_restored_after_an_error(resnet18):
    resnet18.train()
    before = {k: v.clone() for k, v in resnet18.state_dict().items()}
    with pytest.raises(ValueError, match=r"input_size=\(3, 5\)"):
        summary(resnet18, (3, 5))
    assert _hooks(resnet18) == 0
    assert all(m.training for m in resnet18.modules())
    summary(resnet18, (3, 64, 64))
    assert _hooks(resnet18) == 0 and all(m.training for m in resnet18.modules())
    after = resnet18.state_dict()  # batch-norm running statistics untouched
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_hooks_removed_when_a_hook_sees_an_unusual_error():
    class Boom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 3)

        def forward(self, x):
            self.fc(x)
            raise KeyError("boom")

    net = Boom()
    with pytest.raises(KeyError):
        summary(net, 3)
    assert _hooks(net) == 0


@pytest.mark.parametrize("bad, name", [((0, 8, 8), "input_size[0]"), ((3, 8.0, 8), "input_size[1]"),
                                       ([], "input_size"), ("3x8x8", "input_size")])
def test_bad_input_size(bad, name):
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        summary(torch.nn.Conv2d(3, 2, 3), bad)


def test_not_a_module():
    with pytest.raises(ValueError, match="model"):
        summary(lambda x: x, (3,))


def test_display_as_text_and_html():
    s = summary(torch.nn.Sequential(torch.nn.Conv2d(3, 5, 5), torch.nn.ReLU()), (3, 32, 32))
    text, page = str(s), s._repr_html_()
    assert "(5, 28, 28)" in text and "380" in text and "total parameters: 380" in text
    assert "<table" in page and "(5, 28, 28)" in page and "380" in page
    assert isinstance(s.rows[0], LayerRow) and len(s) == 2 and isinstance(s, Summary)


def test_stack_summary_agrees_with_torch():
    layers = [("conv", 6, 5), ("relu",), ("pool", 2), ("conv", 16, 5, 1, 2),
              {"kind": "pool", "kernel_size": 3, "stride": 2}, ("fc", 10)]
    s = stack_summary((3, 32, 32), layers)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(6, 16, 5, padding=2), torch.nn.MaxPool2d(3, 2),
                              torch.nn.Flatten(), torch.nn.Linear(16 * 6 * 6, 10))
    t = summary(net, (3, 32, 32))
    torch_rows = [r for r in t.rows if r.type != "Flatten"]
    assert [r.output_shape for r in s.rows] == [r.output_shape for r in torch_rows]
    assert [r.params for r in s.rows] == [r.params for r in torch_rows]
    assert [r.macs for r in s.rows] == [r.macs for r in torch_rows]
    assert s.total_params == t.total_params and s.total_macs == t.total_macs


@pytest.mark.parametrize("layers, match", [
    ([("conv", 4, 9)], r"layers\[0\].*kernel_size"),
    ([("fc", 10), ("conv", 4, 3)], r"layers\[1\].*\(channels, height, width\)"),
    ([("dense", 10)], "unknown layer kind"),
    ([("pool",)], r"layers\[0\]"),
    ([42], r"layers\[0\]"),
])
def test_stack_summary_bad_layers(layers, match):
    with pytest.raises(ValueError, match=match):
        stack_summary((3, 8, 8), layers)
