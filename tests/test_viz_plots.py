"""filters, activations (dead channels), embedding codes and top-activating patches."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from coursekit.viz import activations, embedding, filters, overlay, show_attributions, top_activating  # noqa: E402
from coursekit.viz.activations import dead_channels  # noqa: E402
from coursekit.viz.embedding import codes  # noqa: E402
from coursekit.torchutil import count_hooks  # noqa: E402
from coursekit.viz.top_activating import unit_geometry  # noqa: E402


def net(in_ch=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(in_ch, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(6, 3)).eval()


def teardown_function():
    plt.close("all")


@pytest.mark.parametrize("ch", [1, 3])
def test_filters_draws_rgb_and_per_channel_grids(ch):
    m = net(ch)
    fig = filters(m)                           # first layer
    assert len([a for a in fig.axes if a.images]) == 4 * (1 if ch == 3 else ch)
    fig = filters(m, "3", max_filters=5, max_channels=3)
    assert len([a for a in fig.axes if a.images]) == 5 * 3
    assert sum(a.get_label() == "<colorbar>" for a in fig.axes) == 1


def test_activations_values_and_dead_channels():
    m = net()
    with torch.no_grad():
        m[3].bias.fill_(2.0)                  # the others are alive
        m[3].weight[2].zero_()
        m[3].bias[2] = -1.0                   # channel 2 after ReLU is always 0: dead
    x = torch.rand(2, 3, 8, 8)
    acts = activations(m, x, ["1", m[4]])
    np.testing.assert_allclose(acts["1"], m[:2](x).detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(dead_channels(acts["4"]), [2])
    fig = plt.gcf()
    assert "1 dead" in " ".join(sub.get_suptitle() for sub in fig.subfigs)
    dead_ax = next(a for a in fig.axes if a.get_title() == "ch 2 dead")
    assert all(s.get_edgecolor()[:3] == (1.0, 0.0, 0.0) for s in dead_ax.spines.values())
    inputs = [a for a in fig.axes if a.get_title() == "input"]
    assert len(inputs) == 2                   # the input image first, in each layer's block
    assert sum(a.get_label() == "<colorbar>" for a in fig.axes) == 2
    assert count_hooks(m) == 0


def test_embedding_codes_are_penultimate_inputs():
    m = net()
    x, y = torch.rand(40, 3, 8, 8), torch.arange(40) % 3
    loader = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 40, 16)]
    z, lab, im = codes(m, loader, n=30)
    np.testing.assert_allclose(z, m[:7](x[:30]).detach().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(lab, y[:30].numpy())
    xy, lab = embedding(m, loader, method="pca", n=30, thumbnails=5)
    assert xy.shape == (30, 2)
    xy, _ = embedding(m, (x[:20], y[:20]), method="tsne", n=20, thumbnails=0)
    assert xy.shape == (20, 2)
    with pytest.raises(ValueError, match="method"):
        embedding(m, loader, method="umap")


def test_neighbour_agreement_and_embed_points():
    from coursekit.viz.embedding import embed_points, neighbour_agreement
    rng = np.random.default_rng(0)
    lab = np.repeat([0, 1], 20)
    tight = rng.normal(size=(40, 5)) * 0.1 + lab[:, None] * 10
    assert neighbour_agreement(tight, lab, k=3) == 1.0
    assert neighbour_agreement(rng.normal(size=(40, 5)), lab, k=3) < 0.8
    with pytest.raises(ValueError, match="k=5"):
        neighbour_agreement(tight[:4], lab[:4])
    xy = embed_points(tight, lab, images=rng.random((40, 3, 8, 8)), method="pca", thumbnails=3)
    assert xy.shape == (40, 2)


def test_neighbour_distance_compares_neighbours_with_all_pairs():
    from coursekit.viz.embedding import neighbour_distance
    rng = np.random.default_rng(0)
    colour = np.repeat([[0.0, 0, 0], [1.0, 0, 0]], 20, axis=0)       # two colours, 20 points each
    near, pairs = neighbour_distance(colour + rng.normal(size=(40, 3)) * 0.01, colour, k=3)
    assert near == 0.0 and abs(pairs - 20 * 20 * 2 / (40 * 39)) < 1e-12   # neighbours share the colour
    near, pairs = neighbour_distance(rng.normal(size=(40, 5)), colour, k=3)
    assert near > 0.2                                                # a space that ignores the colour
    with pytest.raises(ValueError, match="k=5"):
        neighbour_distance(colour[:4], colour[:4])


def test_unit_geometry_matches_gradient_support():
    # stride-2 conv then conv, all-positive weights: the receptive field is exactly the
    # set of input pixels with a non-zero gradient
    m = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.Conv2d(1, 1, 3, padding=1))
    with torch.no_grad():
        for c in (m[0], m[1]):
            c.weight.fill_(1.0)
    x = torch.rand(1, 1, 20, 20, requires_grad=True)
    geo = unit_geometry(m, m[1], x.detach())
    assert geo == {"size": 7, "jump": 2, "start": 0.0}
    i, j = 4, 5
    m(x)[0, 0, i, j].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    half = geo["size"] // 2
    assert (rows.min(), rows.max()) == (2 * i - half, 2 * i + half)
    assert (cols.min(), cols.max()) == (2 * j - half, 2 * j + half)


def test_top_activating_finds_brightest_spot():
    m = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.ReLU())
    with torch.no_grad():
        m[0].weight.zero_()
        m[0].weight[0, 0, 1, 1] = 1.0
        m[0].bias.zero_()
    x = torch.rand(30, 1, 12, 12) * 0.5
    x[7, 0, 5, 6] = 3.0
    x[20, 0, 9, 2] = 2.0
    res = top_activating(m, [(x[:16], None), (x[16:], None)], m[0], channel=0, k=2, plot=True)
    np.testing.assert_array_equal(res["index"], [7, 20])
    np.testing.assert_array_equal(res["position"], [[5, 6], [9, 2]])
    assert res["receptive_field"] == 3
    np.testing.assert_allclose(res["patches"][0], x[7, :, 4:7, 5:8].numpy())


def test_overlay_and_grid():
    img = torch.rand(3, 8, 8)
    ax = overlay(img, np.random.rand(8, 8), title="t")
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="heatmap shape"):
        overlay(img, np.random.rand(4, 4))
    fig = show_attributions(torch.rand(2, 1, 8, 8), {"a": np.random.rand(2, 8, 8),
                                                     "guided": np.random.rand(2, 1, 8, 8)})
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(panels) == 6 and len(fig.axes) == 7          # one colorbar for every method
    maps = [a.images[-1] for a in panels if a.get_title() in ("a", "guided")]
    assert {m.get_cmap().name for m in maps} == {"inferno"}  # one encoding for every column
    masks = np.zeros((2, 8, 8), bool)
    masks[:, 2:6, 2:6] = True
    fig = show_attributions(torch.rand(2, 3, 8, 8), {"a": np.random.rand(2, 8, 8)}, masks=masks)
    assert all(a.collections for a in fig.axes if a.get_label() != "<colorbar>")   # outlines drawn


def test_visualization_explorer_updates_from_viz():
    from coursekit.viz import grad_cam, saliency
    from coursekit.widgets import visualization_explorer
    m = net()
    x = torch.rand(3, 3, 8, 8)
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:5, 2:5] = True
    w = visualization_explorer(m, x, labels=[0, 1, 2], classes=["a", "b", "c"], masks=masks)
    np.testing.assert_allclose(w.heatmap, grad_cam(m, x[:1], m(x[:1]).argmax(1))[0], rtol=1e-6)
    assert w.image.value[:4] == b"\x89PNG" and "pointing game" in w.info.value
    w.method.value, w.target.value, w.index.value = "saliency", "c", 2
    np.testing.assert_allclose(w.heatmap, saliency(m, x[2:3], 2)[0], rtol=1e-6)
    assert count_hooks(m) == 0
