"""Embedded data (digits, sample photos) and the torch side (Dataset, DataLoaders)."""
import numpy as np
import pytest

from coursekit.data import channel_stats, load, sample_images


def test_digits_splits():
    parts = {s: load("digits", s) for s in ("train", "val", "test")}
    for x, y in parts.values():
        assert x.dtype == np.float32 and x.shape[1:] == (1, 8, 8) and y.dtype == np.int64
        assert 0 <= x.min() and x.max() <= 1 and x.max() == 1.0
    assert sum(len(y) for _, y in parts.values()) == 1797
    from sklearn.datasets import load_digits
    ref = load_digits().images.reshape(1797, -1) / 16.0
    from coursekit.data.embedded import split_indices
    idx = {s: split_indices(1797, s) for s in ("train", "val", "test")}
    assert not set(idx["train"]) & set(idx["val"]) and not set(idx["train"]) & set(idx["test"])
    assert not set(idx["val"]) & set(idx["test"])
    assert sorted(np.concatenate(list(idx.values()))) == list(range(1797))
    # every image is one of sklearn's, with its own label
    x, y = parts["test"]
    lookup = {r.tobytes(): t for r, t in zip(ref, load_digits().target)}
    assert all(lookup[r.astype(np.float64).tobytes()] == t
               for r, t in zip(x.reshape(len(x), -1), y))


def test_digits_n_subset():
    x, y = load("digits", n=100)
    assert len(x) == len(y) == 100


def test_sample_images():
    imgs = sample_images()
    for name in ("chelsea", "astronaut", "coffee", "camera"):
        assert name in imgs
    for name, img in imgs.items():
        assert img.dtype == np.float32 and img.ndim in (2, 3), name
        assert 0 <= img.min() and img.max() <= 1, name
        if img.ndim == 3:
            assert img.shape[2] == 3
    assert imgs["camera"].ndim == 2 and imgs["chelsea"].shape == (300, 451, 3)
    with pytest.raises(ValueError, match="available"):
        sample_images(["nope"])


def test_channel_stats():
    rng = np.random.default_rng(0)
    x = rng.normal([0.2, 0.5, 0.7], [0.1, 0.2, 0.3], (4000, 4, 4, 3)).transpose(0, 3, 1, 2)
    mean, std = channel_stats(x)
    np.testing.assert_allclose(mean, [0.2, 0.5, 0.7], atol=0.01)
    np.testing.assert_allclose(std, [0.1, 0.2, 0.3], atol=0.01)


def test_as_torch_dataset():
    torch = pytest.importorskip("torch")
    ds = load("shapes", "val", n=20, as_torch=True)
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 20
    xi, yi = ds[3]
    x, y = load("shapes", "val", n=20)
    assert torch.equal(xi, torch.from_numpy(x[3])) and int(yi) == y[3]
    ds = load("shapes", "val", n=20, as_torch=True, with_masks=True)
    assert ds[0][2].dtype == torch.bool and ds.classes[0] == "circle"


def test_digits_read_without_sklearn_equal_sklearns_load_digits():
    """The digits are read straight from the file scikit-learn ships (no sklearn import);
    they must be exactly what ``sklearn.datasets.load_digits`` returns."""
    from sklearn.datasets import load_digits as sk_load_digits
    from coursekit.data.embedded import _digits_all
    _digits_all.cache_clear()
    x, y = _digits_all()
    d = sk_load_digits()
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, (d.images.astype(np.float32) / 16.0)[:, None])
    np.testing.assert_array_equal(y, d.target)


def test_dataloaders_normalize_with_train_statistics():
    torch = pytest.importorskip("torch")
    from coursekit.data import dataloaders
    train, val = dataloaders("shapes", batch_size=64, n_train=512, n_val=128)
    xtr, _ = load("shapes", "train", n=512)
    xva, yva = load("shapes", "val", n=128)
    mean, std = channel_stats(xtr)
    assert train.dataset.mean == mean and val.dataset.std == std
    xb, yb = next(iter(val))  # val is not shuffled: the first batch = first images
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(xb, (torch.from_numpy(xva[:64]) - m) / s)
    assert torch.equal(yb, torch.from_numpy(yva[:64]))
    all_x = torch.cat([b[0] for b in train])
    torch.testing.assert_close(all_x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(all_x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3, rtol=0)


def test_dataloaders_without_augmentation_leave_torchvision_unloaded(monkeypatch):
    """augment=None never imports the augmentation module (and torchvision with it: seconds)."""
    pytest.importorskip("torch")
    import sys
    from coursekit.data import dataloaders
    monkeypatch.setitem(sys.modules, "coursekit.data.augment", None)     # any import of it now fails
    train, _ = dataloaders("digits", batch_size=64)
    assert next(iter(train))[0].shape == (64, 1, 8, 8)


def test_dataloaders_with_augmentation_shapes_and_shuffling():
    pytest.importorskip("torch")
    from coursekit.data import dataloaders
    train, _ = dataloaders("digits", batch_size=32, augment="standard")
    xb, yb = next(iter(train))
    assert xb.shape == (32, 1, 8, 8) and yb.dtype.is_floating_point is False
    with pytest.raises(ValueError, match="batch_size"):
        dataloaders("digits", batch_size=0)
