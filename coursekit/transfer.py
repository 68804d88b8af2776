"""Transfer learning: reuse a CNN trained on a large source task for a small target task.

- The **source CNN** ships with coursekit (``coursekit/weights/source_cnn.pt``, trained on
  generated shapes by ``python -m coursekit.pretrain``): :func:`load_source_cnn`.
  Online, torchvision's ImageNet ResNet-18 is one call away: :func:`resnet18_pretrained`.
- The **target task**: a few labelled handwritten digits (:func:`target_data`), a
  *different* data set from the source.
- Three ways to use the source: **feature extraction** (frozen backbone; a linear classifier
  on its codes, :func:`linear_probe`), **fine-tuning** (:func:`finetune`: new head, top
  blocks unfrozen, smaller learning rate for the backbone), and training **from scratch**;
  plus a **hand-engineered** baseline (colour histogram + HOG, :func:`handcrafted_features`).
  :func:`compare` measures all four as the target set grows.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import metrics
from .metrics import predict_proba
from .pretrain import WEIGHTS, source_cnn
from .torchutil import eval_mode

TWO_BY_TWO = """\
| | **similar** data set | **very different** data set |
|---|---|---|
| **little data** | linear classifier on top-layer features | trouble: try a linear classifier on features from *lower* layers, or fine-tune a little |
| **a lot of data** | fine-tune a few top layers | fine-tune many (or all) layers |"""
"""The lectures' 2x2 table: what to do with a pretrained network (Markdown)."""


class PretrainedUnavailableError(RuntimeError):
    """Pretrained weights could not be downloaded or read (offline, or a broken cache)."""


# ----------------------------------------------------------------------------- sources
def load_source_cnn(path=None, map_location="cpu") -> nn.Sequential:
    """The source CNN with its shipped pretrained weights, in eval mode.

    (N, 3, H, W) in [0, 1] (no normalization) -> (N, 10) scores over the shapes classes;
    ``model.features`` / ``model.pool`` / ``model.head`` are the backbone stages and head.
    """
    path = Path(path) if path is not None else WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"no source-CNN weights at {path}: create them with "
                                "`python -m coursekit.pretrain` (a few minutes on a CPU)")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    model = source_cnn(width=ckpt["meta"]["width"], num_classes=ckpt["meta"]["num_classes"])
    model.load_state_dict(ckpt["state_dict"])
    model.meta = ckpt["meta"]
    return model.eval()


def resnet18_pretrained(progress: bool = False, timeout: float = 10.0) -> nn.Module:
    """torchvision's ResNet-18 with ImageNet weights (``ResNet18_Weights.DEFAULT``).

    The weights are downloaded once into torch's hub cache (``$TORCH_HOME/hub/checkpoints``).
    Offline (or with a broken cache file) this raises :class:`PretrainedUnavailableError`
    naming the embedded alternative, :func:`load_source_cnn`. Inputs must be normalized with
    ``ResNet18_Weights.DEFAULT.transforms()``. ``timeout``: seconds to wait for the server
    (so that an offline machine fails fast instead of hanging).
    """
    import socket

    from torchvision.models import ResNet18_Weights, resnet18
    w = ResNet18_Weights.DEFAULT
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        return resnet18(weights=w, progress=progress).eval()
    except Exception as e:  # URLError, OSError, RuntimeError (corrupt file), ...
        cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(w.url).name
        raise PretrainedUnavailableError(
            f"could not load torchvision's ResNet-18 weights (ResNet18_Weights.DEFAULT from "
            f"{w.url}, cached as {cache}): {type(e).__name__}: {e}. Offline? Use the source "
            "CNN embedded in coursekit instead: coursekit.transfer.load_source_cnn() "
            "(pretrained on generated shapes, no download needed).") from e
    finally:
        socket.setdefaulttimeout(old)


# ----------------------------------------------------------------------------- target data
def target_data(split: str = "train", n_per_class: int | None = None, size: int = 32,
                seed: int = 0, dataset: str = "digits"):
    """A small target task as tensors ``(x (N, 3, size, size) in [0, 1], y (N,))``.

    - ``"digits"`` (a *different* data set): scikit-learn's embedded handwritten digits,
      10 classes, resized, grey repeated on 3 channels.
    - ``"shapes-hard"`` (a *similar* data set): shapes at the hardest difficulty (more
      texture, noise, lower contrast), drawn with another seed than the source images.
    ``n_per_class`` keeps the first ``n`` images of every class (a small labelled set).
    """
    import torch.nn.functional as F

    from .data import load
    if dataset == "digits":
        x, y = load("digits", split, seed=seed)
    elif dataset == "shapes-hard":
        count = {"train": 4000, "val": 1000, "test": 1000}[split]
        x, y = load("shapes", split, n=count, seed=seed + 1000, difficulty=1.0, size=size)
    else:
        raise ValueError(f"dataset must be 'digits' or 'shapes-hard', got {dataset!r}")
    if n_per_class is not None:
        keep = np.concatenate([np.flatnonzero(y == c)[:n_per_class] for c in np.unique(y)])
        keep.sort()
        if len(keep) < n_per_class * len(np.unique(y)):
            raise ValueError(f"n_per_class={n_per_class}: the {split} split has fewer images "
                             "of some class")
        x, y = x[keep], y[keep]
    x = torch.from_numpy(np.ascontiguousarray(x)).float()
    x = x / max(float(x.max()), 1e-8) if x.max() > 1 else x
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return x, torch.from_numpy(np.asarray(y)).long()


# ----------------------------------------------------------------------------- features
def backbone(model: nn.Module) -> nn.Sequential:
    """The source CNN without its head: (N, 3, H, W) -> codes (N, D)."""
    return nn.Sequential(model.features, model.pool)


@torch.no_grad()
def extract_features(model: nn.Module, x, batch_size: int = 256) -> np.ndarray:
    """Codes (N, D) of images ``x`` (N, C, H, W) from the frozen ``backbone(model)``."""
    net = backbone(model)
    with eval_mode(net):
        out = [net(torch.as_tensor(x[i:i + batch_size])).cpu().numpy()
               for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def handcrafted_features(x, bins: int = 8) -> np.ndarray:
    """Hand-engineered features (N, D): per-channel colour histograms (``bins`` bins) and a
    HOG descriptor (scikit-image; 9 orientations, 8x8-pixel cells, 2x2-cell blocks)."""
    from skimage.feature import hog
    a = np.asarray(x.cpu().numpy() if hasattr(x, "cpu") else x, dtype=np.float32)
    feats = []
    for img in a:
        hist = [np.histogram(c, bins=bins, range=(0, 1))[0] / c.size for c in img]
        h = hog(img.mean(0), orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
        feats.append(np.concatenate(hist + [h]))
    return np.stack(feats).astype(np.float32)


def linear_probe(f_train, y_train, f_test, y_test, C: float = 1.0) -> float:
    """Test accuracy of a standardized logistic-regression classifier on given features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    clf.fit(np.asarray(f_train), np.asarray(y_train))
    return float(clf.score(np.asarray(f_test), np.asarray(y_test)))


# ----------------------------------------------------------------------------- fine-tuning
def conv_blocks(model: nn.Module) -> list:
    """The backbone's conv-BN-ReLU blocks as lists of modules, bottom to top."""
    mods, blocks = list(model.features), []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            blocks.append([m, mods[i + 1]] if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d) else [m])
    return blocks


def prepare_finetune(model: nn.Module, num_classes: int, unfreeze="all",
                     lr_head: float = 3e-3, lr_backbone: float = 3e-4):
    """Copy ``model``, give it a new head for ``num_classes`` and unfreeze the top
    ``unfreeze`` conv blocks (an int, or "all"; 0 = feature extraction with a trained head).

    Returns ``(model, optimizer)``: Adam with ``lr_head`` for the new head and the smaller
    ``lr_backbone`` for the unfrozen blocks (large updates would destroy the pretrained
    features before the new head has learned to use them).
    """
    m = copy.deepcopy(model)
    m.head = nn.Linear(m.head.in_features, num_classes)
    for p in m.features.parameters():
        p.requires_grad_(False)
    blocks = conv_blocks(m)
    k = len(blocks) if unfreeze == "all" else int(unfreeze)
    if not 0 <= k <= len(blocks):
        raise ValueError(f"unfreeze must be 'all' or 0..{len(blocks)}, got {unfreeze!r}")
    trainable = [p for b in blocks[len(blocks) - k:] for mod in b for p in mod.parameters()]
    for p in trainable:
        p.requires_grad_(True)
    groups = [{"params": list(m.head.parameters()), "lr": lr_head}]
    if trainable:
        groups.append({"params": trainable, "lr": lr_backbone})
    return m, torch.optim.Adam(groups)


def train_steps(model: nn.Module, optimizer, x, y, steps: int = 100, batch_size: int = 32,
                seed: int = 0, progress: bool = False) -> nn.Module:
    """``steps`` Adam steps of cross-entropy on random mini-batches of (x, y).

    BatchNorm layers whose parameters are frozen stay in eval mode (their running statistics
    are part of the pretrained features). Returns the model in eval mode.
    """
    from tqdm.auto import tqdm
    g = torch.Generator().manual_seed(seed)
    model.train()
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d) and not mod.weight.requires_grad:
            mod.eval()
    loss_fn = nn.CrossEntropyLoss()
    for _ in tqdm(range(steps), desc="steps", disable=not progress):
        idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def accuracy(model: nn.Module, x, y, batch_size: int = 256) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on (x, y): :func:`coursekit.metrics.accuracy`
    of its predictions."""
    return metrics.accuracy(np.asarray(y), predict_proba(model, x, batch_size).argmax(1))


def finetune(model: nn.Module, x, y, num_classes: int = 10, unfreeze="all", steps: int = 100,
             lr_head: float = 3e-3, lr_backbone: float = 3e-4, seed: int = 0) -> nn.Module:
    """Fine-tune a copy of ``model`` on (x, y): new head, top ``unfreeze`` blocks trainable."""
    torch.manual_seed(seed)
    m, opt = prepare_finetune(model, num_classes, unfreeze, lr_head, lr_backbone)
    return train_steps(m, opt, x, y, steps, seed=seed)


def from_scratch(x, y, num_classes: int = 10, steps: int = 100, lr: float = 3e-3,
                 seed: int = 0, width: int = 16) -> nn.Module:
    """The same architecture trained from a random initialization on (x, y) only."""
    torch.manual_seed(seed)
    m = source_cnn(width=width, num_classes=num_classes)
    return train_steps(m, torch.optim.Adam(m.parameters(), lr=lr), x, y, steps, seed=seed)


def compare(model: nn.Module, sizes=(5, 10, 20, 50), steps: int = 100, seed: int = 0,
            dataset: str = "digits", size: int = 32, progress: bool = True) -> dict:
    """Target-task test accuracy for each number of labelled images per class in ``sizes``:
    {n: {"hand-engineered (hist+HOG)", "scratch", "feature extraction", "fine-tuning"}}.

    The same images are used by all four; the networks get ``steps`` training steps.
    ``dataset`` / ``size``: the target task (see :func:`target_data`).
    """
    from tqdm.auto import tqdm
    xte, yte = target_data("test", seed=seed, dataset=dataset, size=size)
    f_te = extract_features(model, xte)
    h_te = handcrafted_features(xte)
    table = {}
    for n in tqdm(list(sizes), desc="target set sizes", disable=not progress):
        x, y = target_data("train", n_per_class=n, seed=seed, dataset=dataset, size=size)
        table[n] = {
            "hand-engineered (hist+HOG)": linear_probe(handcrafted_features(x), y, h_te, yte),
            "scratch": accuracy(from_scratch(x, y, steps=steps, seed=seed), xte, yte),
            "feature extraction": linear_probe(extract_features(model, x), y, f_te, yte),
            "fine-tuning": accuracy(finetune(model, x, y, steps=steps, seed=seed), xte, yte),
        }
    return table


def format_comparison(table: dict) -> str:
    """A Markdown table of :func:`compare`: one row per target-set size."""
    cols = list(next(iter(table.values())))
    lines = ["| images per class | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for n, r in table.items():
        lines.append(f"| {n} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def plot_comparison(table: dict, ax=None, title: str = "Transfer from the shapes source CNN"):
    """Accuracy vs labelled images per class, one line per method."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    sizes = list(table)
    for c in next(iter(table.values())):
        ax.plot(sizes, [table[n][c] for n in sizes], marker="o", label=c)
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_xlabel("labelled target images per class")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax
