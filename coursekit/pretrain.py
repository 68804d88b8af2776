"""Pretrain the course's source CNN on a large generated source task (``shapes``).

``python -m coursekit.pretrain`` trains :func:`source_cnn` on 10,000 generated shapes
images (10 classes, 32x32 RGB in [0, 1], no normalization) with a fixed seed on the CPU and
writes ``coursekit/weights/source_cnn.pt`` (about 0.4 MB): the state dict plus a ``meta``
dict (data, epochs, seed, measured validation accuracy). The lessons load this shipped
file (:func:`coursekit.transfer.load_source_cnn`) and never retrain it in fast mode.

Reproducible: the same seed, data and thread count give the same weights (the run is
CPU-only and uses deterministic algorithms). A few minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from .models import conv_bn_relu

WEIGHTS = Path(__file__).resolve().parent / "weights" / "source_cnn.pt"
"""The shipped source-CNN weights (package data)."""

SOURCE = {"dataset": "shapes", "n_train": 10_000, "n_val": 2_000, "epochs": 3,
          "batch_size": 128, "lr": 3e-3, "weight_decay": 1e-4, "seed": 0, "size": 32,
          "difficulty": 0.5}
"""The source task and training recipe of the shipped weights."""


def source_cnn(in_channels: int = 3, num_classes: int = 10, width: int = 16) -> nn.Sequential:
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
    return nn.Sequential(dict_to_modules(features=features,
                                         pool=nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                                         head=nn.Linear(4 * w, num_classes)))


def dict_to_modules(**mods):
    """An ordered dict of named modules (for ``nn.Sequential`` with readable names)."""
    from collections import OrderedDict
    return OrderedDict(mods)


def source_data(split: str, n: int, seed: int = SOURCE["seed"]):
    """Source-task tensors (x (n, 3, 32, 32) float in [0, 1], y (n,) long) from shapes."""
    from .data import load
    x, y = load(SOURCE["dataset"], split, n=n, seed=seed, size=SOURCE["size"],
                difficulty=SOURCE["difficulty"])
    return torch.from_numpy(x), torch.from_numpy(y)


def pretrain(out=WEIGHTS, n_train: int = SOURCE["n_train"], n_val: int = SOURCE["n_val"],
             epochs: int = SOURCE["epochs"], seed: int = SOURCE["seed"], width: int = 16,
             overwrite: bool = False, progress: bool = True) -> dict:
    """Train :func:`source_cnn` on the source task and save it to ``out``; returns ``meta``.

    Refuses to replace an existing ``out`` unless ``overwrite=True``.
    """
    from torch.utils.data import DataLoader, TensorDataset

    from .train import evaluate, fit
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    xtr, ytr = source_data("train", n_train, seed)
    xva, yva = source_data("val", n_val, seed)
    model = source_cnn(width=width)
    gen = torch.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(xtr, ytr), batch_size=SOURCE["batch_size"], shuffle=True,
                       generator=gen)
    val = DataLoader(TensorDataset(xva, yva), batch_size=512)
    opt = torch.optim.AdamW(model.parameters(), lr=SOURCE["lr"],
                            weight_decay=SOURCE["weight_decay"])
    steps = epochs * len(train)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=SOURCE["lr"], total_steps=steps)
    start = time.perf_counter()
    hist = fit(model, train, val, epochs=epochs, optimizer=opt, scheduler=sched,
               scheduler_interval="step", device=torch.device("cpu"), progress=progress)
    seconds = time.perf_counter() - start
    acc = evaluate(model, val, device=torch.device("cpu"))["accuracy"]
    meta = {"source": dict(SOURCE, n_train=n_train, n_val=n_val, epochs=epochs, seed=seed),
            "width": width, "num_classes": 10, "val_accuracy": float(acc),
            "train_accuracy": float(hist.train_acc[-1]), "seconds": round(seconds, 1),
            "threads": threads, "torch": str(torch.__version__)}
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
    p.add_argument("--overwrite", action="store_true", help="replace an existing weights file")
    a = p.parse_args(argv)
    meta = pretrain(a.out, n_train=a.n_train, epochs=a.epochs, seed=a.seed, overwrite=a.overwrite)
    size = Path(a.out).stat().st_size / 1e6
    print(f"wrote {a.out} ({size:.2f} MB): val accuracy {meta['val_accuracy']:.3f} "
          f"after {meta['source']['epochs']} epochs in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
