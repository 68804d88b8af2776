"""coursekit.nn modules, Sequential and Trainer."""
import numpy as np
import torch

from coursekit import nn
from coursekit.arithmetic import count_parameters


def _to_torch(model):
    """Copy a NumPy Sequential of Conv2d/ReLU/MaxPool2d/Flatten/Linear into torch (the documented layout)."""
    layers = []
    for m in model.layers:
        if isinstance(m, nn.Conv2d):
            F, C, k, _ = m.params["w"].shape
            t = torch.nn.Conv2d(C, F, k, m.stride, m.padding).double()
            t.weight.data = torch.tensor(m.params["w"])
            t.bias.data = torch.tensor(m.params["b"])
        elif isinstance(m, nn.Linear):
            D, M = m.params["w"].shape
            t = torch.nn.Linear(D, M).double()
            t.weight.data = torch.tensor(m.params["w"].T.copy())
            t.bias.data = torch.tensor(m.params["b"])
        elif isinstance(m, nn.ReLU):
            t = torch.nn.ReLU()
        elif isinstance(m, nn.MaxPool2d):
            t = torch.nn.MaxPool2d(m.kernel_size, m.stride)
        else:
            t = torch.nn.Flatten()
        layers.append(t)
    return torch.nn.Sequential(*layers)


def test_lesson_cnn_matches_torch_forward_and_grads():
    r = np.random.default_rng(0)
    model = nn.lesson_cnn(1, 10, 13, channels=(3, 4), rng=r)
    tmodel = _to_torch(model)
    x, y = r.standard_normal((5, 1, 13, 13)), r.integers(0, 10, 5)
    scores = model(x)
    assert scores.shape == (5, 10)
    loss, ds = nn.softmax_cross_entropy(scores, y)
    model.backward(ds)
    tl = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x)), torch.tensor(y))
    tl.backward()
    assert abs(loss - tl.item()) < 1e-10
    tgrads = {f"{i}.{'w' if n == 'weight' else 'b'}": p.grad.numpy()
              for i, m in enumerate(tmodel) for n, p in m.named_parameters()}
    grads = model.grads
    assert set(grads) == set(tgrads) == {"0.w", "0.b", "3.w", "3.b", "7.w", "7.b"}
    for k in grads:
        ref = tgrads[k].T if k == "7.w" else tgrads[k]
        assert nn.rel_error(grads[k], ref) < 1e-8, k


def test_sequential_params_are_the_childrens_arrays():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2, 3))
    assert model.params["0.w"] is model[0].params["w"]
    assert count_parameters(model) == 2 * 9 + 2 + 2 * 3 + 3
    model.eval()
    assert not any(m.training for m in model.layers)
    model.train()
    assert all(m.training for m in model.layers)
    assert "Conv2d(1, 2, kernel_size=3" in repr(model)


def test_trainer_overfits_tiny_batch_and_records_history():
    r = np.random.default_rng(0)
    x = r.standard_normal((20, 1, 8, 8))
    y = r.integers(0, 3, 20)
    model = nn.lesson_cnn(1, 3, 8, channels=(4,), rng=r)
    first, _ = nn.softmax_cross_entropy(model(x), y)
    trainer = nn.Trainer(model, nn.Adam(model, lr=1e-2), batch_size=10, seed=0)
    h = trainer.fit(x, y, x, y, epochs=40, progress=False)
    assert len(h.step_loss) == 80 and len(h.train_acc) == len(h.val_acc) == 40
    assert h.step_loss[-1] < first / 10
    assert h.val_acc[-1] == 1.0
    assert set(h.step_update_ratio) == set(model.params)
    assert all(0 < v < 1 for v in h.step_update_ratio["0.w"])
    assert nn.model_accuracy(model, x, y) == 1.0


def test_trainer_uses_schedule():
    r = np.random.default_rng(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, rng=r))
    trainer = nn.Trainer(model, nn.SGD(model, lr=1.0), batch_size=2,
                         scheduler=lambda t: nn.step_decay(t, 0.1, 2, 0.5))
    h = trainer.fit(r.standard_normal((8, 4)), r.integers(0, 2, 8), epochs=1, progress=False)
    assert h.step_lr == [0.1, 0.1, 0.05, 0.05]
