"""Train the lesson-04 NumPy CNN on real MNIST digits: >= 97% held-out accuracy in <= 90 s?

Data: the MNIST test set (t10k, 10,000 images) in ``../shared/data/mnist`` (or --mnist),
shuffled with a fixed seed and split 8,000 train / 2,000 held out. Network:
``[Conv3x3-ReLU-MaxPool2] x 2 (12, 24 channels) -> Linear(1176, 10)`` from
``coursekit.nn.lesson_cnn``, float32, Adam with a one-cycle learning rate, batch 64.
Prints held-out accuracy, seconds (wall clock, data loading included), the CPU seconds
of this process (all threads: a fair figure when the machine is shared) and the load.

    .venv/bin/python benchmarks/train_numpy_cnn.py [--threads 1] [--epochs 6] [--channels 12 24]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def load_split(mnist_dir: Path, n_train: int = 8000, seed: int = 0):
    """(x_train, y_train, x_val, y_val): float32 (N, 1, 28, 28) standardised, int64 labels."""
    from coursekit.data.idx import read_idx

    x = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order, None], y[order]
    mean, std = x[:n_train].mean(), x[:n_train].std()
    x = (x - mean) / std
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads (1: on a shared or 2-core machine a second thread mostly spin-waits)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-3, help="peak learning rate of the one-cycle schedule")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels", type=int, nargs="+", default=[12, 24])
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from coursekit import nn
    from coursekit.arithmetic import count_parameters

    start, cpu0 = time.perf_counter(), time.process_time()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} CPUs); BLAS threads: {args.threads}")
    with threadpool_limits(args.threads):
        xtr, ytr, xva, yva = load_split(args.mnist, seed=args.seed)
        model = nn.lesson_cnn(1, 10, 28, channels=tuple(args.channels), rng=args.seed, dtype=np.float32)
        steps = args.epochs * -(-len(xtr) // args.batch_size)
        trainer = nn.Trainer(model, nn.Adam(model, lr=args.lr), batch_size=args.batch_size,
                             seed=args.seed, ratio_every=50,
                             scheduler=nn.make_schedule("one_cycle", lr_max=args.lr, total_steps=steps))
        hist = trainer.fit(xtr, ytr, xva, yva, epochs=args.epochs, progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    for e, (tr, va, s) in enumerate(zip(hist.train_acc, hist.val_acc, hist.seconds), 1):
        print(f"epoch {e}: train acc {tr:.4f}  held-out acc {va:.4f}  ({s:.1f} s)")
    acc = hist.val_acc[-1]
    print(f"held-out accuracy {acc:.4f} on {len(xva)} images after {seconds:.1f} s wall, "
          f"{cpu:.1f} s CPU (all threads) "
          f"(train {len(xtr)}, {args.epochs} epochs, {count_parameters(model)} parameters)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ok = acc >= 0.97 and seconds <= 90
    print(f"target (>= 97% in <= 90 s): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
