"""Plots of NumPy training runs and timings (coursekit.viz.numpy_training)."""
import matplotlib
import numpy as np
import pytest

from coursekit import nn
from coursekit.viz.numpy_training import plot_numpy_training, plot_timings

matplotlib.use("Agg")


def test_plot_numpy_training_has_three_labelled_panels():
    r = np.random.default_rng(0)
    model = nn.lesson_cnn(1, 3, 8, channels=(2,), rng=r)
    x, y = r.standard_normal((12, 1, 8, 8)), r.integers(0, 3, 12)
    hist = nn.Trainer(model, nn.SGD(model, lr=0.1), batch_size=4).fit(x, y, x, y, epochs=2, progress=False)
    fig = plot_numpy_training(hist, title="run")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Training loss", "Accuracy", "Update/weight ratio"]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    ratio_lines = [ln.get_label() for ln in fig.axes[2].get_lines()]
    assert ratio_lines == ["0.w", "4.w"]
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == len(hist.loss) == 6


def test_plot_timings_annotates_speedups_and_rejects_bad_input():
    fig = plot_timings({"slow": 1.0, "fast": 0.01})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("(100x)" in t for t in texts) and any("(1x)" in t for t in texts)
    with pytest.raises(ValueError, match="positive"):
        plot_timings({"broken": 0.0})
