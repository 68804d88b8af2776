"""Benchmark: a plain MLP versus a small CNN on the generated shapes (same data, same budget).

Both models see the same training images for the same number of epochs (AdamW, one-cycle
learning rate; the MLP's best rate is lower); the
script prints parameter counts, seconds and test accuracies. The CNN should win clearly:
its convolutions share weights across positions, and shapes move around the image.
Usage: ``python benchmarks/mlp_vs_cnn.py [--n-train 10000] [--epochs 6] [--difficulty 0.5]``.
"""
import argparse
import time

import torch
from torch import nn

from coursekit.data import SHAPES_CLASSES, dataloaders
from coursekit.models import small_cnn
from coursekit.train import evaluate, fit, seed_everything


def mlp(num_classes: int = len(SHAPES_CLASSES), size: int = 32, hidden: int = 256) -> nn.Module:
    """Flatten - 2 hidden ReLU layers - linear (more parameters than the CNN)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * size * size, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


def run(model, train, test, epochs, lr):
    t0 = time.perf_counter()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * len(train))
    fit(model, train, None, epochs=epochs, optimizer=opt, scheduler=sched,
        scheduler_interval="step", progress=False, device="cpu")
    acc = evaluate(model, test, device="cpu")["accuracy"]
    return acc, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=10_000)
    ap.add_argument("--n-test", type=int, default=2_000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--difficulty", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train, test = dataloaders("shapes", batch_size=128, n_train=args.n_train,
                              n_val=args.n_test, val_split="test", difficulty=args.difficulty)
    print(f"shapes: {args.n_train} train / {args.n_test} test images, "
          f"{len(SHAPES_CLASSES)} classes (chance {1 / len(SHAPES_CLASSES):.0%}), "
          f"difficulty {args.difficulty}, {args.epochs} epochs")
    for name, build, lr in (("MLP", mlp, 1e-3), ("small CNN", small_cnn, 1e-2)):
        seed_everything(0)
        model = build()
        n_params = sum(p.numel() for p in model.parameters())
        acc, sec = run(model, train, test, args.epochs, lr)
        print(f"{name:10s} {n_params:>9,d} parameters  test accuracy {acc:6.1%}  ({sec:.0f} s)")


if __name__ == "__main__":
    main()
