"""Every option ``coursekit.train.fit``'s docstring promises, measured (issue 22):
clip_grad_norm clips the global gradient norm, overwrite=True replaces a checkpoint and starts
afresh, restore_best=False keeps the last weights, and the amp / channels_last switches on CPU
(amp=True refused; channels_last=True trains in that memory format with the same numbers).
"""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from coursekit.train import evaluate, fit, load_checkpoint, seed_everything


def _data(n=64, seed=0, flip_val=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, 6, 6, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    yv = (y + 1) % 4 if flip_val else y
    return (DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False),
            DataLoader(TensorDataset(x, yv), batch_size=64))


def _model():
    seed_everything(0)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 36, 4))


def _flat(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])


def _one_step_update(clip):
    """Global norm of one plain-SGD (lr=1) step on a batch with a huge loss, and the
    gradient norm before clipping."""
    torch.set_num_threads(1)
    model = _model()
    x = torch.randn(16, 2, 6, 6, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 4
    loader = [(x, y)]
    big_loss = lambda out, t: 1000.0 * torch.nn.functional.cross_entropy(out, t)  # noqa: E731
    before = _flat(model)
    h = fit(model, loader, None, 1, torch.optim.SGD(model.parameters(), lr=1.0), loss=big_loss,
            device="cpu", clip_grad_norm=clip, progress=False)
    return float(torch.linalg.vector_norm(_flat(model) - before)), h


def test_clip_grad_norm_bounds_the_step_to_the_clip_value():
    free, _ = _one_step_update(None)
    assert free > 10.0, "the unclipped gradient must be far above the clip value"
    for clip in (0.5, 2.0):
        step, _ = _one_step_update(clip)
        assert step == pytest.approx(clip, rel=1e-4), (clip, step, free)


def test_clip_grad_norm_above_the_gradient_norm_changes_nothing():
    free, _ = _one_step_update(None)
    loose, _ = _one_step_update(free * 10)
    assert loose == pytest.approx(free, rel=1e-6)


def _run(epochs, ckpt, **kw):
    torch.set_num_threads(1)
    model = _model()
    tl, vl = _data()
    h = fit(model, tl, vl, epochs, torch.optim.SGD(model.parameters(), lr=0.05), device="cpu",
            checkpoint=ckpt, progress=False, **kw)
    return model, h


def test_overwrite_replaces_an_existing_checkpoint_and_starts_afresh(tmp_path):
    ckpt = tmp_path / "run.pt"
    ckpt.write_bytes(b"an old file")
    _, h = _run(2, ckpt, overwrite=True)
    assert h.epoch == [1, 2] and load_checkpoint(ckpt, _model())["epoch"] == 2
    # a second run with overwrite=True does not continue the first: it is the same run again
    model, again = _run(3, ckpt, overwrite=True)
    fresh_model, fresh = _run(3, None)
    assert again.epoch == [1, 2, 3] and again.train_loss == fresh.train_loss
    assert load_checkpoint(ckpt, _model())["epoch"] == 3
    for a, b in zip(model.parameters(), fresh_model.parameters()):
        assert torch.equal(a, b)


def _early_stopped(restore_best):
    torch.set_num_threads(1)
    model = _model()
    tl, vl = _data(flip_val=True)      # validation labels shifted: val loss rises as training improves
    h = fit(model, tl, vl, 30, torch.optim.Adam(model.parameters(), 1e-2), device="cpu",
            early_stopping=2, restore_best=restore_best, progress=False)
    return model, h, vl


def test_restore_best_false_keeps_the_last_weights():
    model, h, vl = _early_stopped(False)
    assert h.stopped_early and len(h) == h.best_epoch + 2
    last, best = h.val_loss[-1], min(h.val_loss)
    assert last > best
    assert evaluate(model, vl, device="cpu")["loss"] == pytest.approx(last, rel=1e-6)
    model, h2, vl = _early_stopped(True)
    assert h2.val_loss == h.val_loss
    assert evaluate(model, vl, device="cpu")["loss"] == pytest.approx(best, rel=1e-6)


def test_amp_on_cpu_is_refused_and_amp_false_is_the_cpu_default(tmp_path):
    tl, vl = _data()
    model = _model()
    with pytest.raises(ValueError, match="amp=True needs a CUDA device"):
        fit(model, tl, vl, 1, device="cpu", amp=True, progress=False)
    _, default = _run(2, None)
    _, off = _run(2, None, amp=False)
    assert default.train_loss == off.train_loss


def test_channels_last_on_cpu_trains_in_that_format_with_the_same_numbers():
    model, h = _run(3, None, channels_last=True)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    ref_model, ref = _run(3, None, channels_last=False)
    assert not ref_model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert h.train_loss == pytest.approx(ref.train_loss, rel=1e-5)
    assert h.val_loss == pytest.approx(ref.val_loss, rel=1e-5)
    for a, b in zip(model.parameters(), ref_model.parameters()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA-specific path: no GPU here")
def test_amp_and_clip_on_cuda():
    """On CUDA, AMP's scaled gradients are unscaled before clipping (a step of norm ``clip``)."""
    model = _model()
    x = torch.randn(16, 2, 6, 6, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 4
    before = _flat(model).cuda()
    big_loss = lambda out, t: 1000.0 * torch.nn.functional.cross_entropy(out, t)  # noqa: E731
    fit(model, [(x, y)], None, 1, torch.optim.SGD(model.parameters(), lr=1.0), loss=big_loss,
        device="cuda", amp=True, clip_grad_norm=0.5, progress=False)
    assert next(model.parameters()).dtype == torch.float32
    assert float(torch.linalg.vector_norm(_flat(model) - before)) == pytest.approx(0.5, rel=1e-3)
