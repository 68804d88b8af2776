"""Hyper-parameter search: grid vs random vs successive halving, on log scales, same budget.

An *objective* is a function ``objective(config: dict, resource: int) -> float`` returning a
validation loss (lower is better) after training with hyper-parameters ``config`` for
``resource`` units (epochs). A *space* maps names to :class:`LogUniform`, :class:`Uniform`
or :class:`Choice`.

- :func:`grid_search` / :func:`random_search`: ``budget`` full-length runs each;
- :func:`successive_halving`: many configurations on a small resource, keep the best
  ``1/eta`` and multiply their resource by ``eta``, with the same total resource;
- :func:`coarse_to_fine`: rounds of random search that zoom in on the best region;
- :class:`SyntheticTask`: a cheap analytic stand-in for "train a network": the loss depends
  strongly on the learning rate and weakly on the weight decay, with learning curves and
  noise; :func:`compare_search_methods` runs the three methods on many such tasks;
- :class:`TinyModelTask`: the same interface backed by a real (small) torch MLP;
- :func:`cross_validate`: k-fold scores when data are scarce (stratified, shuffled, or
  *temporal* forward-chaining folds when the data have an order);
- :func:`scan` / :meth:`SearchResult.edge_warnings`: the best value at the edge of the range
  searched is flagged ("confirm the range is sufficient").
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

__all__ = ["LogUniform", "Uniform", "Choice", "Trial", "SearchResult", "grid_search",
           "random_search", "successive_halving", "coarse_to_fine", "SyntheticTask",
           "compare_search_methods", "TinyModelTask", "cross_validate", "Scan", "scan",
           "edge_warning", "drifting_series", "data_vs_search"]


# --------------------------------------------------------------------------- spaces
@dataclass(frozen=True)
class LogUniform:
    """A positive range sampled uniformly in log10 (learning rates, weight decays)."""

    low: float
    high: float

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ValueError(f"LogUniform needs 0 < low < high, got low={self.low}, high={self.high}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high), n)

    def grid(self, n: int) -> np.ndarray:
        """``n`` values at the centres of ``n`` equal log-cells (no wasted end points)."""
        edges = np.linspace(math.log10(self.low), math.log10(self.high), n + 1)
        return 10 ** ((edges[:-1] + edges[1:]) / 2)

    def to_unit(self, v):
        return (np.log10(v) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))


@dataclass(frozen=True)
class Uniform:
    """A range sampled uniformly (dropout probability, momentum)."""

    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, got low={self.low}, high={self.high}")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def grid(self, n):
        edges = np.linspace(self.low, self.high, n + 1)
        return (edges[:-1] + edges[1:]) / 2

    def to_unit(self, v):
        return (np.asarray(v) - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Choice:
    """A finite set of values (architecture, optimizer name)."""

    values: tuple

    def __post_init__(self):
        if len(self.values) == 0:
            raise ValueError("Choice needs at least one value")

    def sample(self, rng, n):
        return [self.values[i] for i in rng.integers(0, len(self.values), n)]

    def grid(self, n):
        return list(self.values)


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise TypeError("space must be a non-empty dict {name: LogUniform/Uniform/Choice}")
    for k, v in space.items():
        if not isinstance(v, (LogUniform, Uniform, Choice)):
            raise TypeError(f"space[{k!r}] must be LogUniform, Uniform or Choice, got {type(v).__name__}")


def _check_budget(budget):
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive int, got {budget!r}")


# --------------------------------------------------------------------------- results
@dataclass
class Trial:
    """One evaluation: ``config``, the ``score`` (validation loss) and its ``resource``."""

    config: dict
    score: float
    resource: int


@dataclass
class SearchResult:
    """All trials of one search. ``best`` is the lowest-score trial at the largest resource
    used; ``cost`` the total resource spent (sum over trials)."""

    method: str
    trials: list = field(default_factory=list)

    @property
    def cost(self) -> int:
        return int(sum(t.resource for t in self.trials))

    @property
    def best(self) -> Trial:
        if not self.trials:
            raise ValueError(f"{self.method}: no trials were run")
        top = max(t.resource for t in self.trials)
        return min((t for t in self.trials if t.resource == top), key=lambda t: t.score)

    def values(self, name: str) -> np.ndarray:
        """Every tried value of hyper-parameter ``name`` (for plots)."""
        return np.array([t.config[name] for t in self.trials])

    def edge_warnings(self) -> list:
        """One warning per numeric hyper-parameter whose best value is the smallest or the
        largest value tried: the optimum may lie outside the range searched."""
        out = []
        for name, v in self.best.config.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                w = edge_warning(name, self.values(name), v)
                if w:
                    out.append(w)
        return out

    def __repr__(self):
        b = self.best
        cfg = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in b.config.items())
        return (f"SearchResult({self.method}: {len(self.trials)} trials, cost {self.cost}; "
                f"best {b.score:.4f} at {cfg})")


def _run(objective, configs, resource, method, result=None):
    result = result or SearchResult(method)
    for cfg in configs:
        result.trials.append(Trial(cfg, float(objective(cfg, resource)), resource))
    return result


# --------------------------------------------------------------------------- searches
def grid_configs(space: dict, budget: int) -> list:
    """The largest full grid with at most ``budget`` points: ``k`` values per continuous
    dimension (log-cell centres for :class:`LogUniform`), every value of a :class:`Choice`."""
    _check_space(space)
    _check_budget(budget)
    fixed = int(np.prod([len(v.values) for v in space.values() if isinstance(v, Choice)]))
    d = sum(not isinstance(v, Choice) for v in space.values())
    if fixed > budget:
        raise ValueError(f"the Choice dimensions alone need {fixed} runs > budget={budget}")
    k = max(1, int(math.floor((budget / fixed) ** (1 / d) + 1e-9))) if d else 1
    axes = {n: v.grid(k) for n, v in space.items()}
    mesh = np.meshgrid(*[np.arange(len(a)) for a in axes.values()], indexing="ij")
    idx = np.stack([m.ravel() for m in mesh], 1)
    return [{n: (axes[n][i].item() if hasattr(axes[n][i], "item") else axes[n][i])
             for n, i in zip(axes, row)} for row in idx]


def random_configs(space: dict, n: int, rng: np.random.Generator) -> list:
    """``n`` configurations sampled independently from ``space``."""
    _check_space(space)
    cols = {k: v.sample(rng, n) for k, v in space.items()}
    return [{k: (cols[k][i].item() if hasattr(cols[k][i], "item") else cols[k][i])
             for k in space} for i in range(n)]


def grid_search(objective: Callable, space: dict, budget: int, resource: int = 1) -> SearchResult:
    """Evaluate the grid of :func:`grid_configs` (at most ``budget`` runs of ``resource``)."""
    return _run(objective, grid_configs(space, budget), resource, "grid")


def random_search(objective: Callable, space: dict, budget: int, resource: int = 1,
                  seed: int = 0) -> SearchResult:
    """Evaluate ``budget`` random configurations, each for ``resource``."""
    _check_budget(budget)
    return _run(objective, random_configs(space, budget, np.random.default_rng(seed)), resource,
                "random")


def _halving_cost(n, min_resource, max_resource, eta):
    cost, r = 0, min_resource
    while n >= 1:
        cost += n * r
        if n == 1 or r >= max_resource:
            break
        n, r = max(1, n // eta), min(r * eta, max_resource)
    return cost


def successive_halving(objective: Callable, space: dict, budget: int, max_resource: int,
                       min_resource: int = 1, eta: int = 3, seed: int = 0) -> SearchResult:
    """Successive halving with a total resource of at most ``budget * max_resource``
    (the cost of ``budget`` full runs, so it compares with grid/random at equal cost).

    Start as many random configurations as fit at ``min_resource``; after each rung keep
    the best ``1/eta`` and multiply their resource by ``eta`` (capped at ``max_resource``).
    Each rung retrains from scratch (a conservative cost count).
    """
    _check_budget(budget)
    if not 1 <= min_resource <= max_resource or eta < 2:
        raise ValueError(f"need 1 <= min_resource <= max_resource and eta >= 2, got "
                         f"min_resource={min_resource}, max_resource={max_resource}, eta={eta}")
    total = budget * max_resource
    n = 1
    while _halving_cost(n + 1, min_resource, max_resource, eta) <= total:
        n += 1
    rng = np.random.default_rng(seed)
    configs = random_configs(space, n, rng)
    result, r = SearchResult("halving"), min_resource
    while True:
        start = len(result.trials)
        _run(objective, configs, r, "halving", result)
        rung = sorted(result.trials[start:], key=lambda t: t.score)
        if len(rung) == 1 or r >= max_resource:
            break
        configs = [t.config for t in rung[: max(1, len(rung) // eta)]]
        r = min(r * eta, max_resource)
    return result


def coarse_to_fine(objective: Callable, space: dict, rounds: int = 3, per_round: int = 9,
                   top_k: int = 3, resource: int = 1, margin: float = 0.25,
                   seed: int = 0) -> list:
    """Rounds of random search; after each, every continuous range shrinks to the span of
    the ``top_k`` best configurations, widened by ``margin`` of that span on each side (in
    log10 for :class:`LogUniform`). Returns one :class:`SearchResult` per round (its
    ``space`` attribute holds the ranges searched)."""
    _check_space(space)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(rounds):
        res = _run(objective, random_configs(space, per_round, rng), resource, f"round {i + 1}")
        res.space = dict(space)
        out.append(res)
        top = sorted(res.trials, key=lambda t: t.score)[:top_k]
        new = {}
        for name, dim in space.items():
            vals = np.array([t.config[name] for t in top])
            if isinstance(dim, LogUniform):
                lo, hi = np.log10(vals.min()), np.log10(vals.max())
                pad = max(margin * (hi - lo), 0.05)
                new[name] = LogUniform(max(dim.low, 10 ** (lo - pad)), min(dim.high, 10 ** (hi + pad)))
            elif isinstance(dim, Uniform):
                lo, hi = vals.min(), vals.max()
                pad = max(margin * (hi - lo), 1e-3 * (dim.high - dim.low))
                new[name] = Uniform(max(dim.low, lo - pad), min(dim.high, hi + pad))
            else:
                new[name] = dim
        space = new
    return out


# --------------------------------------------------------------------------- synthetic task
@dataclass
class SyntheticTask:
    """A cheap analytic "training run" with a learning rate and a weight decay.

    Final loss: ``floor + lr_weight * (log10 lr - log10 lr_opt)^2 + wd_weight *
    (log10 wd - log10 wd_opt)^2`` (the learning rate matters a lot, the weight decay a
    little); beyond ``diverge * lr_opt`` the run diverges (loss ``chance``). After
    ``resource`` epochs the loss is ``final + (chance - final) * exp(-resource * speed)``
    where faster learning rates learn faster, plus deterministic noise of size ``noise``.
    Configs are dicts with keys ``"lr"`` and ``"weight_decay"``.
    """

    lr_opt: float = 3e-3
    wd_opt: float = 1e-4
    lr_weight: float = 0.25
    wd_weight: float = 0.002
    floor: float = 0.2
    chance: float = 2.3
    diverge: float = 30.0
    noise: float = 0.005
    seed: int = 0

    def final_loss(self, config: dict) -> float:
        """The noise-free loss after unlimited training (the quality of ``config``)."""
        lr, wd = float(config["lr"]), float(config["weight_decay"])
        if lr <= 0 or wd <= 0:
            raise ValueError(f"lr and weight_decay must be > 0, got {config}")
        if lr > self.diverge * self.lr_opt:
            return self.chance
        v = (self.floor + self.lr_weight * math.log10(lr / self.lr_opt) ** 2
             + self.wd_weight * math.log10(wd / self.wd_opt) ** 2)
        return min(v, self.chance)

    def __call__(self, config: dict, resource: int = 1) -> float:
        final = self.final_loss(config)
        speed = 0.5 * min(float(config["lr"]) / self.lr_opt, 3.0)
        loss = final + (self.chance - final) * math.exp(-resource * speed)
        key = f"{self.seed}|{config['lr']:.12g}|{config['weight_decay']:.12g}|{resource}"
        z = np.random.default_rng(zlib.crc32(key.encode())).normal()
        return float(loss + self.noise * z)

    @classmethod
    def random(cls, space: dict, rng: np.random.Generator, **kwargs) -> "SyntheticTask":
        """A task whose optima lie at random places inside ``space`` (log-uniformly, away
        from the edges by a tenth of the range)."""
        def inner(dim):
            lo, hi = math.log10(dim.low), math.log10(dim.high)
            pad = 0.1 * (hi - lo)
            return 10 ** rng.uniform(lo + pad, hi - pad)
        return cls(lr_opt=inner(space["lr"]), wd_opt=inner(space["weight_decay"]),
                   seed=int(rng.integers(2 ** 31)), **kwargs)


def compare_search_methods(space: dict, budget: int = 9, max_resource: int = 9,
                           n_tasks: int = 200, seed: int = 0, progress: bool = False,
                           **task_kwargs) -> dict:
    """Grid, random and successive halving with the same budget on ``n_tasks`` random
    :class:`SyntheticTask` s. For each method: ``regret`` (n_tasks,) = final loss of the
    chosen config minus the best possible (``floor``), ``lr_error`` (n_tasks,) = decades
    between the chosen and the optimal learning rate, ``cost``. Also ``random_beats_grid``
    and ``grid_beats_random``: fractions of tasks where one's chosen config is strictly
    better than the other's (by more than 1e-9)."""
    rng = np.random.default_rng(seed)
    out = {m: {"regret": [], "lr_error": [], "cost": []} for m in ("grid", "random", "halving")}
    tasks = range(n_tasks)
    if progress:
        from tqdm.auto import tqdm
        tasks = tqdm(tasks, desc="tasks")
    for i in tasks:
        task = SyntheticTask.random(space, rng, **task_kwargs)
        runs = {"grid": grid_search(task, space, budget, max_resource),
                "random": random_search(task, space, budget, max_resource, seed=seed * 7919 + i),
                "halving": successive_halving(task, space, budget, max_resource,
                                              seed=seed * 7919 + i)}
        for m, res in runs.items():
            cfg = res.best.config
            out[m]["regret"].append(task.final_loss(cfg) - task.floor)
            out[m]["lr_error"].append(abs(math.log10(cfg["lr"] / task.lr_opt)))
            out[m]["cost"].append(res.cost)
    for m in out:
        out[m] = {k: np.asarray(v) for k, v in out[m].items()}
    g, r = out["grid"]["regret"], out["random"]["regret"]
    out["random_beats_grid"] = float(np.mean(r < g - 1e-9))
    out["grid_beats_random"] = float(np.mean(g < r - 1e-9))
    out["budget"], out["n_tasks"] = budget, n_tasks
    return out


# --------------------------------------------------------------------------- range checks
def edge_warning(name: str, tried, best) -> str | None:
    """A warning when ``best`` is the smallest or largest of the ``tried`` values of ``name``
    (the optimum may lie beyond the range searched), else None."""
    tried = np.asarray(tried, dtype=float)
    if tried.size < 3 or not np.isfinite(best):
        return None
    if best >= tried.max():
        side = "largest"
    elif best <= tried.min():
        side = "smallest"
    else:
        return None
    return (f"best {name}={best:.3g} is the {side} value tried: the optimum may lie beyond "
            f"{tried.min():.3g}..{tried.max():.3g}; extend the range")


@dataclass
class Scan:
    """Scores of one hyper-parameter over a list of values (e.g. cross-validated)."""

    name: str
    values: list
    scores: list            # per value: an array of fold scores (or one number)
    higher_is_better: bool = True

    @property
    def means(self) -> np.ndarray:
        return np.array([float(np.mean(s)) for s in self.scores])

    @property
    def best_value(self):
        i = int(np.argmax(self.means) if self.higher_is_better else np.argmin(self.means))
        return self.values[i]

    @property
    def warning(self) -> str | None:
        """:func:`edge_warning` for the best value (None when it lies inside the range)."""
        return edge_warning(self.name, self.values, self.best_value)


def scan(name: str, values, score: Callable, higher_is_better: bool = True) -> Scan:
    """``score(value)`` (a number or an array of fold scores) for each value; the result
    flags a best value at the edge of the range (:attr:`Scan.warning`)."""
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"scan({name!r}): give at least 2 values, got {len(values)}")
    return Scan(name, values, [np.asarray(score(v), dtype=float) for v in values], higher_is_better)


# --------------------------------------------------------------------------- a real tiny task
class TinyModelTask:
    """``objective(config, epochs)`` = validation loss of a small MLP trained with SGD +
    momentum, learning rate ``config["lr"]`` and ``config["weight_decay"]``.

    x_train: (N, ...) float array, y_train: (N,) int; the same for validation. The run is
    deterministic for ``seed``. A diverged run scores ``log(C) * 2``.
    """

    def __init__(self, x_train, y_train, x_val, y_val, hidden: int = 64, batch_size: int = 64,
                 seed: int = 0):
        import torch
        self.torch = torch
        self.xt = torch.as_tensor(np.asarray(x_train, np.float32)).flatten(1)
        self.yt = torch.as_tensor(np.asarray(y_train)).long()
        self.xv = torch.as_tensor(np.asarray(x_val, np.float32)).flatten(1)
        self.yv = torch.as_tensor(np.asarray(y_val)).long()
        if len(self.xt) != len(self.yt) or len(self.xv) != len(self.yv):
            raise ValueError("x and y must have the same number of examples")
        self.classes = int(max(self.yt.max(), self.yv.max())) + 1
        self.hidden, self.batch_size, self.seed = hidden, batch_size, seed

    def __call__(self, config: dict, resource: int = 1) -> float:
        torch = self.torch
        from .optim import SGD
        g = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        net = torch.nn.Sequential(torch.nn.Linear(self.xt.shape[1], self.hidden),
                                  torch.nn.ReLU(), torch.nn.Linear(self.hidden, self.classes))
        opt = SGD(net.parameters(), lr=float(config["lr"]), momentum=0.9,
                  weight_decay=float(config.get("weight_decay", 0.0)))
        bad = 2 * math.log(self.classes)
        for _ in range(int(resource)):
            perm = torch.randperm(len(self.xt), generator=g)
            for i in range(0, len(perm), self.batch_size):
                idx = perm[i:i + self.batch_size]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(self.xt[idx]), self.yt[idx])
                if not torch.isfinite(loss):
                    return bad
                loss.backward()
                opt.step()
        with torch.no_grad():
            v = float(torch.nn.functional.cross_entropy(net(self.xv), self.yv))
        return v if math.isfinite(v) else bad


def cross_validate(train_and_score: Callable, y, k: int = 5, seed: int = 0,
                   folds: str = "stratified") -> np.ndarray:
    """k-fold cross-validation: ``train_and_score(train_idx, val_idx)`` is called once per fold
    and returns a score; the array of k scores comes back. Use it to tune on small data sets
    without a separate validation split (the test set stays out).

    folds: ``"stratified"`` (shuffled, class proportions kept; needs class labels ``y``),
    ``"shuffled"`` (plain shuffled k-fold), or ``"temporal"`` when the examples are in time
    order: forward chaining, each fold trains on everything *before* its validation block
    (``sklearn.model_selection.TimeSeriesSplit``), so the model never sees the future.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
    y = np.asarray(y)
    if k < 2 or k > len(y):
        raise ValueError(f"k must be between 2 and the number of examples ({len(y)}), got {k}")
    if folds == "stratified":
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    elif folds == "shuffled":
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)))
    elif folds == "temporal":
        splitter = TimeSeriesSplit(n_splits=k).split(np.zeros(len(y)))
    else:
        raise ValueError(f"folds must be 'stratified', 'shuffled' or 'temporal', got {folds!r}")
    return np.array([train_and_score(tr, va) for tr, va in splitter])


# --------------------------------------------------------------------------- ordered data
def drifting_series(n: int = 600, drift: float = 3.0, noise: float = 0.3, seed: int = 0):
    """Examples in time order whose input-output relation drifts (concept drift).

    At time ``t = i / n`` the target is ``y = (1 + drift * t) x + noise``, ``x ~ N(0, 1)``;
    the features (n, 2) are ``(3 t, x)`` (a timestamp and the input). Neighbours in time share
    nearly the same relation, so a model validated on examples *between* its training examples
    (a shuffled split) interpolates, while the future must be extrapolated.
    Returns ``(features, target)``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / n
    x = rng.normal(0, 1, n)
    y = (1 + drift * t) * x + noise * rng.normal(0, 1, n)
    return np.stack([3 * t, x], 1), y


def data_vs_search(x_train, y_train, x_test, y_test, sizes=(100, 200, 400, 800), base: int = 200,
                   budgets=(1, 3, 9, 27), seeds=(0, 1, 2), c_range=(1e-4, 1e4)) -> dict:
    """More data or more tuning? Logistic regression (scikit-learn) on flattened images.

    ``"size"``: test accuracy at the default ``C=1`` for each training-set size (random
    subsets, one per seed). ``"budget"``: with ``base`` training examples, the test accuracy
    of the ``C`` chosen by 5-fold cross-validation among ``budget`` log-uniform samples of
    ``c_range``. Each is ``{value: [accuracy per seed]}``.
    """
    from sklearn.linear_model import LogisticRegression
    xtr, xte = np.asarray(x_train).reshape(len(x_train), -1), np.asarray(x_test).reshape(len(x_test), -1)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if max(max(sizes), base) > len(xtr):
        raise ValueError(f"sizes and base must be <= the {len(xtr)} training examples")

    def test_acc(idx, c):
        return LogisticRegression(C=c, max_iter=1000).fit(xtr[idx], y_train[idx]).score(xte, y_test)

    out = {"size": {n: [] for n in sizes}, "budget": {b: [] for b in budgets}}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(xtr))
        for n in sizes:
            out["size"][n].append(test_acc(order[:n], 1.0))
        idx = order[:base]
        cs = LogUniform(*c_range).sample(rng, max(budgets))
        cv = [cross_validate(lambda tr, va, c=c: LogisticRegression(C=c, max_iter=1000)
                             .fit(xtr[idx][tr], y_train[idx][tr]).score(xtr[idx][va], y_train[idx][va]),
                             y_train[idx], k=5, seed=seed).mean() for c in cs]
        for b in budgets:
            out["budget"][b].append(test_acc(idx, cs[int(np.argmax(cv[:b]))]))
    return out
