"""A minimal training loop for NumPy models: minibatch SGD-style training with a history.

The :class:`Trainer` records, per step (minibatch), the loss, the learning rate and the
update/weight ratio ``||lr * update|| / ||w||`` of every parameter (the lecture's rule of
thumb for SGD: around 1e-3; with Adam the ratio is about ``lr / rms(w)`` whatever the
gradient, so it mostly shows the learning rate), and per epoch the training and validation
accuracy and the seconds. :func:`fit_seeds` repeats a run over seeds, for comparisons with a
spread. Names follow the torch half (:class:`coursekit.train.History`, ``fit(loss=,
scheduler=)``): ``step_*`` per step, plain names per epoch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .losses import softmax_cross_entropy


@dataclass
class History:
    """What :meth:`Trainer.fit` recorded (lists grow as training goes); the fields a
    :class:`coursekit.train.History` also has carry its names.

    - per step: ``step_loss``, ``step_lr``; ``step_update_ratio[name]`` and
      ``weight_rms[name]`` (rms of the parameter after the update) at the steps
      ``ratio_steps`` (every ``Trainer(ratio_every=...)``-th step)
    - per epoch: ``train_acc`` (on up to ``train_acc_samples`` training examples, eval
      mode), ``val_acc``, ``seconds``
    """

    step_loss: list = field(default_factory=list)
    step_lr: list = field(default_factory=list)
    step_update_ratio: dict = field(default_factory=dict)
    weight_rms: dict = field(default_factory=dict)
    ratio_steps: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)


def model_accuracy(model, x, y, batch_size: int = 256) -> float:
    """Fraction of ``x: (N, ...)`` that the NumPy ``model`` (evaluated in eval mode) labels
    as ``y: (N,)``; the torch half's twin is :func:`coursekit.metrics.model_accuracy`."""
    if len(x) == 0:
        return float("nan")
    was = model.training
    model.train(False)
    try:
        correct = 0
        for i in range(0, len(x), batch_size):
            correct += int((model.forward(x[i:i + batch_size]).argmax(axis=1) == y[i:i + batch_size]).sum())
    finally:
        model.train(was)
    return correct / len(x)


class Trainer:
    """Train ``model`` (a Module with params/grads) with ``optimizer`` on (x, y) minibatches.

    loss: ``(scores, y) -> (loss, dscores)`` (default softmax cross-entropy).
    scheduler: optional ``step -> lr`` callable setting ``optimizer.lr`` before each step
    (a schedule of :mod:`coursekit.nn.schedules`).
    ratio_every: record update/weight ratios every this many iterations (others: skipped).
    """

    def __init__(self, model, optimizer, loss=softmax_cross_entropy, scheduler=None,
                 batch_size: int = 64, seed: int = 0, ratio_every: int = 1,
                 train_acc_samples: int = 1000):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.optimizer, self.loss = model, optimizer, loss
        self.scheduler, self.batch_size = scheduler, int(batch_size)
        self.rng = np.random.default_rng(seed)
        self.ratio_every = max(1, int(ratio_every))
        self.train_acc_samples = train_acc_samples
        self.history = History()
        self.iteration = 0

    def train_step(self, xb, yb) -> float:
        """One forward/backward/update on a minibatch; returns the loss."""
        model, opt, h = self.model, self.optimizer, self.history
        model.train(True)
        scores = model.forward(xb)
        loss, dscores = self.loss(scores, yb)
        model.backward(dscores)
        if self.scheduler is not None:
            opt.lr = float(self.scheduler(self.iteration))
        record = self.iteration % self.ratio_every == 0
        before = {k: v.copy() for k, v in model.params.items()} if record else None
        opt.step()
        if record:
            for k, v in model.params.items():
                norm = np.linalg.norm(v)
                ratio = np.linalg.norm(v - before[k]) / (norm + 1e-12)
                h.step_update_ratio.setdefault(k, []).append(float(ratio))
                h.weight_rms.setdefault(k, []).append(float(norm / np.sqrt(v.size)))
            h.ratio_steps.append(self.iteration)
        h.step_loss.append(float(loss))
        h.step_lr.append(opt.lr)
        self.iteration += 1
        return float(loss)

    def fit(self, x_train, y_train, x_val=None, y_val=None, epochs: int = 1,
            progress: bool = True, max_seconds: float | None = None) -> History:
        """Run ``epochs`` passes over shuffled minibatches; returns the history.

        x_train: (N, ...) inputs, y_train: (N,) integer labels; optional validation set.
        max_seconds: stop early (after the current epoch's evaluation) past this budget.
        """
        x_train, y_train = np.asarray(x_train), np.asarray(y_train)
        if len(x_train) != len(y_train):
            raise ValueError(f"x_train has {len(x_train)} examples but y_train has {len(y_train)}")
        n = len(x_train)
        start = time.perf_counter()
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=epochs * ((n + self.batch_size - 1) // self.batch_size), desc="train")
        try:
            for _ in range(epochs):
                t0 = time.perf_counter()
                order = self.rng.permutation(n)
                for i in range(0, n, self.batch_size):
                    idx = order[i:i + self.batch_size]
                    loss = self.train_step(x_train[idx], y_train[idx])
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                sub = order[:self.train_acc_samples]
                self.history.train_acc.append(model_accuracy(self.model, x_train[sub], y_train[sub]))
                if x_val is not None:
                    self.history.val_acc.append(model_accuracy(self.model, np.asarray(x_val),
                                                               np.asarray(y_val)))
                self.history.seconds.append(time.perf_counter() - t0)
                if max_seconds is not None and time.perf_counter() - start > max_seconds:
                    break
        finally:
            if bar is not None:
                bar.close()
        return self.history


def dataset_loss(model, x, y, loss=softmax_cross_entropy, batch_size: int = 256) -> float:
    """Mean loss of ``model`` (in eval mode) over ``x: (N, ...)``, ``y: (N,)``."""
    was = model.training
    model.train(False)
    try:
        total = 0.0
        for i in range(0, len(x), batch_size):
            total += loss(model.forward(x[i:i + batch_size]), y[i:i + batch_size])[0] * len(x[i:i + batch_size])
    finally:
        model.train(was)
    return float(total / len(x))


def fit_seeds(build_model, build_optimizer, x_train, y_train, x_val=None, y_val=None, *,
              seeds=(0, 1, 2), epochs: int = 1, batch_size: int = 64, scheduler=None) -> list:
    """Train one fresh model per seed; returns a list of ``(model, History)``.

    build_model(seed) -> model; build_optimizer(model) -> optimizer; scheduler: None or
    ``total_steps -> (step -> lr)`` (built per run, since it needs the run's length). The
    seed sets both the initial weights and the minibatch order.
    """
    steps = epochs * -(-len(x_train) // batch_size)
    runs = []
    for seed in seeds:
        model = build_model(seed)
        trainer = Trainer(model, build_optimizer(model), batch_size=batch_size, seed=seed,
                          scheduler=scheduler(steps) if scheduler is not None else None,
                          ratio_every=10)
        runs.append((model, trainer.fit(x_train, y_train, x_val, y_val, epochs=epochs,
                                        progress=False)))
    return runs
