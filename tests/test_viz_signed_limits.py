"""Signed data is drawn in a diverging map with symmetric limits and a colorbar (the guide's
plot rule), for the filter grids the lessons show (issue 22: a viz promise no test checked)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from coursekit.viz import filters  # noqa: E402
from coursekit.viz.style import DIVERGING, symmetric_limit  # noqa: E402


def teardown_function():
    plt.close("all")


def test_symmetric_limit_is_the_largest_magnitude():
    assert symmetric_limit(np.array([-3.0, 1.0]), np.array([2.5])) == 3.0
    assert symmetric_limit(np.array([0.5, -0.25])) == 0.5
    assert symmetric_limit(np.zeros(3)) == 1.0 and symmetric_limit(np.array([])) == 1.0
    assert symmetric_limit(np.array([np.nan, -2.0])) == 2.0


@pytest.mark.parametrize("in_ch, layer", [(1, None), (2, None)])
def test_filter_grids_share_symmetric_limits_and_a_colorbar(in_ch, layer):
    torch.manual_seed(0)
    conv = nn.Conv2d(in_ch, 4, 3)
    with torch.no_grad():
        conv.weight.mul_(3.0)
        conv.weight[1, 0, 0, 0] = -5.0            # the largest magnitude is negative
    fig = filters(nn.Sequential(conv, nn.ReLU()), layer)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 4 * in_ch
    for im in images:
        assert im.get_clim() == pytest.approx((-5.0, 5.0))
        assert im.get_cmap().name == plt.get_cmap(DIVERGING).name
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes), "no colorbar"
    fig = filters(nn.Sequential(conv), vmax=8.0)   # a shared scale to compare two models
    assert all(im.get_clim() == pytest.approx((-8.0, 8.0)) for ax in fig.axes for im in ax.images)
