"""MNIST, Fashion-MNIST and CIFAR-10: downloaded once through torchvision, verified, cached.

Files live in the cache directory ``coursekit.config.data_dir()`` (``COURSEKIT_DATA``) in
torchvision's layout (``MNIST/raw/*.gz``, ``FashionMNIST/raw/*.gz``,
``cifar-10-batches-py/*``). Every cached file is checked against its official md5 before
use: a corrupt or partial file raises :class:`CorruptCacheError` and is never read. A file
that is missing is downloaded by torchvision; when that fails (offline), a
:class:`DatasetUnavailableError` says so and names the embedded alternative.

Splits: ``train`` is the official training set minus its last ``VAL_SIZE`` images, which
form ``val``; ``test`` is the official test set. The three are disjoint.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .idx import md5sum, read_idx

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")

# Official md5 checksums (the same as torchvision's; tests compare the two tables).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
CIFAR10_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}

VAL_SIZE = {"mnist": 10_000, "fashion_mnist": 10_000, "cifar10": 5_000}
_MNIST_LIKE = {
    "mnist": ("MNIST", MNIST_MD5, "digits"),
    "fashion_mnist": ("FashionMNIST", FASHION_MNIST_MD5, "shapes"),
}
_ALTERNATIVE = {"mnist": "digits", "fashion_mnist": "shapes", "cifar10": "shapes"}


class DatasetUnavailableError(RuntimeError):
    """A data set is not in the cache and could not be downloaded (e.g. offline)."""


class CorruptCacheError(RuntimeError):
    """A cached data file does not match its official checksum (corrupt or partial)."""


def _root(root) -> Path:
    if root is None:
        from coursekit.config import data_dir
        root = data_dir()
    return Path(root).expanduser()


def verify_file(path: Path, md5: str) -> None:
    """Raise :class:`CorruptCacheError` unless ``path``'s md5 equals ``md5``."""
    got = md5sum(path)
    if got != md5:
        raise CorruptCacheError(
            f"cached file {path} is corrupt or incomplete (md5 {got}, expected {md5}). "
            f"It was not used. Delete it (rm '{path}') and load again to re-download it.")


def _unavailable(name: str, root: Path, err: Exception) -> DatasetUnavailableError:
    alt = _ALTERNATIVE[name]
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    first = (lines[-1] if lines else type(err).__name__)[:200]
    return DatasetUnavailableError(
        f"could not download the {name!r} data set into {root} (are you offline? {first}). "
        f"Use the embedded alternative instead: coursekit.data.load({alt!r}), which needs no "
        f"download; or copy the files into {root} (set COURSEKIT_DATA to choose the folder).")


def _ensure(name: str, root: Path, folder: Path, needed: dict, download: bool, fetch) -> None:
    """Verify the ``needed`` files (name -> md5) in ``folder``; fetch missing ones once."""
    missing = [f for f in needed if not (folder / f).is_file()]
    for f in needed:
        if f not in missing:
            verify_file(folder / f, needed[f])
    if not missing:
        return
    if not download:
        raise DatasetUnavailableError(
            f"{name!r}: files {missing} are not in {folder} and download=False. Use "
            f"coursekit.data.load({_ALTERNATIVE[name]!r}) (embedded) or allow the download.")
    try:
        fetch()
    except CorruptCacheError:
        raise
    except Exception as e:  # torchvision raises RuntimeError/URLError/OSError when offline
        for f in missing:  # partial files this failed download may have left behind
            (folder / f).unlink(missing_ok=True)
        raise _unavailable(name, root, e) from e
    for f in missing:
        if not (folder / f).is_file():
            raise _unavailable(name, root, FileNotFoundError(f"{f} missing after download"))
        verify_file(folder / f, needed[f])


def _split_official(x, y, name, split):
    if split == "test":
        return x, y
    v = VAL_SIZE[name]
    return (x[:-v], y[:-v]) if split == "train" else (x[-v:], y[-v:])


def load_mnist_like(name: str, split: str = "train", root=None, download: bool = True):
    """``"mnist"`` or ``"fashion_mnist"``: x (N, 1, 28, 28) float32 in [0, 1], y (N,) int64."""
    cls_name, md5s, _ = _MNIST_LIKE[name]
    root = _root(root)
    folder = root / cls_name / "raw"
    prefix = "t10k" if split == "test" else "train"
    needed = {f: m for f, m in md5s.items() if f.startswith(prefix)}

    def fetch():
        import torchvision.datasets as tvd
        getattr(tvd, cls_name)(str(root), train=(split != "test"), download=True)

    _ensure(name, root, folder, needed, download, fetch)
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    if images.shape[0] != labels.shape[0]:
        raise CorruptCacheError(f"{folder}: {images.shape[0]} images but {labels.shape[0]} labels")
    x = (images.astype(np.float32) / 255.0)[:, None]
    return _split_official(x, labels.astype(np.int64), name, split)


def load_cifar10(split: str = "train", root=None, download: bool = True):
    """CIFAR-10: x (N, 3, 32, 32) float32 in [0, 1], y (N,) int64."""
    root = _root(root)
    folder = root / "cifar-10-batches-py"
    files = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    needed = {f: CIFAR10_MD5[f] for f in files}

    def fetch():
        import torchvision.datasets as tvd
        tvd.CIFAR10(str(root), train=(split != "test"), download=True)

    _ensure("cifar10", root, folder, needed, download, fetch)
    xs, ys = [], []
    for f in files:
        with open(folder / f, "rb") as fh:  # verified against the official md5 above
            batch = pickle.load(fh, encoding="latin1")
        xs.append(np.asarray(batch["data"], np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch["labels"], np.int64))
    x = np.concatenate(xs).astype(np.float32) / 255.0
    return _split_official(x, np.concatenate(ys), "cifar10", split)
