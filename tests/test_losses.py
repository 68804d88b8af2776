"""coursekit.losses: focal loss equals cross-entropy at gamma=0 and torchvision's binary form."""
import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

from coursekit import losses


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 6, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 6, (40,), generator=g)
    return logits, target


def test_gamma_zero_is_cross_entropy_forward_and_backward(batch):
    logits, target = batch
    ours = losses.focal_loss(logits, target, gamma=0.0)
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = F.cross_entropy(logits, target)
    (g_ref,) = torch.autograd.grad(ref, logits)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-10, atol=1e-12)


def test_focal_loss_against_formula_and_down_weights_easy_examples(batch):
    logits, target = batch
    p = F.softmax(logits, 1)[torch.arange(40), target]
    expected = -((1 - p) ** 2 * torch.log(p))
    torch.testing.assert_close(losses.focal_loss(logits, target, 2.0, reduction="none"), expected)
    # an easy example (p_t ~ 0.99) loses much more of its weight than a hard one (p_t ~ 0.1)
    easy = torch.tensor([[5.0, 0.0, 0.0]]), torch.tensor([0])
    hard = torch.tensor([[0.0, 2.0, 2.0]]), torch.tensor([0])
    ratio = lambda lt: (losses.focal_loss(*lt, gamma=2) / F.cross_entropy(*lt)).item()  # noqa
    assert ratio(easy) < 1e-3 < 0.5 < ratio(hard)


def test_alpha_weights_and_weighted_ce(batch):
    logits, target = batch
    w = torch.linspace(0.5, 3.0, 6, dtype=torch.float64)
    torch.testing.assert_close(
        losses.focal_loss(logits, target, gamma=0.0, alpha=w, reduction="sum"),
        F.cross_entropy(logits, target, weight=w, reduction="sum"))
    torch.testing.assert_close(losses.weighted_cross_entropy(logits, target, w),
                               F.cross_entropy(logits, target, weight=w))
    torch.testing.assert_close(losses.weighted_cross_entropy(logits, target),
                               F.cross_entropy(logits, target))


@pytest.mark.parametrize("alpha, gamma, reduction", [(0.25, 2.0, "none"), (-1, 0.5, "mean"),
                                                     (0.9, 0.0, "sum"), (0.5, 3.0, "mean")])
def test_binary_equals_torchvision(alpha, gamma, reduction):
    g = torch.Generator().manual_seed(1)
    logits = (4 * torch.randn(50, 3, generator=g, dtype=torch.float64)).requires_grad_()
    targets = (torch.rand(50, 3, generator=g) < 0.2).double()
    ours = losses.binary_focal_loss(logits, targets, alpha, gamma, reduction)
    ref = sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)
    (go,) = torch.autograd.grad(ours.sum(), logits)
    (gr,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(go, gr, rtol=1e-8, atol=1e-12)


def test_binary_focal_is_stable_for_huge_logits():
    logits = torch.tensor([100.0, -100.0, 100.0])
    targets = torch.tensor([0.0, 1.0, 1.0])
    out = losses.binary_focal_loss(logits, targets, alpha=-1, gamma=0)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.tensor([100.0, 100.0, 0.0]))


def test_focal_loss_module(batch):
    logits, target = batch
    crit = losses.FocalLoss(gamma=1.0)
    torch.testing.assert_close(crit(logits, target), losses.focal_loss(logits, target, 1.0))


def test_class_weights():
    y = [0] * 90 + [1] * 9 + [2]
    w = losses.class_weights(y)
    assert w.shape == (3,) and w.mean().item() == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(90.0)
    w = losses.class_weights(y, num_classes=4, scheme="sqrt_inverse")
    assert w[3] == 0 and w[2] / w[0] == pytest.approx(90 ** 0.5)
    we = losses.class_weights(y, scheme="effective", beta=0.9)
    assert we[0] < we[1] < we[2]


def test_bad_input_is_rejected(batch):
    logits, target = batch
    with pytest.raises(ValueError, match="target"):
        losses.focal_loss(logits, target.double())
    with pytest.raises(ValueError, match="alpha"):
        losses.focal_loss(logits, target, alpha=torch.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        losses.focal_loss(logits, target, reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        losses.binary_focal_loss(logits, target)
    with pytest.raises(ValueError, match="num_classes"):
        losses.class_weights([0, 5], num_classes=3)
    with pytest.raises(ValueError, match="scheme"):
        losses.class_weights([0, 1], scheme="log")


@pytest.mark.parametrize("gamma", [-1, -0.5, float("nan"), float("inf")])
def test_invalid_gamma_rejected_at_construction_and_call(gamma):
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        losses.FocalLoss(gamma=gamma)
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="gamma"):
        losses.focal_loss(logits, target, gamma=gamma)
    with pytest.raises(ValueError, match="gamma"):
        losses.binary_focal_loss(logits, (logits > 0).float(), gamma=gamma)


def test_invalid_alpha_and_types_rejected():
    with pytest.raises(TypeError, match="gamma"):
        losses.FocalLoss(gamma="2")
    with pytest.raises(ValueError, match="alpha"):
        losses.FocalLoss(alpha=[1.0, -0.5])
    with pytest.raises(ValueError, match="alpha"):
        losses.binary_focal_loss(torch.zeros(3), torch.ones(3), alpha=1.5)
    assert losses.FocalLoss(gamma=0).gamma == 0.0
