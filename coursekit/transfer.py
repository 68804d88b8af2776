"""Transfer learning: reuse a CNN trained on a large source task for a small target task.

- The **source CNN** ships with coursekit (``coursekit/weights/source_cnn.pt``, trained on
  generated shapes by ``python -m coursekit.pretrain``): :func:`load_source_cnn`.
  Online, torchvision's ImageNet ResNet-18 is one call away: :func:`resnet18_pretrained`.
- The **target tasks** (:func:`target_data`): five shapes classes the source never saw
  (a *similar* data set) and handwritten digits (a *very different* one), with little or a
  lot of labelled data: the lectures' 2x2 table, measured by :func:`two_by_two`.
- Three ways to use the source: **feature extraction** (frozen backbone; a linear classifier
  on its codes, :func:`linear_probe`), **fine-tuning** (:func:`finetune`: new head, top
  blocks unfrozen, smaller learning rate for the backbone), and training **from scratch**;
  plus a **hand-engineered** baseline (colour histogram + HOG, :func:`handcrafted_features`)
  and linear probes on every stage of the backbone (:func:`stage_features`).
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .metrics import model_accuracy
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
    import contextlib
    import io
    import socket
    import sys

    from torchvision.models import ResNet18_Weights, resnet18
    w = ResNet18_Weights.DEFAULT
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        # torch.hub announces each download on stdout even with progress=False; say it only with progress
        with contextlib.redirect_stdout(sys.stdout if progress else io.StringIO()):
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
TARGETS = {"shapes-new": "similar", "digits": "very different"}
"""Lesson 15's target data sets and how they relate to the source task."""

_SHAPES_POOL = {"train": 200, "val": 100, "test": 200}   # images per class in each split


def target_data(split: str = "train", n_per_class: int | None = None, size: int = 32,
                seed: int = 0, dataset: str = "digits"):
    """A target task as tensors ``(x (N, 3, size, size) in [0, 1], y (N,))``.

    - ``"digits"`` (a *very different* data set): scikit-learn's embedded 8x8 handwritten
      digits (10 classes, fixed 70/15/15 split, about 125 training images per class),
      resized, grey repeated on 3 channels.
    - ``"shapes-new"`` (a *similar* data set): the five shapes classes the source CNN never
      saw (:data:`coursekit.pretrain.TARGET_CLASSES`), same renderer; 200 training and 200
      test images per class, generated with another seed than the source images.
    ``n_per_class`` draws ``n`` images of every class at random with ``seed`` (another seed,
    another small labelled set); the splits themselves never depend on ``seed``.
    """
    import torch.nn.functional as F

    from .data import load
    from .pretrain import TARGET_CLASSES, shapes_subset
    if dataset == "digits":
        x, y = load("digits", split)
    elif dataset == "shapes-new":
        if split not in _SHAPES_POOL:
            raise ValueError(f"split must be one of {tuple(_SHAPES_POOL)}, got {split!r}")
        x, y = shapes_subset(TARGET_CLASSES, split, _SHAPES_POOL[split] * len(TARGET_CLASSES),
                             seed=1000, size=32)
    else:
        raise ValueError(f"dataset must be one of {tuple(TARGETS)}, got {dataset!r}")
    if n_per_class is not None:
        rng = np.random.default_rng([seed, n_per_class])
        classes = np.unique(y)
        short = [int(c) for c in classes if (y == c).sum() < n_per_class]
        if short:
            raise ValueError(f"n_per_class={n_per_class}: the {split} split of {dataset!r} has "
                             f"fewer images of classes {short}")
        keep = np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False)
                               for c in classes])
        keep.sort()
        x, y = x[keep], y[keep]
    x = torch.from_numpy(np.ascontiguousarray(x)).float()
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return x, torch.from_numpy(np.asarray(y)).long()


# ----------------------------------------------------------------------------- features
def backbone(model: nn.Module) -> nn.Sequential:
    """The source CNN without its head: (N, 3, H, W) -> codes (N, D)."""
    return nn.Sequential(model.features, model.pool)


def _frozen_forward(net: nn.Module, x, batch_size: int = 256) -> np.ndarray:
    """``net`` applied in eval mode without gradients, batched; (N, ...) -> (N, D) numpy.
    The modules' train/eval flags are restored afterwards."""
    with torch.no_grad(), eval_mode(net):
        out = [net(torch.as_tensor(x[i:i + batch_size])).flatten(1).cpu().numpy()
               for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def extract_features(model: nn.Module, x, batch_size: int = 256) -> np.ndarray:
    """Codes (N, D) of images ``x`` (N, C, H, W) from the frozen ``backbone(model)``."""
    return _frozen_forward(backbone(model), x, batch_size)


def stage_ends(model: nn.Module) -> dict:
    """{stage name: index in ``model.features`` of the ReLU that ends it}: one stage per
    resolution (block 1 at full size, blocks 2-3 at 1/2, blocks 4-5 at 1/4)."""
    mods, ends, stage = list(model.features), {}, 0
    for i, m in enumerate(mods):
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(m, nn.ReLU) and (nxt is None or isinstance(nxt, nn.MaxPool2d)):
            stage += 1
            ends[f"stage {stage}"] = i
    return ends


def stage_features(model: nn.Module, x, stage: str, grid: int = 4) -> np.ndarray:
    """Frozen features (N, C * grid * grid) of images ``x`` at the end of ``stage`` (a key of
    :func:`stage_ends`), average-pooled to a ``grid`` x ``grid`` layout (so that a linear
    classifier still sees roughly *where* each channel fired)."""
    ends = stage_ends(model)
    if stage not in ends:
        raise ValueError(f"stage must be one of {list(ends)}, got {stage!r}")
    net = nn.Sequential(model.features[:ends[stage] + 1], nn.AdaptiveAvgPool2d(grid))
    return _frozen_forward(net, x)


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
    """Test accuracy of a standardized logistic-regression classifier on given features
    (L-BFGS, at most 300 iterations to a tolerance of 1e-3: a probe, not a tuned model)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=300, tol=1e-3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
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


def finetune(model: nn.Module, x, y, num_classes: int = 10, unfreeze="all", steps: int = 100,
             lr_head: float = 3e-3, lr_backbone: float = 3e-4, seed: int = 0,
             batch_size: int = 32) -> nn.Module:
    """Fine-tune a copy of ``model`` on (x, y): new head, top ``unfreeze`` blocks trainable."""
    torch.manual_seed(seed)
    m, opt = prepare_finetune(model, num_classes, unfreeze, lr_head, lr_backbone)
    return train_steps(m, opt, x, y, steps, batch_size=batch_size, seed=seed)


def from_scratch(x, y, num_classes: int = 10, steps: int = 100, lr: float = 3e-3,
                 seed: int = 0, width: int | None = None, batch_size: int = 32) -> nn.Module:
    """The same architecture trained from a random initialization on (x, y) only."""
    from .pretrain import SOURCE
    torch.manual_seed(seed)
    m = source_cnn(width=width or SOURCE["width"], num_classes=num_classes)
    return train_steps(m, torch.optim.Adam(m.parameters(), lr=lr), x, y, steps,
                       batch_size=batch_size, seed=seed)


# ----------------------------------------------------------------------------- the 2x2 table
BUDGET = {"epochs": 10, "min_steps": 60, "batch_size": 32}
"""Training budget of the networks in :func:`two_by_two`: ``epochs`` passes over the target
set, at least ``min_steps`` steps; the same for fine-tuning and training from scratch."""


def matched_steps(n_images: int, epochs: int = BUDGET["epochs"],
                  batch_size: int = BUDGET["batch_size"],
                  min_steps: int = BUDGET["min_steps"]) -> int:
    """Optimizer steps for ``epochs`` passes over ``n_images`` (at least ``min_steps``)."""
    return max(int(min_steps), -(-int(epochs) * int(n_images) // int(batch_size)))


HANDCRAFTED = "hand-engineered (hist+HOG)"
EXTRACTION = "feature extraction (codes)"
FINETUNE = "fine-tuning (all layers)"
SCRATCH = "from scratch"


def test_bundle(dataset: str) -> dict:
    """The test split of a target data set with its hand-engineered features, computed once:
    {"x", "y", "handcrafted"}."""
    x, y = target_data("test", dataset=dataset)
    return {"x": x, "y": y, "handcrafted": handcrafted_features(x)}


def transfer_cell(model: nn.Module, dataset: str, n_per_class: int, seed: int = 0,
                  test: dict | None = None, steps: int | None = None,
                  batch_size: int = BUDGET["batch_size"]) -> dict:
    """One cell of the 2x2 table for one seed: {method: test accuracy}.

    The same ``n_per_class`` labelled images (drawn with ``seed``) feed every method:
    linear probes (logistic regression) on hand-engineered features, on each stage of the
    pretrained backbone and of a randomly initialized copy (``"random init: stage k"``), on
    the pretrained codes (feature extraction); fine-tuning and training from scratch get the
    same number of steps (:func:`matched_steps` unless ``steps`` is given).
    ``test``: a cached :func:`test_bundle` (default: computed here).
    """
    from .pretrain import source_cnn as fresh_cnn
    x, y = target_data("train", n_per_class=n_per_class, seed=seed, dataset=dataset)
    test = test if test is not None else test_bundle(dataset)
    xte, yte = test["x"], test["y"]
    k = int(yte.max()) + 1
    steps = matched_steps(len(x)) if steps is None else steps
    torch.manual_seed(10_000 + seed)
    rand = fresh_cnn(width=model.features[0].out_channels, num_classes=k).eval()
    res = {HANDCRAFTED: linear_probe(handcrafted_features(x), y, test["handcrafted"], yte)}
    for name, net in (("pretrained", model), ("random init", rand)):
        for stage in stage_ends(net):
            key = stage if name == "pretrained" else f"random init: {stage}"
            res[key] = linear_probe(stage_features(net, x, stage), y,
                                    stage_features(net, xte, stage), yte)
    res[EXTRACTION] = linear_probe(extract_features(model, x), y, extract_features(model, xte), yte)
    res[FINETUNE] = model_accuracy(finetune(model, x, y, k, steps=steps, seed=seed,
                                      batch_size=batch_size), xte, yte)
    res[SCRATCH] = model_accuracy(from_scratch(x, y, k, steps=steps, seed=seed,
                                         batch_size=batch_size), xte, yte)
    res["steps"], res["images"] = steps, len(x)
    return res


def two_by_two(model: nn.Module, sizes=None, seeds=(0, 1, 2), datasets=tuple(TARGETS),
               budget: dict | None = None, progress: bool = True) -> dict:
    """Measure the lectures' 2x2 table: {(dataset, size name): {method: Spread over seeds}}.

    ``sizes``: {"little data": images per class, "a lot of data": images per class};
    ``datasets``: keys of :data:`TARGETS`. Each cell also records ``"steps"`` and
    ``"images"`` (ints). See :func:`transfer_cell` for the methods.
    """
    from tqdm.auto import tqdm

    from .claims import seeds_summary
    sizes = sizes or {"little data": 5, "a lot of data": 50}
    budget = dict(BUDGET, **(budget or {}))
    out = {}
    jobs = [(d, s) for d in datasets for s in sizes]
    for ds, size_name in tqdm(jobs, desc="2x2 cells", disable=not progress):
        test = test_bundle(ds)
        n = sizes[size_name] * (int(test["y"].max()) + 1)
        steps = matched_steps(n, budget["epochs"], budget["batch_size"], budget["min_steps"])
        runs = [transfer_cell(model, ds, sizes[size_name], seed, test=test, steps=steps,
                              batch_size=budget["batch_size"]) for seed in seeds]
        cell = {m: seeds_summary([r[m] for r in runs]) for m in runs[0] if m not in ("steps", "images")}
        cell["steps"], cell["images"] = runs[0]["steps"], runs[0]["images"]
        out[(ds, size_name)] = cell
    return out


def format_two_by_two(results: dict, methods=None, spec: str = ".3f") -> str:
    """A Markdown table of :func:`two_by_two`: one row per method, one column per cell
    (mean ± std over seeds)."""
    cells = list(results)
    methods = methods or [m for m in results[cells[0]] if m not in ("steps", "images")]
    head = "| method | " + " | ".join(f"{d}, {s}" for d, s in cells) + " |"
    lines = [head, "|---|" + "---|" * len(cells)]
    for m in methods:
        lines.append(f"| {m} | " + " | ".join(
            f"{results[c][m].mean:{spec}} ± {results[c][m].std:{spec}}" for c in cells) + " |")
    lines.append("| *images / training steps* | " + " | ".join(
        f"{results[c]['images']} / {results[c]['steps']}" for c in cells) + " |")
    return "\n".join(lines)


def negative_transfer(results: dict) -> list:
    """Cells where every seed of training from scratch beats every seed of fine-tuning."""
    from .claims import clearly_greater
    return [c for c, r in results.items() if clearly_greater(r[SCRATCH], r[FINETUNE])]
