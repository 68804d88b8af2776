"""Metrics beyond accuracy: confusion matrix, precision/recall/F1, PR and ROC curves, box IoU.

Precision, recall and F1 are written out from the confusion matrix (and checked against
``sklearn.metrics`` in ``tests/test_metrics.py``); the PR and ROC curves and their areas
come from ``sklearn.metrics``. :func:`box_iou` is written out and checked against
``torchvision.ops.box_iou``; :func:`anchor_grid` / :func:`label_anchors` show how few of a
detector's anchors cover an object (the foreground/background imbalance).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["confusion_matrix", "precision_recall_f1", "accuracy", "model_accuracy", "balanced_accuracy",
           "Curve", "pr_curve", "roc_curve", "box_iou", "anchor_grid", "label_anchors",
           "AnchorStats", "predict_proba", "binary_report", "best_f1_threshold",
           "mask_to_box"]


def _labels(y, name: str) -> np.ndarray:
    try:
        import torch
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {y.shape}")
    return y


def _pair(y_true, y_pred):
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.size} and {p.size}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0:
            raise ValueError(f"{name} must hold class indices (integers >= 0); got dtype {a.dtype}"
                             " (for scores use pr_curve/roc_curve; for logits take argmax first)")
    return t, p


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``M[i, j]`` = number of examples of true class ``i`` predicted as ``j``: (C, C)."""
    t, p = _pair(y_true, y_pred)
    c = int(num_classes) if num_classes is not None else int(max(t.max(), p.max())) + 1
    if max(t.max(), p.max()) >= c:
        raise ValueError(f"labels go up to {max(t.max(), p.max())} but num_classes={c}")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions: ``y_true``, ``y_pred`` (N,) class indices (the one
    label accuracy; :func:`model_accuracy` scores a model on inputs)."""
    t, p = _pair(y_true, y_pred)
    return float((t == p).mean())


def model_accuracy(model, x, y, batch_size: int = 512) -> float:
    """Top-1 accuracy of the torch classifier ``model`` (eval mode, mode restored) on
    ``x: (N, ...)`` with labels ``y: (N,)``: :func:`accuracy` of its argmax predictions. The
    NumPy half's twin is :func:`coursekit.nn.model_accuracy`."""
    return accuracy(y, predict_proba(model, x, batch_size).argmax(1))


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean per-class recall over the classes present in ``y_true`` (immune to the
    accuracy paradox: always predicting the majority class scores 1/C)."""
    m = confusion_matrix(y_true, y_pred)
    support = m.sum(1)
    present = support > 0
    return float((np.diag(m)[present] / support[present]).mean())


def precision_recall_f1(y_true, y_pred, average: str | None = "binary", pos_label: int = 1,
                        num_classes: int | None = None):
    """Precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)`` and ``F1 = 2PR/(P+R)``.

    ``average``: ``"binary"`` (scores of class ``pos_label``), ``None`` (three arrays, one
    entry per class), ``"macro"`` (unweighted mean over classes), ``"weighted"`` (mean
    weighted by class support) or ``"micro"`` (from the pooled counts). An undefined ratio
    (0/0) counts as 0, like sklearn's ``zero_division=0``. Returns ``(precision, recall, f1)``.
    """
    m = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(m).astype(np.float64)
    fp = m.sum(0) - tp
    fn = m.sum(1) - tp

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)

    prec, rec = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * prec * rec, prec + rec)
    if average is None:
        return prec, rec, f1
    if average == "binary":
        if not 0 <= pos_label < len(tp):
            raise ValueError(f"pos_label={pos_label} is not one of the classes 0..{len(tp) - 1}")
        return float(prec[pos_label]), float(rec[pos_label]), float(f1[pos_label])
    if average == "macro":
        return float(prec.mean()), float(rec.mean()), float(f1.mean())
    if average == "weighted":
        w = m.sum(1) / m.sum()
        return float(prec @ w), float(rec @ w), float(f1 @ w)
    if average == "micro":
        p = r = tp.sum() / m.sum()
        return float(p), float(r), float(p)
    raise ValueError(f"average must be 'binary', 'macro', 'weighted', 'micro' or None, got {average!r}")


@dataclass
class Curve:
    """A PR or ROC curve: ``x``/``y`` points, the ``thresholds`` and the area ``auc``.

    For PR: x = recall, y = precision, auc = average precision; for ROC: x = false
    positive rate, y = true positive rate, auc = ROC AUC. ``baseline`` is the value of a
    chance classifier (positive rate for PR, 0.5 for ROC).
    """

    kind: str
    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray
    auc: float
    baseline: float


def _scores(y_true, scores):
    t = _labels(y_true, "y_true")
    s = _labels(scores, "scores").astype(np.float64)
    if t.shape != s.shape:
        raise ValueError(f"y_true and scores must have the same length, got {t.size} and {s.size}")
    if not set(np.unique(t)) <= {0, 1} or len(np.unique(t)) < 2:
        raise ValueError("y_true must be binary (0/1) and hold both classes; for several classes "
                         "pass (y == k) and the score of class k (one-vs-rest)")
    return t, s


def pr_curve(y_true, scores) -> Curve:
    """Precision-recall curve of binary labels (N,) and scores (N,) (``sklearn.metrics``)."""
    from sklearn import metrics
    t, s = _scores(y_true, scores)
    prec, rec, thr = metrics.precision_recall_curve(t, s)
    return Curve("pr", rec, prec, thr, float(metrics.average_precision_score(t, s)),
                 float(t.mean()))


def roc_curve(y_true, scores) -> Curve:
    """ROC curve of binary labels (N,) and scores (N,) with its AUC (``sklearn.metrics``)."""
    from sklearn import metrics
    t, s = _scores(y_true, scores)
    fpr, tpr, thr = metrics.roc_curve(t, s)
    return Curve("roc", fpr, tpr, thr, float(metrics.roc_auc_score(t, s)), 0.5)


def predict_proba(model, x, batch_size: int = 512):
    """Softmax probabilities of a torch classifier on ``x`` (N, ...) in eval mode, in batches:
    a NumPy array (N, C). The model's train/eval mode is restored afterwards."""
    import torch

    from .torchutil import eval_mode
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    p = next(model.parameters())  # inputs go to the parameters' device and dtype
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    with torch.no_grad(), eval_mode(model):
        out = [torch.softmax(model(x[i:i + batch_size].to(p.device, p.dtype)), 1).cpu()
               for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


def binary_report(y_true, scores, threshold: float = 0.5) -> dict:
    """The numbers to judge a rare-positive classifier by: accuracy, balanced accuracy,
    precision, recall and F1 at ``threshold``, plus the threshold-free average precision
    (area under PR) and ROC AUC. y_true: (N,) in {0, 1}; scores: (N,) P(positive)."""
    t, s = _scores(y_true, scores)
    pred = (s >= threshold).astype(np.int64)
    p, r, f = precision_recall_f1(t, pred, average="binary", num_classes=2)
    return {"accuracy": accuracy(t, pred), "balanced_accuracy": balanced_accuracy(t, pred),
            "precision": p, "recall": r, "f1": f, "average_precision": pr_curve(t, s).auc,
            "roc_auc": roc_curve(t, s).auc}


def best_f1_threshold(y_true, scores) -> tuple:
    """The score threshold with the highest F1 on ``(y_true, scores)``: ``(threshold, f1)``.
    Choose it on validation data, never on the test set."""
    c = pr_curve(y_true, scores)
    p, r = c.y[:-1], c.x[:-1]                      # the last PR point has no threshold
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    i = int(np.argmax(f1))
    return float(c.thresholds[i]), float(f1[i])


# ------------------------------------------------------------------------------ boxes
def mask_to_box(mask) -> np.ndarray:
    """Tight box ``(x1, y1, x2, y2)`` around the True pixels of a mask (H, W); pixel
    ``(row, col)`` covers ``[col, col+1] x [row, row+1]``."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2 or not m.any():
        raise ValueError(f"mask must be a 2-D boolean array with at least one True pixel, "
                         f"got shape {m.shape}")
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)

def _boxes(b, name):
    is_torch = False
    try:
        import torch
        if isinstance(b, torch.Tensor):
            is_torch, b = True, b.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    b = np.asarray(b, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{name} must be (N, 4) boxes (x1, y1, x2, y2), got shape {b.shape}")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        raise ValueError(f"{name}: boxes must satisfy x2 >= x1 and y2 >= y1 (corner format "
                         "x1, y1, x2, y2; convert from (cx, cy, w, h) first)")
    return b, is_torch


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair: boxes1 (N, 4), boxes2 (M, 4) -> (N, M).

    Boxes are corners ``(x1, y1, x2, y2)``. Returns a torch tensor if ``boxes1`` is one
    (same dtype), else a NumPy array. Zero-area pairs with no union give 0.
    """
    a, as_torch = _boxes(boxes1, "boxes1")
    b, _ = _boxes(boxes2, "boxes2")
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])       # (N, M, 2) top-left of overlap
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])       # bottom-right of overlap
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    if as_torch:
        import torch
        return torch.as_tensor(iou, dtype=boxes1.dtype if boxes1.is_floating_point()
                               else torch.float32)
    return iou


def anchor_grid(image_size: int = 256, stride: int = 16, sizes=(32, 64, 128),
                ratios=(0.5, 1.0, 2.0)) -> np.ndarray:
    """Anchor boxes of a one-level detector: at every ``stride`` pixels, one box per
    (size, aspect ratio) centred on the cell. Returns (H/stride * W/stride * S * R, 4)."""
    if image_size < stride or stride < 1:
        raise ValueError(f"need 1 <= stride <= image_size, got stride={stride}, image_size={image_size}")
    centres = np.arange(stride / 2, image_size, stride)
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    whs = np.array([(s * np.sqrt(1 / r), s * np.sqrt(r)) for s in sizes for r in ratios])
    c = np.stack([cx.ravel(), cy.ravel()], 1)[:, None, :]      # (P, 1, 2)
    half = whs[None, :, :] / 2                                  # (1, A, 2)
    return np.concatenate([c - half, c + half], axis=2).reshape(-1, 4)


@dataclass
class AnchorStats:
    """Anchors labelled against ground-truth boxes: 1 foreground, 0 background, -1 ignored."""

    labels: np.ndarray
    max_iou: np.ndarray

    @property
    def foreground(self) -> int:
        return int((self.labels == 1).sum())

    @property
    def background(self) -> int:
        return int((self.labels == 0).sum())

    @property
    def ratio(self) -> float:
        """Background anchors per foreground anchor."""
        return self.background / max(self.foreground, 1)

    def __str__(self):
        """The sentence a lesson prints: ``384 anchors: 13 foreground, 341 background, ...``."""
        return (f"{len(self.labels)} anchors: {self.foreground} foreground, "
                f"{self.background} background, {(self.labels == -1).sum()} ignored; "
                f"{self.ratio:.0f} background per foreground")

    def __repr__(self):
        return f"AnchorStats({self})"


def label_anchors(anchors, gt_boxes, fg_iou: float = 0.5, bg_iou: float = 0.4) -> AnchorStats:
    """Label anchors (A, 4) by their best IoU with ``gt_boxes`` (G, 4) as in RetinaNet:
    IoU >= ``fg_iou`` foreground, < ``bg_iou`` background, in between ignored; each ground
    truth box also claims its best anchor, so no object is left without one."""
    if not 0 <= bg_iou <= fg_iou <= 1:
        raise ValueError(f"need 0 <= bg_iou <= fg_iou <= 1, got bg_iou={bg_iou}, fg_iou={fg_iou}")
    iou = box_iou(np.asarray(anchors, dtype=np.float64), np.asarray(gt_boxes, dtype=np.float64))
    best = iou.max(1) if iou.shape[1] else np.zeros(len(iou))
    labels = np.full(len(iou), -1, dtype=np.int64)
    labels[best < bg_iou] = 0
    labels[best >= fg_iou] = 1
    if iou.shape[1]:
        labels[iou.argmax(0)] = 1
    return AnchorStats(labels, best)
