"""The real MNIST path: IDX reader on the official t10k files, checksums, offline errors."""
import gzip
import shutil

import numpy as np
import pytest

from coursekit.data import CorruptCacheError, DatasetUnavailableError, load
from coursekit.data.idx import md5sum, read_idx
from coursekit.data.torchvision_sets import CIFAR10_MD5, FASHION_MNIST_MD5, MNIST_MD5

IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def mnist_cache(tmp_path, mnist_dir):
    """A cache dir holding copies of the real t10k files in torchvision's layout."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (IMAGES, LABELS):
        # contents only: the shared originals are read-only (0444), and the tests below
        # corrupt the copies (as root the mode did not matter; as an ordinary user it does)
        shutil.copyfile(mnist_dir / f, raw / f)
    return tmp_path


def test_real_files_have_official_checksums(mnist_dir):
    assert md5sum(mnist_dir / IMAGES) == "9fb629c4189551a2d022fa330f9573f3" == MNIST_MD5[IMAGES]
    assert md5sum(mnist_dir / LABELS) == "ec29112dd5afa0611ce80d1b7f02629c" == MNIST_MD5[LABELS]


def test_read_idx_real_files(mnist_dir, tmp_path):
    images, labels = read_idx(mnist_dir / IMAGES), read_idx(mnist_dir / LABELS)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first ten
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # the uncompressed file reads the same
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((mnist_dir / LABELS).read_bytes()))
    assert np.array_equal(read_idx(raw), labels)


def test_read_idx_matches_torchvision(mnist_dir):
    from torchvision.datasets.mnist import read_image_file, read_label_file
    import tempfile, pathlib
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "img"
        p.write_bytes(gzip.decompress((mnist_dir / IMAGES).read_bytes()))
        assert np.array_equal(read_image_file(str(p)).numpy(), read_idx(mnist_dir / IMAGES))


def test_read_idx_other_dtypes_and_errors(tmp_path):
    a = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    p = tmp_path / "a.idx"
    p.write_bytes(b"\x00\x00\x0c\x03" + np.array([2, 3, 4], ">u4").tobytes() + a.tobytes())
    assert np.array_equal(read_idx(p), a) and read_idx(p).dtype == np.int32
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(p)
    p.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(p)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


def test_load_mnist_test_split_from_cache(mnist_cache, mnist_dir, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(mnist_cache))
    x, y = load("mnist", "test")  # root from COURSEKIT_DATA; no download needed
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= x.min() and x.max() == 1.0
    np.testing.assert_array_equal(x[:, 0] * 255, read_idx(mnist_dir / IMAGES).astype(np.float32))
    assert load("mnist", "test", n=5)[1].tolist() == [7, 2, 1, 0, 4]


def test_corrupt_cache_file_is_detected(mnist_cache):
    f = mnist_cache / "MNIST" / "raw" / IMAGES
    data = bytearray(f.read_bytes())
    data[5000] ^= 0xFF  # one flipped byte
    f.write_bytes(bytes(data))
    with pytest.raises(CorruptCacheError, match="corrupt.*md5"):
        load("mnist", "test", root=mnist_cache)
    assert f.exists(), "the user's file is reported, not deleted"


def test_partial_cache_file_is_detected(mnist_cache):
    f = mnist_cache / "MNIST" / "raw" / LABELS
    f.write_bytes(f.read_bytes()[:1000])  # an interrupted download
    with pytest.raises(CorruptCacheError, match=str(f.name)):
        load("mnist", "test", root=mnist_cache)


def test_offline_error_names_embedded_alternative(tmp_path):
    # the machine running the tests is offline: the real mirrors cannot be reached
    with pytest.raises(DatasetUnavailableError, match=r"could not download.*load\('digits'\)"):
        load("mnist", "train", root=tmp_path)
    with pytest.raises(DatasetUnavailableError, match=r"load\('shapes'\)"):
        load("cifar10", "test", root=tmp_path)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size == 0]
    assert not leftovers, f"failed downloads left empty files: {leftovers}"


def test_unreachable_mirror(tmp_path, monkeypatch):
    import torchvision.datasets as tvd
    monkeypatch.setattr(tvd.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DatasetUnavailableError, match="fashion_mnist.*load\\('shapes'\\)"):
        load("fashion_mnist", "test", root=tmp_path)


def test_download_false_does_not_try(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="download=False"):
        load("mnist", "test", root=tmp_path, download=False)


def test_checksum_tables_agree_with_torchvision():
    import torchvision.datasets as tvd
    assert dict(tvd.MNIST.resources) == MNIST_MD5
    assert dict(tvd.FashionMNIST.resources) == FASHION_MNIST_MD5
    assert {f: m for f, m in tvd.CIFAR10.train_list + tvd.CIFAR10.test_list} == CIFAR10_MD5
