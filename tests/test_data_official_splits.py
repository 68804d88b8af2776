"""The official MNIST / Fashion-MNIST / CIFAR-10 splits and the CIFAR-10 loader, offline
(issue 22): a fake cache in torchvision's layout, whose every image carries its own index in
its pixels, with the checksum tables pointed at the fake files.

Promised (``coursekit.data.torchvision_sets``): ``train`` = the official training set minus
its last ``VAL_SIZE`` images, ``val`` = those images, ``test`` = the official test set; the
three are disjoint, together they are every image once, and labels stay with their images.
"""
from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from coursekit import data
from coursekit.data import torchvision_sets as tvs
from coursekit.data.idx import md5sum

N_MNIST_TRAIN, N_MNIST_TEST = 10_600, 300          # real sets: 60,000 / 10,000
CIFAR_BATCH, N_CIFAR_TEST = 1_100, 200             # real sets: 5 x 10,000 / 10,000


def _idx(path, arr: np.ndarray) -> None:
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head + arr.astype(np.uint8).tobytes())


def _ids_to_pixels(ids: np.ndarray, size: int) -> np.ndarray:
    """(N, size) uint8 rows whose first three bytes spell the image's id (base 256)."""
    px = np.zeros((len(ids), size), np.uint8)
    for k in range(3):
        px[:, k] = (ids >> (8 * k)) & 0xFF
    return px


def _ids(x: np.ndarray) -> np.ndarray:
    """The ids written by :func:`_ids_to_pixels`, back from float images in [0, 1]."""
    flat = np.rint(x.reshape(len(x), -1)[:, :3] * 255).astype(np.int64)
    return flat[:, 0] + (flat[:, 1] << 8) + (flat[:, 2] << 16)


def _label(ids: np.ndarray) -> np.ndarray:
    return (ids * 7 + 3) % 10


@pytest.fixture
def mnist_cache(tmp_path, monkeypatch):
    """MNIST and Fashion-MNIST folders with 2x2 'images' (the loader keeps their shape)."""
    for cls_name, table in (("MNIST", tvs.MNIST_MD5), ("FashionMNIST", tvs.FASHION_MNIST_MD5)):
        raw = tmp_path / cls_name / "raw"
        raw.mkdir(parents=True)
        for prefix, n, offset in (("train", N_MNIST_TRAIN, 0), ("t10k", N_MNIST_TEST, 1 << 20)):
            ids = np.arange(n) + offset
            _idx(raw / f"{prefix}-images-idx3-ubyte.gz", _ids_to_pixels(ids, 4).reshape(n, 2, 2))
            _idx(raw / f"{prefix}-labels-idx1-ubyte.gz", _label(ids))
            for kind in ("images-idx3", "labels-idx1"):
                f = f"{prefix}-{kind}-ubyte.gz"
                monkeypatch.setitem(table, f, md5sum(raw / f))
    return tmp_path


@pytest.fixture
def cifar_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for j, f in enumerate(names):
        n = N_CIFAR_TEST if f == "test_batch" else CIFAR_BATCH
        ids = np.arange(n) + (1 << 20 if f == "test_batch" else j * CIFAR_BATCH)
        rows = _ids_to_pixels(ids, 3072)
        rows[:, 1024] = 200          # first pixel of the green plane
        rows[:, 2048 + 33] = 100     # blue plane, row 1, column 1
        with open(folder / f, "wb") as fh:
            pickle.dump({"data": rows, "labels": _label(ids).tolist(),
                         "batch_label": f.encode()}, fh)
        monkeypatch.setitem(tvs.CIFAR10_MD5, f, md5sum(folder / f))
    return tmp_path


def test_validation_sizes_are_the_documented_ones():
    assert tvs.VAL_SIZE == {"mnist": 10_000, "fashion_mnist": 10_000, "cifar10": 5_000}


def _check_splits(load, n_train_official: int, n_test: int, val: int, test_offset: int):
    parts = {s: load(s) for s in ("train", "val", "test")}
    ids = {s: _ids(x) for s, (x, _) in parts.items()}
    assert len(ids["train"]) == n_train_official - val
    assert len(ids["val"]) == val
    assert len(ids["test"]) == n_test
    # train is the head of the official training set, val its last VAL_SIZE images, in order
    assert np.array_equal(ids["train"], np.arange(n_train_official - val))
    assert np.array_equal(ids["val"], np.arange(n_train_official - val, n_train_official))
    assert np.array_equal(ids["test"], np.arange(n_test) + test_offset)
    assert not set(ids["train"]) & set(ids["val"])
    assert not (set(ids["train"]) | set(ids["val"])) & set(ids["test"])
    for s, (x, y) in parts.items():
        assert x.dtype == np.float32 and y.dtype == np.int64, s
        assert 0.0 <= x.min() and x.max() <= 1.0, s
        assert np.array_equal(y, _label(ids[s])), f"{s}: labels do not follow their images"
    return parts


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_like_official_splits_are_disjoint_and_complete(mnist_cache, name):
    parts = _check_splits(lambda s: tvs.load_mnist_like(name, s, root=mnist_cache, download=False),
                          N_MNIST_TRAIN, N_MNIST_TEST, tvs.VAL_SIZE[name], 1 << 20)
    assert parts["train"][0].shape[1:] == (1, 2, 2)       # (N, 1, H, W)


def test_cifar10_loader_splits_layout_and_labels(cifar_cache):
    parts = _check_splits(lambda s: tvs.load_cifar10(s, root=cifar_cache, download=False),
                          5 * CIFAR_BATCH, N_CIFAR_TEST, tvs.VAL_SIZE["cifar10"], 1 << 20)
    x = parts["val"][0]
    assert x.shape[1:] == (3, 32, 32)
    # rows are R(1024) G(1024) B(1024), each plane 32 x 32 row-major
    assert np.allclose(x[:, 1, 0, 0], 200 / 255) and np.allclose(x[:, 2, 1, 1], 100 / 255)
    assert np.allclose(x[:, 2, 0, 1], 0) and np.allclose(x[:, 1, 0, 1], 0)


def test_load_passes_splits_through_and_n_keeps_the_first_images(cifar_cache, mnist_cache):
    x, y = data.load("cifar10", "val", root=cifar_cache, download=False, n=7)
    assert np.array_equal(_ids(x), np.arange(5 * CIFAR_BATCH - 5000, 5 * CIFAR_BATCH - 5000 + 7))
    x, y = data.load("mnist", "train", root=mnist_cache, download=False)
    assert len(x) == N_MNIST_TRAIN - 10_000


def test_a_corrupt_cached_file_is_never_read(cifar_cache):
    f = cifar_cache / "cifar-10-batches-py" / "data_batch_3"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(tvs.CorruptCacheError, match="data_batch_3"):
        tvs.load_cifar10("train", root=cifar_cache, download=False)
    assert tvs.load_cifar10("test", root=cifar_cache, download=False)[0].shape[0] == N_CIFAR_TEST


def test_missing_files_offline_name_the_embedded_alternative(tmp_path):
    with pytest.raises(tvs.DatasetUnavailableError, match="'shapes'"):
        tvs.load_cifar10("train", root=tmp_path, download=False)
    with pytest.raises(tvs.DatasetUnavailableError, match="'digits'"):
        tvs.load_mnist_like("mnist", "test", root=tmp_path, download=False)
