"""coursekit.nn.trainer: weight rms beside the update ratio, dataset_loss, fit_seeds."""
import numpy as np

from coursekit import nn


def _data(n=24, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal((n, 1, 8, 8)), r.integers(0, 3, n)


def test_trainer_records_weight_rms_with_each_ratio():
    x, y = _data()
    model = nn.lesson_cnn(1, 3, 8, channels=(2,), rng=0)
    h = nn.Trainer(model, nn.Adam(model, lr=1e-2), batch_size=4, ratio_every=2).fit(x, y, epochs=1, progress=False)
    assert h.ratio_steps == [0, 2, 4]
    for k, w in model.params.items():
        assert len(h.weight_rms[k]) == len(h.step_update_ratio[k]) == 3
    w = model.params["0.w"]
    assert h.weight_rms["0.w"][-1] != 0 and np.isfinite(h.weight_rms["0.w"]).all()
    # Adam's first step moves every element by lr (m/sqrt(v) = ±1): ratio = lr / rms(w) exactly
    m2 = nn.lesson_cnn(1, 3, 8, channels=(2,), rng=0)
    h2 = nn.Trainer(m2, nn.Adam(m2, lr=1e-3), batch_size=24).fit(x, y, epochs=1, progress=False)
    assert np.isclose(h2.step_update_ratio["0.w"][0], 1e-3 / h2.weight_rms["0.w"][0], rtol=1e-3)


def test_dataset_loss_is_the_mean_eval_loss_and_restores_the_mode():
    x, y = _data(10)
    model = nn.lesson_cnn(1, 3, 8, channels=(2,), rng=0)
    model.train(True)
    want = nn.softmax_cross_entropy(model.forward(x), y)[0]
    assert np.isclose(nn.dataset_loss(model, x, y, batch_size=3), want)
    assert model.training


def test_fit_seeds_one_fresh_model_per_seed_with_a_schedule():
    x, y = _data()
    seen = []

    def schedule(total):
        seen.append(total)
        return nn.make_schedule("constant", lr0=0.05)

    runs = nn.fit_seeds(lambda s: nn.lesson_cnn(1, 3, 8, channels=(2,), rng=s), lambda m: nn.SGD(m, lr=0.1),
                        x, y, x, y, seeds=(0, 1), epochs=2, batch_size=8, scheduler=schedule)
    assert len(runs) == 2 and seen == [6, 6]
    (m0, h0), (m1, h1) = runs
    assert m0 is not m1 and len(h0.val_acc) == 2 and set(h0.step_lr) == {0.05}
    assert not np.allclose(m0.params["0.w"], m1.params["0.w"])
    again = nn.fit_seeds(lambda s: nn.lesson_cnn(1, 3, 8, channels=(2,), rng=s), lambda m: nn.SGD(m, lr=0.1),
                         x, y, seeds=(0,), epochs=2, batch_size=8)
    assert np.allclose(again[0][1].step_loss, nn.fit_seeds(lambda s: nn.lesson_cnn(1, 3, 8, channels=(2,), rng=s),
                                                      lambda m: nn.SGD(m, lr=0.1), x, y, seeds=(0,), epochs=2,
                                                      batch_size=8)[0][1].step_loss)


def test_numpy_history_names_are_the_torch_historys():
    """One name per quantity: every field of nn.History except the NumPy-only ratio details
    is a field of train.History with the same meaning (step_* per step, plain per epoch)."""
    from dataclasses import fields

    from coursekit.train import History

    ours = {f.name for f in fields(nn.History)} - {"weight_rms", "ratio_steps"}
    assert ours <= {f.name for f in fields(History)}
