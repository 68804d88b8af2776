"""Benchmark: a small CNN (coursekit.models.vgg_style, width 16) on the shapes data set.

Target (issue 5): >= 95% test accuracy within 60 s of training on 2 CPU cores.
Prints test accuracy, training seconds (wall and process CPU time), images/s and the
machine load (``uptime``), then the same figures on the GPU when one is present.

    .venv/bin/python benchmarks/train_torch.py            # CPU (2 threads), then GPU if any
    .venv/bin/python benchmarks/train_torch.py --device cuda
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from coursekit.data import channel_stats, load
from coursekit.arithmetic import count_parameters
from coursekit.models import lesson_cnn, small_cnn, vgg_style

MODELS = {
    "small_cnn": lambda w: small_cnn(width=w),
    "lesson_cnn": lambda w: lesson_cnn(channels=(w, 2 * w)),
    "vgg_style": lambda w: vgg_style(widths=(w, 2 * w, 4 * w), convs_per_stage=1, dropout=0.0),
}
from coursekit.train import evaluate, fit, seed_everything


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _per_image(x):
    """x: (N, C, H, W) -> every image and channel with mean 0, std 1."""
    m = x.mean(axis=(2, 3), keepdims=True)
    return ((x - m) / (x.std(axis=(2, 3), keepdims=True) + 1e-3)).astype(np.float32)


def _loaders(args, dev):
    t0 = time.perf_counter()
    xtr, ytr = load("shapes", "train", n=args.n_train, seed=args.seed, difficulty=args.difficulty)
    xte, yte = load("shapes", "test", n=args.n_test, seed=args.seed, difficulty=args.difficulty)
    if args.per_image:  # standardize every image per channel: removes colour/contrast
        xtr, xte = _per_image(xtr), _per_image(xte)
    mean, std = channel_stats(xtr)
    m = np.asarray(mean, np.float32)[:, None, None]
    s = np.asarray(std, np.float32)[:, None, None]
    tr = TensorDataset(torch.from_numpy((xtr - m) / s), torch.from_numpy(ytr))
    te = TensorDataset(torch.from_numpy((xte - m) / s), torch.from_numpy(yte))
    pin = dev.type == "cuda"
    train = DataLoader(tr, batch_size=args.batch_size, shuffle=True, pin_memory=pin,
                       generator=torch.Generator().manual_seed(args.seed))
    test = DataLoader(te, batch_size=512, pin_memory=pin)
    return train, test, time.perf_counter() - t0


def run(dev: torch.device, args) -> dict:
    """Train and evaluate on ``dev``; returns the measured figures."""
    seed_everything(args.seed)
    train, test, gen_s = _loaders(args, dev)
    model = MODELS[args.model](args.width)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                total_steps=args.epochs * len(train))
    if dev.type == "cuda":
        torch.cuda.synchronize()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    hist = fit(model, train, None, args.epochs, opt, sched, device=dev,
               scheduler_interval="step", progress=not args.quiet)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    res = evaluate(model, test)
    return {"device": str(dev), "acc": res["accuracy"], "train_s": wall, "cpu_s": cpu,
            "img_s": args.epochs * args.n_train / wall, "gen_s": gen_s,
            "params": count_parameters(model), "train_acc": hist.train_acc[-1]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=["cpu", "cuda", "both"], default="both")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (the target: 2)")
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-test", type=int, default=2_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--model", choices=sorted(MODELS), default="vgg_style")
    p.add_argument("--width", type=int, default=16, help="channels of the first stage")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--difficulty", default=0.5, type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-per-image", dest="per_image", action="store_false",
                   help="skip standardizing each image per channel (done by default: it "
                        "removes the random colours and contrast, which carry no class)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("cpu", "both"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "both") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    elif args.device == "cuda":
        raise SystemExit("--device cuda: no CUDA GPU is available here")
    print(f"shapes difficulty={args.difficulty}, 10 classes, {args.n_train} train / "
          f"{args.n_test} test images, {args.model}(width={args.width}), {args.epochs} epochs, "
          f"batch {args.batch_size}, AdamW + one-cycle lr {args.lr}")
    print("before:", _uptime())
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores:
        print(f"note: the machine is busy (load {load:.1f} on {cores} cores): wall times are "
              "inflated; the process CPU seconds are the better guide (and with more threads "
              "than free cores, OpenMP spin-waiting inflates both: try --threads 1)")
    for dev in devices:
        r = run(dev, args)
        name = (f"cpu ({args.threads} threads)" if dev.type == "cpu"
                else f"cuda ({torch.cuda.get_device_name(0)})")
        ok = "MEETS" if r["acc"] >= 0.95 and r["train_s"] <= 60 else "MISSES"
        print(f"{name}: test accuracy {100 * r['acc']:.2f}% (last-epoch train accuracy "
              f"{100 * r['train_acc']:.1f}%) | training {r['train_s']:.1f} s wall, "
              f"{r['cpu_s']:.1f} s CPU | {r['img_s']:.0f} images/s | data generation "
              f"{r['gen_s']:.1f} s | {r['params']} parameters | target (>=95% in <=60 s) {ok}")
        print("after:", _uptime())


if __name__ == "__main__":
    main()
