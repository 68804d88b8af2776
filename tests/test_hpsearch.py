"""coursekit.hpsearch: spaces, equal budgets, and the measured grid-vs-random demonstration."""
import math

import numpy as np
import pytest

from coursekit import hpsearch as hp

SPACE = {"lr": hp.LogUniform(1e-5, 1.0), "weight_decay": hp.LogUniform(1e-6, 1e-1)}


def test_spaces_sample_and_grid_on_log_scale():
    rng = np.random.default_rng(0)
    s = SPACE["lr"].sample(rng, 20000)
    assert s.min() >= 1e-5 and s.max() <= 1.0
    # log-uniform: each decade gets about a fifth of the samples
    counts = np.histogram(np.log10(s), bins=5, range=(-5, 0))[0]
    assert np.all(np.abs(counts / 20000 - 0.2) < 0.02)
    np.testing.assert_allclose(np.log10(SPACE["lr"].grid(5)), [-4.5, -3.5, -2.5, -1.5, -0.5])
    np.testing.assert_allclose(hp.Uniform(0, 1).grid(4), [0.125, 0.375, 0.625, 0.875])
    with pytest.raises(ValueError, match="low"):
        hp.LogUniform(0, 1)


def test_grid_uses_at_most_the_budget():
    cfgs = hp.grid_configs(SPACE, 10)
    assert len(cfgs) == 9 and len({c["lr"] for c in cfgs}) == 3
    cfgs = hp.grid_configs(SPACE | {"opt": hp.Choice(("sgd", "adam"))}, 8)
    assert len(cfgs) == 8 and {c["opt"] for c in cfgs} == {"sgd", "adam"}
    with pytest.raises(ValueError, match="budget"):
        hp.grid_configs(SPACE, 0)


def test_searches_spend_the_same_budget_and_find_the_optimum_region():
    task = hp.SyntheticTask(lr_opt=3e-3, wd_opt=1e-4)
    results = [hp.grid_search(task, SPACE, 9, resource=9),
               hp.random_search(task, SPACE, 9, resource=9, seed=1),
               hp.successive_halving(task, SPACE, 9, max_resource=9, seed=1)]
    for r in results:
        assert r.cost <= 81 and r.cost >= 60, r
        assert abs(math.log10(r.best.config["lr"] / 3e-3)) < 1.0, r
    halving = results[2]
    assert len(halving.trials) > 9                     # many cheap starts ...
    assert max(t.resource for t in halving.trials) == 9  # ... and a full-length finish
    assert len({t.resource for t in halving.trials}) >= 2


def test_synthetic_task_behaves_like_training():
    t = hp.SyntheticTask(lr_opt=1e-2)
    good, slow, bad = {"lr": 1e-2, "weight_decay": 1e-4}, {"lr": 1e-4, "weight_decay": 1e-4}, \
        {"lr": 1.0, "weight_decay": 1e-4}
    assert t(good, 10) < t(good, 1) and t(good, 10) < t(slow, 10)
    assert t.final_loss(bad) == t.chance
    assert t(good, 3) == t(good, 3)                    # deterministic noise
    assert t.final_loss(good) == pytest.approx(t.floor)


def test_random_beats_grid_more_often_with_an_unimportant_parameter():
    space = SPACE | {"dropout": hp.Uniform(0.0, 0.5)}  # dropout does not matter at all here
    r = hp.compare_search_methods(space, budget=8, max_resource=9, n_tasks=150, seed=0)
    assert r["random_beats_grid"] > r["grid_beats_random"] + 0.1, r
    assert np.median(r["random"]["lr_error"]) < np.median(r["grid"]["lr_error"])
    assert np.all(r["halving"]["cost"] <= 72) and np.all(r["grid"]["cost"] == 72)


def test_coarse_to_fine_narrows_the_range():
    task = hp.SyntheticTask(lr_opt=3e-3)
    rounds = hp.coarse_to_fine(task, SPACE, rounds=3, per_round=10, resource=9, seed=0)
    widths = [math.log10(r.space["lr"].high / r.space["lr"].low) for r in rounds]
    assert widths[0] == pytest.approx(5.0) and widths[2] < widths[1] < widths[0]
    assert rounds[0].space["lr"].low <= 3e-3 <= rounds[0].space["lr"].high
    assert min(r.best.score for r in rounds[1:]) <= rounds[0].best.score + 0.01


def test_tiny_model_task_and_cross_validation():
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    task = hp.TinyModelTask(x[:300], y[:300], x[300:500], y[300:500], hidden=16)
    good = task({"lr": 0.2, "weight_decay": 1e-4}, 8)
    tiny = task({"lr": 1e-5, "weight_decay": 1e-4}, 8)
    assert good < 1.2 and tiny > 2.0 and task({"lr": 10.0, "weight_decay": 0.0}, 2) > good
    scores = hp.cross_validate(lambda tr, va: float(np.mean(y[va] == np.bincount(y[tr]).argmax())),
                               y[:200], k=4)
    assert scores.shape == (4,) and np.all(scores < 0.3)
    with pytest.raises(ValueError, match="k must"):
        hp.cross_validate(lambda tr, va: 0.0, y[:10], k=1)


def test_edge_of_the_range_is_flagged():
    sc = hp.scan("C", [0.1, 1.0, 10.0], lambda c: [c, c])           # best at the largest value
    assert sc.best_value == 10.0 and "largest value tried" in sc.warning and "extend" in sc.warning
    assert hp.scan("C", [0.1, 1.0, 10.0], lambda c: -abs(np.log10(c))).warning is None
    assert "smallest" in hp.scan("loss", [1, 2, 3], lambda v: v, higher_is_better=False).warning
    task = hp.SyntheticTask(lr_opt=0.5, wd_opt=1e-4)                  # optimum beyond the range
    res = hp.random_search(task, {"lr": hp.LogUniform(1e-5, 1e-2), "weight_decay": hp.LogUniform(1e-6, 1e-1)}, 12)
    assert any(w.startswith("best lr=") and "largest" in w for w in res.edge_warnings())


def test_temporal_folds_never_train_on_the_future():
    seen = []
    hp.cross_validate(lambda tr, va: seen.append((tr.max(), va.min())) or 0.0, np.zeros(50), k=4, folds="temporal")
    assert len(seen) == 4 and all(tr_max < va_min for tr_max, va_min in seen)
    feats, target = hp.drifting_series(100, seed=1)
    assert feats.shape == (100, 2) and target.shape == (100,)
    with pytest.raises(ValueError, match="folds"):
        hp.cross_validate(lambda tr, va: 0.0, np.zeros(10), k=2, folds="random")


def test_data_vs_search_shapes():
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    r = hp.data_vs_search(x[:300] / 16, y[:300], x[300:400] / 16, y[300:400], sizes=(50, 100),
                          base=100, budgets=(1, 3), seeds=(0,))
    assert set(r["size"]) == {50, 100} and set(r["budget"]) == {1, 3}
    assert all(0 <= a <= 1 for v in r["size"].values() for a in v)
    from coursekit.viz import plot_data_vs_search
    fig = plot_data_vs_search(r)
    assert [a.get_title() for a in fig.axes] == ["more data", "more tuning"]


def test_bad_space():
    with pytest.raises(TypeError, match="space"):
        hp.random_search(lambda c, r: 0.0, {"lr": (1e-3, 1e-1)}, 3)
