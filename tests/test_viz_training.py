"""H5's plots and the optimizer explorer: they draw what they are given."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit import hpsearch as hp, metrics, optim, viz  # noqa: E402


def teardown_function():
    plt.close("all")


def test_schedules_plot_uses_the_nn_schedules():
    from coursekit.nn.schedules import cosine
    fig = viz.plot_schedules(total_steps=50)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 7
    cos = [ln for ln in lines if ln.get_label() == "cosine"][0]
    np.testing.assert_allclose(cos.get_ydata(), [cosine(t, 0.1, 50) for t in range(50)])
    with pytest.raises(ValueError):
        viz.plot_schedules({})


def test_optimizer_paths_plot():
    paths = {n: optim.optimizer_path("ravine", n, lr=0.1, steps=20) for n in ("sgd", "adam")}
    fig = viz.plot_optimizer_paths(paths)
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert any(lb.startswith("sgd: loss") for lb in labels) and "start" in labels
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        viz.plot_optimizer_paths({"bad": np.zeros((3, 3))})


def test_curves():
    fig = viz.plot_step_losses({"batch 8": np.random.default_rng(0).random(50) + 1,
                                "batch 128": np.linspace(2, 1, 50)})
    assert len(fig.axes[0].get_lines()) == 4
    np.testing.assert_allclose(viz.smooth([2.0, 2.0, 2.0]), [2.0, 2.0, 2.0])
    hist = {"update_ratio": {"0.weight": [1e-2, 1e-3], "3.weight": [1e-3, 5e-4]},
            "train_acc": [0.5, 0.9], "val_acc": [0.4, 0.6]}
    assert len(viz.plot_update_ratios({"run": hist}).axes[0].get_lines()) == 2
    fig = viz.plot_train_val_gap({"run": hist})
    assert "final gap (train − val) +30.0 points" in fig.axes[0].get_title()
    fig = viz.plot_train_val_gap({"val above train": {"train_acc": [0.5, 0.66], "val_acc": [0.6, 0.675]}})
    assert "-1.5 points" in fig.axes[0].get_title()         # the sign is kept, not abs()


def test_distributions_search_and_metric_plots():
    fig = viz.plot_distributions({"a": np.zeros(10), "b": np.arange(10.0)})
    assert "zeros 100%" in fig.axes[0].get_title()
    space = {"lr": hp.LogUniform(1e-5, 1), "weight_decay": hp.LogUniform(1e-6, 1e-1)}
    task = hp.SyntheticTask()
    res = [hp.grid_search(task, space, 9, 9), hp.random_search(task, space, 9, 9)]
    fig = viz.plot_search_points(res, task=task)
    assert "3 distinct lr values" in fig.axes[0].get_title()
    assert "9 distinct lr values" in fig.axes[1].get_title()
    comp = hp.compare_search_methods(space, budget=4, max_resource=3, n_tasks=10)
    assert "10 random tasks" in viz.plot_search_comparison(comp).axes[0].get_title()
    viz.plot_coarse_to_fine(hp.coarse_to_fine(task, space, rounds=2, per_round=5))
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    fig = viz.plot_pr_roc({"model": (metrics.pr_curve(y, s), metrics.roc_curve(y, s))})
    assert "AUC" in fig.axes[1].get_legend().get_texts()[0].get_text()
    viz.plot_confusion_matrix(metrics.confusion_matrix(y, (s > 0.5).astype(int)), ["neg", "pos"])
    anchors = metrics.anchor_grid(64, 16, (16,), (1.0,))
    gt = np.array([[8.0, 8.0, 24.0, 24.0]])
    viz.plot_anchors(anchors, gt, metrics.label_anchors(anchors, gt), 64)


def test_optimizer_explorer_redraws(monkeypatch):
    import coursekit.viz.loss_surface as ls
    from coursekit.widgets import optimizer_explorer
    calls = []
    real = ls.plot_optimizer_paths
    monkeypatch.setattr(ls, "plot_optimizer_paths",
                        lambda paths, *a, **k: calls.append(paths) or real(paths, *a, **k))
    panel = optimizer_explorer(steps=10)
    controls, out = panel.children
    controls.children[2].value = 0.5          # the learning-rate slider
    assert len(calls) == 2 and set(calls[1]) == {"sgd", "momentum", "adam"}
    np.testing.assert_allclose(calls[1]["sgd"], optim.optimizer_path("ravine", "sgd", lr=0.5, steps=10))
    with pytest.raises(ValueError, match="unknown optimizers"):
        optimizer_explorer(optimizers=("lbfgs",))
