"""coursekit.imbalance: imbalanced shapes and resampling."""
import numpy as np
import pytest
import torch

from coursekit import imbalance


def test_long_tail_counts():
    c = imbalance.long_tail_counts(5, 1000, 100)
    assert c[0] == 1000 and c[-1] == 10 and np.all(np.diff(c) < 0)
    with pytest.raises(ValueError):
        imbalance.long_tail_counts(1, 10, 2)


def test_imbalanced_shapes_long_tail_and_binary():
    x, y = imbalance.imbalanced_shapes("train", n=600, imbalance_factor=10, size=16)
    counts = imbalance.class_counts(y)
    assert x.shape[1:] == (3, 16, 16) and len(x) == len(y)
    assert abs(len(y) - 600) < 30 and counts[0] / counts[-1] == pytest.approx(10, rel=0.15)
    xb, yb = imbalance.imbalanced_shapes("val", n=400, positive="star", positive_fraction=0.05,
                                         size=16)
    assert len(yb) == 400 and yb.sum() == 20 and set(np.unique(yb)) == {0, 1}
    with pytest.raises(ValueError, match="positive"):
        imbalance.imbalanced_shapes(positive="hexagon", n=50)


def test_resampling():
    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    over = imbalance.oversample_indices(y)
    assert np.bincount(y[over]).tolist() == [90, 90, 90]
    assert set(over[y[over] == 0]) == set(range(90))          # nothing of the majority lost
    under = imbalance.undersample_indices(y)
    assert np.bincount(y[under]).tolist() == [1, 1, 1]
    sampler = imbalance.balanced_sampler(y, num_samples=30000)
    drawn = np.bincount(y[np.array(list(sampler))], minlength=3) / 30000
    np.testing.assert_allclose(drawn, [1 / 3] * 3, atol=0.02)
    idx = imbalance.subsample_to_counts(y, [5, 2, 1])
    assert np.bincount(y[idx]).tolist() == [5, 2, 1]
    with pytest.raises(ValueError, match="only"):
        imbalance.subsample_to_counts(y, [5, 20, 1])
    with pytest.raises(ValueError, match="class indices"):
        imbalance.oversample_indices(torch.tensor([0.5, 1.0]))


def test_make_loader():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.array([0] * 90 + [1] * 10)
    plain = imbalance.make_loader(x, y, batch_size=100)
    assert len(plain.dataset) == 100
    over = imbalance.make_loader(x, y, batch_size=60, balance="oversample")
    ys = torch.cat([b[1] for b in over])
    assert len(ys) == 180 and int(ys.sum()) == 90
    samp = imbalance.make_loader(x, y, batch_size=100, balance="sampler")
    assert 0.3 < float(torch.cat([b[1] for b in samp]).float().mean()) < 0.7
    with pytest.raises(ValueError, match="balance"):
        imbalance.make_loader(x, y, balance="smote")


def test_binary_imbalanced():
    y = np.repeat(np.arange(10), 50)
    x = np.arange(500.0)
    xb, yb = imbalance.binary_imbalanced(x, y, positive=3, positive_fraction=0.1)
    assert len(yb) == 500 and yb.sum() == 50 and np.all(y[xb.astype(int)][yb == 1] == 3)
    xb, yb = imbalance.binary_imbalanced(x, y, positive=3, positive_fraction=0.05, n=200)
    assert len(yb) == 200 and yb.sum() == 10
    with pytest.raises(ValueError, match="lower n"):
        imbalance.binary_imbalanced(x, y, positive=3, positive_fraction=0.5, n=400)
