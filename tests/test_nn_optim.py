"""coursekit.nn optimizers and schedules, step for step against torch.optim."""
import numpy as np
import pytest
import torch

from coursekit import nn

CONFIGS = [
    (nn.SGD, torch.optim.SGD, dict(lr=0.1)),
    (nn.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (nn.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    (nn.RMSProp, torch.optim.RMSprop, dict(lr=1e-2)),
    (nn.RMSProp, torch.optim.RMSprop, dict(lr=1e-3, alpha=0.9, eps=1e-6, momentum=0.5)),
    (nn.Adam, torch.optim.Adam, dict(lr=1e-3)),
    (nn.Adam, torch.optim.Adam, dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-3)),
]


@pytest.mark.parametrize("ours,theirs,kw", CONFIGS, ids=lambda c: str(c) if isinstance(c, dict) else "")
def test_optimizer_matches_torch_step_for_step(ours, theirs, kw):
    r = np.random.default_rng(0)
    params = {"w": r.standard_normal((3, 4)), "b": r.standard_normal(4)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = ours(params, **kw)
    topt = theirs(list(tparams.values()), **kw)
    for _ in range(12):
        grads = {k: r.standard_normal(v.shape) for k, v in params.items()}
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        opt.step(grads)
        topt.step()
        for k in params:
            assert nn.rel_error(params[k], tparams[k].detach().numpy()) < 1e-10, (k, kw)
    for k, t in tparams.items():   # the state has torch's keys and values
        ours_state, theirs_state = opt.state[k], topt.state[t]
        assert set(ours_state) <= set(theirs_state), (sorted(ours_state), sorted(theirs_state))
        for key, value in ours_state.items():
            assert np.allclose(value, np.asarray(theirs_state[key]), rtol=1e-10), key


def test_optimizer_updates_model_in_place_with_changing_lr():
    r = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(3, 2, rng=r))
    w = model.params["0.w"]
    before = w.copy()
    opt = nn.SGD(model, lr=0.1)
    x = r.standard_normal((4, 3))
    model.backward(np.ones_like(model.forward(x)))
    opt.lr = 0.5
    opt.step()
    assert model.params["0.w"] is w
    assert np.allclose(w, before - 0.5 * model.grads["0.w"])


def _torch_lrs(make_sched, steps, lr0):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


S = torch.optim.lr_scheduler


@pytest.mark.parametrize("ours,make,steps,lr0", [
    (lambda t: nn.step_decay(t, 0.1, 7, 0.5), lambda o: S.StepLR(o, 7, 0.5), 30, 0.1),
    (lambda t: nn.exponential(t, 0.1, 0.9), lambda o: S.ExponentialLR(o, 0.9), 30, 0.1),
    (lambda t: nn.cosine(t, 0.1, 20, 1e-3), lambda o: S.CosineAnnealingLR(o, 20, 1e-3), 20, 0.1),
    (lambda t: nn.one_cycle(t, 0.5, 40), lambda o: S.OneCycleLR(o, 0.5, total_steps=40), 40, 0.5),
    (lambda t: nn.one_cycle(t, 1.0, 25, 0.2, 10, 100),
     lambda o: S.OneCycleLR(o, 1.0, total_steps=25, pct_start=0.2, div_factor=10, final_div_factor=100), 25, 1.0),
    (lambda t: nn.linear_warmup(t, 0.2, 5, start_factor=0.1),
     lambda o: S.LinearLR(o, start_factor=0.1, total_iters=5), 12, 0.2),
    (lambda t: nn.inverse_time(t, 0.2, 0.5), lambda o: S.LambdaLR(o, lambda s: 1 / (1 + 0.5 * s)), 12, 0.2),
], ids=["step", "exponential", "cosine", "one_cycle", "one_cycle_custom", "warmup", "inverse_time"])
def test_schedules_match_torch(ours, make, steps, lr0):
    mine = np.array(nn.schedule_values(ours, steps))
    assert np.allclose(mine, _torch_lrs(make, steps, lr0), rtol=1e-9, atol=1e-12)


def test_warmup_then_cosine_and_make_schedule():
    after = nn.make_schedule("cosine", lr0=1.0, total_steps=10)
    lrs = nn.schedule_values(lambda t: nn.linear_warmup(t, 1.0, 5, after=after), 20)
    assert lrs[0] == 0.0 and lrs[5] == 1.0 and np.all(np.diff(lrs[:6]) > 0)
    assert lrs[15] == 0.0 and np.all(np.diff(lrs[5:16]) < 0)
    with pytest.raises(ValueError, match="unknown schedule"):
        nn.make_schedule("cosinus")
    with pytest.raises(ValueError, match="step"):
        nn.cosine(-1, 0.1, 10)
