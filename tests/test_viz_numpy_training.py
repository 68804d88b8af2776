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
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == len(hist.step_loss) == 6


def test_plot_timings_annotates_speedups_and_rejects_bad_input():
    fig = plot_timings({"slow": 1.0, "fast": 0.01})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("(100x)" in t for t in texts) and any("(1x)" in t for t in texts)
    assert "faster than the slowest" in fig.axes[0].get_xlabel()          # the key to the (Nx) labels
    texts = [t.get_text() for t in plot_timings({"slow": 1.0, "fast": 0.4}).axes[0].texts]
    assert any("(2.5x)" in t for t in texts)                               # small speed-ups keep a decimal
    with pytest.raises(ValueError, match="positive"):
        plot_timings({"broken": 0.0})


def _tiny_history(opt=None, epochs=2):
    r = np.random.default_rng(0)
    model = nn.lesson_cnn(1, 3, 8, channels=(2,), rng=r)
    x, y = r.standard_normal((12, 1, 8, 8)), r.integers(0, 3, 12)
    optimizer = (opt or (lambda m: nn.Adam(m, lr=1e-2)))(model)
    return nn.Trainer(model, optimizer, batch_size=4).fit(x, y, x, y, epochs=epochs, progress=False)


def test_plot_ratio_vs_lr_pairs_each_ratio_with_lr_over_rms():
    from coursekit.viz.numpy_training import plot_ratio_vs_lr
    hist = _tiny_history()
    fig = plot_ratio_vs_lr(hist)
    lr_ax, ratio_ax = fig.axes[:2]
    assert lr_ax.get_yscale() == "log" and ratio_ax.get_yscale() == "log"
    labels = [ln.get_label() for ln in ratio_ax.get_lines()]
    assert labels == ["0.w: ||Δw|| / ||w||", "0.w: lr / rms(w)", "4.w: ||Δw|| / ||w||", "4.w: lr / rms(w)"]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in (lr_ax, ratio_ax))


def test_plot_seed_runs_shows_mean_and_band_per_label():
    from coursekit.viz.numpy_training import plot_seed_runs
    runs = {"a": [_tiny_history(), _tiny_history()], "b": [_tiny_history(lambda m: nn.SGD(m, lr=0.1))]}
    fig = plot_seed_runs(runs, title="t")
    loss_ax, acc_ax = fig.axes[:2]
    assert [ln.get_label() for ln in loss_ax.get_lines()] == ["a (2 seeds)", "b (1 seeds)"]
    assert len(acc_ax.get_lines()[0].get_xdata()) == 2          # one point per epoch
    with pytest.raises(ValueError, match="empty"):
        plot_seed_runs({})


def test_show_feature_maps_diverging_for_signed_maps():
    from coursekit.viz.kernels import show_feature_maps
    fig = show_feature_maps(np.array([[[1.0, -2.0]], [[0.5, 0.0]]]), names=["a", "b"], label="weight")
    im = fig.axes[0].images[0]
    assert im.get_cmap().name == "RdBu_r" and im.get_clim() == (-2.0, 2.0)
    assert fig.axes[-1].get_ylabel() == "weight"                # the colorbar
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    fig = show_feature_maps(np.ones((1, 2, 2)))
    assert fig.axes[0].images[0].get_cmap().name == "viridis"
