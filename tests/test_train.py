"""coursekit.train: fit on shapes, History, checkpoints/resume, early stopping, evaluate."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from coursekit.data import dataloaders
from coursekit.models import lesson_cnn
from coursekit.train import (History, device, evaluate, fit, load_checkpoint,
                             seed_everything)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def shapes_loaders():
    """4 easy classes, 1024 train / 256 val images (chance = 25%)."""
    torch.set_num_threads(1)
    return dataloaders("shapes", 32, n_train=1024, n_val=256, num_classes=4, difficulty="easy")


def _model(num_classes=4, dropout=False):
    seed_everything(0)
    m = lesson_cnn(num_classes=num_classes, channels=(16, 32))
    if dropout:
        m.insert(6, torch.nn.Dropout(0.3))
    return m


def test_fit_on_shapes_reduces_loss_and_beats_chance(shapes_loaders):
    tl, vl = shapes_loaders
    model = _model()
    before = evaluate(model, vl)
    h = fit(model, tl, vl, 2, torch.optim.Adam(model.parameters(), 3e-3), progress=False)
    assert isinstance(h, History) and len(h) == 2 and h.epoch == [1, 2]
    assert h.train_loss[1] < h.train_loss[0]
    assert h.val_loss[-1] < before["loss"] - 0.05
    assert h.val_acc[-1] > 0.35, h.val_acc  # chance is 0.25; 0.35 is ~4 sd above it
    assert evaluate(model, vl)["accuracy"] == pytest.approx(h.val_acc[-1])
    # monitoring fields
    weights = [n for n, p in model.named_parameters() if p.dim() >= 2]
    assert list(h.update_ratio) == weights == list(h.layer_grad_norm)
    for name in weights:
        assert len(h.update_ratio[name]) == 2 and all(0 < r < 1 for r in h.update_ratio[name])
        assert all(g > 0 for g in h.layer_grad_norm[name])
        steps = h.step_update_ratio[name]                      # one ratio per step, epoch mean = update_ratio
        assert len(steps) == 2 * len(tl)
        assert np.mean(steps[:len(tl)]) == pytest.approx(h.update_ratio[name][0])
    assert len(h.step_loss) == len(h.step_lr) == 2 * len(tl)
    assert all(g > 0 and math.isfinite(g) for g in h.grad_norm)
    assert all(gm >= g for gm, g in zip(h.grad_norm_max, h.grad_norm))
    assert h.lr == [3e-3, 3e-3] and len(h.seconds) == 2
    assert History.from_dict(h.to_dict()) == h


def _tiny_loaders(seed=0, n=256, flip_val=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    yv = (y + 1) % 4 if flip_val else y
    tl = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True,
                    generator=torch.Generator().manual_seed(seed))
    return tl, DataLoader(TensorDataset(x, yv), batch_size=128)


def _tiny_model():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                               torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Flatten(),
                               torch.nn.Linear(8 * 64, 4))


def _run(epochs, ckpt=None, resume=False, loaders=None):
    seed_everything(0)
    model = _tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    tl, vl = loaders or _tiny_loaders()
    h = fit(model, tl, vl, epochs, opt, sched, checkpoint=ckpt, resume=resume, progress=False)
    return model, h


@pytest.mark.parametrize("global_shuffle", [False, True])
def test_checkpoint_resume_reproduces_uninterrupted_run(tmp_path, global_shuffle):
    """Dropout + shuffling + momentum + scheduler: resuming after epoch 2 of 4 is exact."""
    def loaders():
        tl, vl = _tiny_loaders()
        if global_shuffle:  # loader shuffling from torch's global RNG instead of a generator
            tl = DataLoader(tl.dataset, batch_size=32, shuffle=True)
        return tl, vl

    full_model, full = _run(4, loaders=loaders())
    ckpt = tmp_path / "run.pt"
    _run(2, ckpt, loaders=loaders())
    torch.rand(1000), np.random.rand(10)  # disturb the global RNGs between sessions
    resumed_model, resumed = _run(4, ckpt, resume=True, loaders=loaders())
    assert resumed.epoch == [1, 2, 3, 4]
    assert resumed.step_loss == full.step_loss
    assert resumed.train_loss == full.train_loss and resumed.val_loss == full.val_loss
    assert resumed.lr == full.lr == pytest.approx([0.05, 0.035, 0.0245, 0.01715])
    for (k, a), b in zip(full_model.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), k
    payload = load_checkpoint(ckpt, _tiny_model())
    assert payload["epoch"] == 4


def test_existing_checkpoint_is_not_overwritten(tmp_path):
    ckpt = tmp_path / "mine.pt"
    ckpt.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="resume=True"):
        _run(1, ckpt)
    assert ckpt.read_bytes() == b"precious"


def test_early_stopping_restores_best_weights():
    """Validation labels are shifted: val loss rises while training improves."""
    seed_everything(0)
    model = _tiny_model()
    tl, vl = _tiny_loaders(flip_val=True)
    h = fit(model, tl, vl, 20, torch.optim.Adam(model.parameters(), 1e-2),
            early_stopping=2, progress=False)
    assert h.stopped_early and len(h) < 20
    assert len(h) == h.best_epoch + 2
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert evaluate(model, vl)["loss"] == pytest.approx(min(h.val_loss), rel=1e-6)


def test_reduce_on_plateau_and_step_scheduler():
    seed_everything(0)
    model = _tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    h = fit(model, *_tiny_loaders(flip_val=True), 4, opt, sched, progress=False)
    # replay ReduceLROnPlateau's rule (relative threshold 1e-4) on the recorded val losses
    best, lr, expected = math.inf, 0.1, []
    for v in h.val_loss:
        expected.append(lr)
        if v < best * (1 - 1e-4):
            best = v
        else:
            lr *= 0.5
    assert h.lr == pytest.approx(expected) and min(h.lr) < 0.1  # it got the val loss
    seed_everything(0)
    model = _tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tl, vl = _tiny_loaders()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1 + step))
    h = fit(model, tl, None, 1, opt, sched, scheduler_interval="step", progress=False)
    assert h.step_lr == pytest.approx([0.1 / (1 + i) for i in range(len(tl))])
    assert math.isnan(h.val_loss[0]) and h.best_epoch == 1


def test_evaluate_restores_mode_and_plot_history():
    from coursekit.viz import plot_history  # viz draws what train computes

    seed_everything(0)
    model = _tiny_model().train()
    tl, vl = _tiny_loaders()
    r = evaluate(model, vl)
    assert model.training and r["n"] == 256 and 0 <= r["accuracy"] <= 1
    h = fit(model, tl, vl, 2, progress=False)
    fig = plot_history(h, title="tiny")
    axes = fig.axes
    assert len(axes) == 2 and axes[0].get_xlabel() == "epoch"
    assert "Loss" in axes[0].get_title() and "Accuracy" in axes[1].get_title()
    assert len(axes[0].lines) >= 2  # train and val
    from coursekit.figure_audit import audit_figure, figure_problems

    assert len(fig.legends) == 1 and not axes[1].get_legend()  # one legend, below the panels
    assert figure_problems(audit_figure(fig)) == []
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())


def test_bad_inputs():
    model = _tiny_model()
    tl, vl = _tiny_loaders()
    with pytest.raises(TypeError, match="model"):
        fit("net", tl, vl, 1)
    with pytest.raises(TypeError, match="train_loader"):
        fit(model, None, vl, 1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, tl, vl, -1)
    with pytest.raises(ValueError, match="pair"):
        fit(model, [torch.zeros(2, 3, 8, 8)], None, 1, progress=False)
    with pytest.raises(ValueError, match="early_stopping"):
        fit(model, tl, vl, 1, early_stopping=0)
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(model, tl, vl, 1, torch.optim.SGD(model.parameters(), lr=1e30), progress=False)
    with pytest.raises(ValueError, match="on_nan"):
        fit(model, tl, vl, 1, on_nan="ignore")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            fit(model, tl, vl, 1, amp=True)


def test_divergence_can_stop_instead_of_raising():
    seed_everything(0)
    model = _tiny_model()
    tl, vl = _tiny_loaders()
    h = fit(model, tl, vl, 3, torch.optim.SGD(model.parameters(), lr=1e30), on_nan="stop",
            progress=False)
    assert h.diverged and h.epoch == [1] and not h.stopped_early
    assert math.isnan(h.train_loss[0]) and math.isnan(h.val_acc[0])
    assert math.isnan(h.step_loss[-1]) and len(h.lr) == 1


def test_device_and_seed(capsys):
    dev = device()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    assert dev.type == ("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    assert "Using" in capsys.readouterr().out
    assert device("cpu", verbose=False).type == "cpu"
    with pytest.raises(ValueError, match="prefer"):
        device("tpu")
    seed_everything(3)
    a = torch.rand(3), np.random.rand(3)
    rng = seed_everything(3)
    b = torch.rand(3), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert isinstance(rng, np.random.Generator)
    with pytest.raises(TypeError, match="seed"):
        seed_everything(1.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA-specific path: no GPU here")
def test_cuda_path_amp_channels_last():
    seed_everything(0)
    model = _tiny_model()
    tl, vl = _tiny_loaders()
    h = fit(model, tl, vl, 2, torch.optim.Adam(model.parameters(), 1e-2), progress=False)
    p = next(model.parameters())
    assert p.is_cuda and p.dtype == torch.float32  # AMP keeps float32 master weights
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert h.train_loss[-1] < h.train_loss[0] and all(math.isfinite(v) for v in h.val_loss)
    assert evaluate(model, vl)["accuracy"] == pytest.approx(h.val_acc[-1])
