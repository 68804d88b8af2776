"""coursekit.metrics equals sklearn.metrics; box IoU equals torchvision.ops.box_iou."""
import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from torchvision.ops import box_iou as tv_box_iou

from coursekit import metrics


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, 5, 300))
    pred[pred == 4] = 3           # class 4 never predicted: a 0/0 precision
    return y, pred


def test_confusion_matrix_and_accuracy(multiclass):
    y, pred = multiclass
    np.testing.assert_array_equal(metrics.confusion_matrix(y, pred, 5),
                                  skm.confusion_matrix(y, pred, labels=range(5)))
    assert metrics.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert metrics.balanced_accuracy(y, pred) == pytest.approx(skm.balanced_accuracy_score(y, pred))


@pytest.mark.parametrize("average", [None, "macro", "weighted", "micro"])
def test_precision_recall_f1_equal_sklearn(multiclass, average):
    y, pred = multiclass
    ours = metrics.precision_recall_f1(y, pred, average=average)
    ref = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)[:3]
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_binary_and_torch_input():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.1).astype(int)
    pred = (rng.random(200) < 0.15).astype(int)
    ours = metrics.precision_recall_f1(torch.as_tensor(y), torch.as_tensor(pred))
    ref = skm.precision_recall_fscore_support(y, pred, average="binary", zero_division=0)[:3]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_accuracy_paradox():
    y = np.array([0] * 95 + [1] * 5)
    always_zero = np.zeros(100, dtype=int)
    assert metrics.accuracy(y, always_zero) == 0.95
    assert metrics.precision_recall_f1(y, always_zero) == (0.0, 0.0, 0.0)
    assert metrics.balanced_accuracy(y, always_zero) == 0.5


def test_pr_and_roc_curves_equal_sklearn():
    rng = np.random.default_rng(2)
    y = (rng.random(400) < 0.2).astype(int)
    s = y * 0.8 + rng.normal(0, 0.5, 400)
    roc = metrics.roc_curve(y, s)
    assert roc.auc == pytest.approx(skm.roc_auc_score(y, s))
    assert roc.auc == pytest.approx(skm.auc(roc.x, roc.y))
    pr = metrics.pr_curve(y, s)
    assert pr.auc == pytest.approx(skm.average_precision_score(y, s))
    assert pr.baseline == pytest.approx(y.mean()) and 0.6 < roc.auc < 0.95
    with pytest.raises(ValueError, match="binary"):
        metrics.roc_curve(np.arange(400) % 3, s)


def test_box_iou_equals_torchvision():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(30, 2, generator=g, dtype=torch.float64) * 50
    wh = torch.rand(30, 2, generator=g, dtype=torch.float64) * 30
    a = torch.cat([xy, xy + wh], 1)
    xy2 = torch.rand(17, 2, generator=g, dtype=torch.float64) * 50
    b = torch.cat([xy2, xy2 + torch.rand(17, 2, generator=g, dtype=torch.float64) * 30], 1)
    b[3] = b[3, [0, 1, 0, 1]]   # a degenerate zero-area box
    ours = metrics.box_iou(a, b)
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float64
    ref = tv_box_iou(a, b)
    torch.testing.assert_close(ours, torch.nan_to_num(ref, nan=0.0), rtol=1e-12, atol=1e-12)
    assert (ours > 0).any() and (ours == 0).any()
    np.testing.assert_allclose(metrics.box_iou(a.numpy(), b.numpy()), ours.numpy())


def test_box_iou_known_values_and_bad_input():
    np.testing.assert_allclose(metrics.box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]]),
                               [[1 / 7, 1.0]])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        metrics.box_iou([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        metrics.box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]])


def test_anchor_imbalance():
    anchors = metrics.anchor_grid(image_size=128, stride=8, sizes=(16, 32), ratios=(0.5, 1, 2))
    assert anchors.shape == (16 * 16 * 6, 4)
    gt = np.array([[20.0, 30.0, 52.0, 62.0], [80.0, 80.0, 100.0, 110.0]])
    stats = metrics.label_anchors(anchors, gt)
    assert stats.foreground >= 2            # each object claims at least its best anchor
    assert stats.foreground + stats.background <= len(anchors)
    assert stats.ratio > 50                 # background dwarfs foreground
    np.testing.assert_allclose(stats.max_iou, metrics.box_iou(anchors, gt).max(1))
    with pytest.raises(ValueError, match="bg_iou"):
        metrics.label_anchors(anchors, gt, fg_iou=0.3, bg_iou=0.5)


def test_bad_labels_rejected():
    with pytest.raises(ValueError, match="same length"):
        metrics.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="class indices"):
        metrics.precision_recall_f1([0.2, 0.9], [0, 1])


def test_binary_report_predict_proba_and_mask_to_box():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.1).astype(int)
    s = np.clip(y * 0.5 + rng.random(300) * 0.6, 0, 1)
    rep = metrics.binary_report(y, s, threshold=0.5)
    pred = (s >= 0.5).astype(int)
    assert rep["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert rep["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert rep["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x = torch.randn(7, 2, 2)
    proba = metrics.predict_proba(net, x, batch_size=3)
    np.testing.assert_allclose(proba, torch.softmax(net(x), 1).detach().numpy(), rtol=1e-6)
    assert net.training
    y3 = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    want = float((net(x).argmax(1) == y3).float().mean())
    assert metrics.model_accuracy(net, x, y3, batch_size=3) == pytest.approx(want) and net.training
    m = np.zeros((8, 10), bool)
    m[2:5, 3:9] = True
    np.testing.assert_array_equal(metrics.mask_to_box(m), [3, 2, 9, 5])
    with pytest.raises(ValueError, match="True pixel"):
        metrics.mask_to_box(np.zeros((3, 3)))


def test_best_f1_threshold_is_the_best():
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.15).astype(int)
    s = y * 0.3 + rng.random(300)
    thr, f1 = metrics.best_f1_threshold(y, s)
    assert f1 == pytest.approx(skm.f1_score(y, (s >= thr).astype(int)))
    assert all(skm.f1_score(y, (s >= t).astype(int)) <= f1 + 1e-12 for t in np.unique(s))
