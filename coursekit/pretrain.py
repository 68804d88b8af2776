"""Pretrain the course's source CNN on a designated subset of the generated shapes.

The shapes classes are split in two halves (:data:`SOURCE_CLASSES`, :data:`TARGET_CLASSES`):
the source CNN learns the first five (circle, square, triangle, star, cross); the other five
(ring, crescent, semicircle, ellipse, arrow) stay unseen, so that lesson 15 can use them as a
*similar* target data set (same renderer, new classes), with handwritten digits as a *very
different* one.

``python -m coursekit.pretrain --overwrite`` trains :func:`source_cnn` on
``SOURCE["n_train"]`` images of the source classes (32x32 RGB in [0, 1], no normalization)
with a fixed seed on ``SOURCE["threads"]`` CPU threads and writes
``coursekit/weights/source_cnn.pt`` (about 0.3 MB): the state dict plus a ``meta`` dict
(recipe, class names, measured train/validation accuracy). The lessons load this shipped
file (:func:`coursekit.transfer.load_source_cnn`) and never retrain it.

Bit-reproducible: the same recipe, thread count and torch version give the same weights
(CPU only; the run pins ``torch.set_num_threads`` and uses deterministic algorithms).
``tests/test_transfer.py`` rebuilds it and compares.
"""
from __future__ import annotations

import argparse
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .architectures import conv_bn_relu

WEIGHTS = Path(__file__).resolve().parent / "weights" / "source_cnn.pt"
"""The shipped source-CNN weights (package data)."""

SOURCE_CLASSES = ("circle", "square", "triangle", "star", "cross")
"""The shapes classes the source CNN is trained on (label = index here)."""

TARGET_CLASSES = ("ring", "crescent", "semicircle", "ellipse", "arrow")
"""The shapes classes the source CNN never sees: lesson 15's *similar* target data set."""

SOURCE = {"dataset": "shapes", "classes": SOURCE_CLASSES, "n_train": 6_000, "n_val": 1_000,
          "epochs": 12, "batch_size": 64, "lr": 4e-3, "weight_decay": 1e-4, "seed": 0,
          "size": 32, "difficulty": 0.5, "width": 8, "threads": 1}
"""The source task and training recipe of the shipped weights."""


def source_cnn(in_channels: int = 3, num_classes: int = len(SOURCE_CLASSES),
               width: int = SOURCE["width"]) -> nn.Sequential:
    """The source CNN: conv-BN-ReLU stages (widths w | 2w, 2w | 4w, 4w) -> GAP -> linear.

    ``features`` (N, 3, 32, 32) -> (N, 4w, 8, 8); ``pool`` -> (N, 4w); ``head`` -> (N, classes).
    Ending in global average pooling + one linear layer makes CAM applicable.
    """
    w = width

    def block(cin, cout):  # conv3x3-BN-ReLU; a plain ReLU keeps backward hooks valid
        return conv_bn_relu(cin, cout, inplace=False)

    features = nn.Sequential(
        *block(in_channels, w), nn.MaxPool2d(2),
        *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),
        *block(2 * w, 4 * w), *block(4 * w, 4 * w))
    return nn.Sequential(OrderedDict(features=features,
                                     pool=nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                                     head=nn.Linear(4 * w, num_classes)))


def shapes_subset(classes, split: str, n: int, seed: int = 0, size: int = 32,
                  difficulty: float = SOURCE["difficulty"], with_masks: bool = False):
    """The first ``n`` shapes images of ``split`` whose class is in ``classes`` (names),
    relabelled 0..len(classes)-1 in the order given.

    Returns numpy ``x`` (n, 3, size, size) float32 in [0, 1], ``y`` (n,) int64 (and
    ``masks`` (n, size, size) bool with ``with_masks``). Deterministic in (split, seed):
    the images are those of the 10-class generator, filtered.
    """
    from .data.shapes import BLOCK, SHAPES_CLASSES, make_shapes
    unknown = [c for c in classes if c not in SHAPES_CLASSES]
    if unknown or not classes:
        raise ValueError(f"classes must be shapes class names from {SHAPES_CLASSES}, got {classes!r}")
    ids = [SHAPES_CLASSES.index(c) for c in classes]
    total = -(-int(n) * len(SHAPES_CLASSES) // len(ids)) + BLOCK   # enough for n kept images
    x, y, m = make_shapes(total, split=split, size=size, difficulty=difficulty, seed=seed)
    keep = np.flatnonzero(np.isin(y, ids))[:n]
    if len(keep) < n:
        raise RuntimeError(f"generated too few images of {classes} ({len(keep)} < {n})")
    lut = np.full(len(SHAPES_CLASSES), -1, np.int64)
    lut[ids] = np.arange(len(ids))
    out = (x[keep], lut[y[keep]])
    return out + (m[keep],) if with_masks else out


def source_data(split: str, n: int, seed: int = SOURCE["seed"]):
    """Source-task tensors (x (n, 3, 32, 32) float in [0, 1], y (n,) long in 0..4)."""
    x, y = shapes_subset(SOURCE_CLASSES, split, n, seed=seed, size=SOURCE["size"])
    return torch.from_numpy(x), torch.from_numpy(y)


def pretrain(out=WEIGHTS, n_train: int = SOURCE["n_train"], n_val: int = SOURCE["n_val"],
             epochs: int = SOURCE["epochs"], seed: int = SOURCE["seed"], width: int = SOURCE["width"],
             threads: int = SOURCE["threads"], overwrite: bool = False,
             progress: bool = True) -> dict:
    """Train :func:`source_cnn` on the source task and save it to ``out``; returns ``meta``.

    AdamW with a one-cycle learning rate, ``epochs`` passes over ``n_train`` images, on
    ``threads`` CPU threads (restored afterwards). Refuses to replace an existing ``out``
    unless ``overwrite=True``.
    """
    from torch.utils.data import DataLoader, TensorDataset

    from .train import evaluate, fit
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        xtr, ytr = source_data("train", n_train, seed)
        xva, yva = source_data("val", n_val, seed)
        model = source_cnn(width=width)
        gen = torch.Generator().manual_seed(seed)
        train = DataLoader(TensorDataset(xtr, ytr), batch_size=SOURCE["batch_size"],
                           shuffle=True, generator=gen)
        val = DataLoader(TensorDataset(xva, yva), batch_size=500)
        opt = torch.optim.AdamW(model.parameters(), lr=SOURCE["lr"],
                                weight_decay=SOURCE["weight_decay"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=SOURCE["lr"],
                                                    total_steps=epochs * len(train))
        start = time.perf_counter()
        hist = fit(model, train, val, epochs=epochs, optimizer=opt, scheduler=sched,
                   scheduler_interval="step", device=torch.device("cpu"), progress=progress)
        seconds = time.perf_counter() - start
        cpu = torch.device("cpu")
        val_acc = evaluate(model, val, device=cpu)["accuracy"]
        train_acc = evaluate(model, DataLoader(TensorDataset(xtr, ytr), batch_size=500),
                             device=cpu)["accuracy"]
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
    meta = {"source": dict(SOURCE, classes=list(SOURCE_CLASSES), n_train=n_train, n_val=n_val,
                           epochs=epochs, seed=seed, width=width, threads=threads),
            "classes": list(SOURCE_CLASSES), "width": width, "num_classes": len(SOURCE_CLASSES),
            "val_accuracy": float(val_acc), "train_accuracy": float(train_acc),
            "val_accuracy_per_epoch": [float(a) for a in hist.val_acc],
            "seconds": round(seconds, 1), "torch": str(torch.__version__)}
    out.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    torch.save({"state_dict": model.state_dict(), "meta": meta}, out)
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m coursekit.pretrain", description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(WEIGHTS), help="where to write the weights")
    p.add_argument("--n-train", type=int, default=SOURCE["n_train"])
    p.add_argument("--epochs", type=int, default=SOURCE["epochs"])
    p.add_argument("--seed", type=int, default=SOURCE["seed"])
    p.add_argument("--width", type=int, default=SOURCE["width"])
    p.add_argument("--threads", type=int, default=SOURCE["threads"])
    p.add_argument("--overwrite", action="store_true", help="replace an existing weights file")
    a = p.parse_args(argv)
    meta = pretrain(a.out, n_train=a.n_train, epochs=a.epochs, seed=a.seed, width=a.width, threads=a.threads,
                    overwrite=a.overwrite)
    size = Path(a.out).stat().st_size / 1e6
    print(f"wrote {a.out} ({size:.2f} MB): train accuracy {meta['train_accuracy']:.3f}, "
          f"val accuracy {meta['val_accuracy']:.3f} after {meta['source']['epochs']} epochs "
          f"in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
