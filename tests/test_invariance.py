"""Lesson 09's invariance experiment: digits on a canvas, shift augmentation, shift TTA."""
import numpy as np
import pytest
import torch

from coursekit.data import load
from coursekit.data import numpy_augment as na
from coursekit.data.tta import predict_tta, shift_views
from coursekit.invariance import ShiftAugmented, shifted_digits, train_invariance_run


def test_place_on_canvas_centres_and_places():
    x = np.arange(2 * 1 * 2 * 2, dtype=np.float32).reshape(2, 1, 2, 2) + 1
    out = na.place_on_canvas(x, 4)
    assert out.shape == (2, 1, 4, 4) and (out[:, :, 1:3, 1:3] == x).all() and out.sum() == x.sum()
    out = na.place_on_canvas(x, 4, offsets=[(0, 0), (2, 2)], fill=0.5)
    assert (out[0, 0, :2, :2] == x[0, 0]).all() and (out[1, 0, 2:, 2:] == x[1, 0]).all()
    assert out[0, 0, 3, 3] == 0.5
    with pytest.raises(ValueError, match="offsets"):
        na.place_on_canvas(x, 4, offsets=[(0, 0), (3, 0)])
    with pytest.raises(ValueError, match="canvas"):
        na.place_on_canvas(x, 1)
    placed, offsets = na.random_place(x, 6, rng=0)
    for img, src, (t, l) in zip(placed, x, offsets):
        assert (img[:, t:t + 2, l:l + 2] == src).all() and img.sum() == src.sum()


def test_shift_views_cover_the_grid():
    views = shift_views(1)
    assert len(views) == 9 and len(shift_views(0)) == 1
    x = torch.zeros(1, 1, 5, 5)
    x[..., 2, 2] = 1
    centres = {tuple(torch.nonzero(v(x)[0, 0])[0].tolist()) for v in views}
    assert centres == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}
    with pytest.raises(ValueError, match="max_shift"):
        shift_views(-1)


def test_shifted_digits_and_augmented_batches():
    d = shifted_digits(shift=2, copies=2)
    assert d.canvas == 12 and d.x_train.shape[1:] == (1, 12, 12)
    assert (d.x_train[..., :2, :] == 0).all() and (d.x_train[..., :, -2:] == 0).all()   # centred
    assert len(d.x_val) == len(d.y_val) == 2 * len(load("digits", "val")[1])            # 2 copies
    assert not (d.x_val[..., :2, :] == 0).all()                                           # shifted
    batches = ShiftAugmented(d.x_train, d.y_train, shift=2, batch_size=100, seed=0)
    xb, yb = next(iter(batches))
    assert xb.shape == (100, 1, 12, 12) and yb.dtype == torch.int64 and len(batches) == 13
    sums = np.round(d.x_train.sum(axis=(1, 2, 3)), 3)        # a shift of <= 2 px never cuts a digit
    assert np.isin(np.round(xb.numpy().sum(axis=(1, 2, 3)), 3), sums).all()
    with pytest.raises(ValueError, match="shift"):
        shifted_digits(shift=0)


def test_one_short_run_records_every_measurement():
    d = shifted_digits(shift=2, copies=1)
    run = train_invariance_run(d, augmented=True, seed=0, epochs=2, channels=(4, 8))
    assert len(run.clean_train_acc) == len(run.batch_train_acc) == len(run.val_acc) == 2
    assert set(run.tta_acc) == {"plain", "TTA: 9 shifts", "TTA: 25 shifts"}
    assert all(0 <= a <= 1 for a in run.tta_acc.values())
    assert run.curves()["train_acc"] is run.clean_train_acc
    p = predict_tta(run.model, d.x_test[:5], views=["identity"])
    assert p.shape == (5, 10)


def test_grouped_tta_plot():
    from coursekit.viz import plot_tta_gain
    fig = plot_tta_gain({"model A": {"plain": [0.8, 0.82], "TTA": [0.83, 0.85]},
                         "model B": {"plain": 0.5, "TTA": 0.55}})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["model A", "model B"]
    assert len(ax.patches) == 4
