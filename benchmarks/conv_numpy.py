"""Convolution speed: naive loops vs vectorized NumPy (im2col) vs torch CPU ``F.conv2d``.

Prints forward and backward times and the ratios the course promises
(fast >= 300x naive; fast within 1.5x of torch, forward+backward), plus the peak memory
of one fast forward and one fast backward call (tracemalloc).

    .venv/bin/python benchmarks/conv_numpy.py [--threads 1] [--dtype float32] [--repeat 5]

The naive version is timed on the first ``--naive-batch`` images and scaled linearly to
the full batch (its cost is exactly linear in N); this is printed next to the figure.
"""
from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

CASES = [  # (x shape, w shape, stride, padding)
    ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    ((64, 16, 32, 32), (32, 16, 3, 3), 1, 1),
]


CLOCK = time.perf_counter


def best_of(fn, repeat):
    """Fastest of ``repeat`` runs on CLOCK (CPU time with 1 thread: robust to a loaded machine)."""
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return min(times)


def peak_mb(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_case(xs, ws, stride, pad, dtype, repeat, naive_batch, nn, torch, F):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    out, cache = nn.conv2d_forward(x, w, b, stride, pad)
    dout = rng.standard_normal(out.shape).astype(dtype)

    t_fwd = best_of(lambda: nn.conv2d_forward(x, w, b, stride, pad), repeat)
    t_bwd = best_of(lambda: nn.conv2d_backward(dout, cache), repeat)

    nb = min(naive_batch, xs[0])
    xn, dn = x[:nb], dout[:nb]
    _, cn = nn.conv2d_forward(xn, w, b, stride, pad, method="naive")
    scale = xs[0] / nb
    n_fwd = best_of(lambda: nn.conv2d_forward(xn, w, b, stride, pad, method="naive"), 1) * scale
    n_bwd = best_of(lambda: nn.conv2d_backward(dn, cn), 1) * scale

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    dt = torch.tensor(dout)

    def tfwd():
        with torch.no_grad():
            F.conv2d(xt, wt, bt, stride=stride, padding=pad)

    def tfwdbwd():
        o = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
        torch.autograd.grad(o, (xt, wt, bt), dt)

    tfwd()
    tfwdbwd()
    tt_fwd = best_of(tfwd, repeat)
    tt_all = best_of(tfwdbwd, repeat)

    # correctness of what we time
    ref = F.conv2d(xt, wt, bt, stride=stride, padding=pad).detach().numpy()
    err = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))

    mem_f = peak_mb(lambda: nn.conv2d_forward(x, w, b, stride, pad))
    mem_b = peak_mb(lambda: nn.conv2d_backward(dout, cache))
    Ho, Wo = out.shape[2:]
    col_mb = xs[0] * ws[1] * ws[2] * ws[3] * Ho * Wo * np.dtype(dtype).itemsize / 2**20

    print(f"\nx{xs} w{ws} stride {stride} pad {pad}  ({np.dtype(dtype).name}; "
          f"naive timed on {nb} images x{scale:g})")
    print(f"  {'':8s}{'naive':>10s}{'fast':>10s}{'torch':>10s}{'naive/fast':>12s}{'fast/torch':>12s}")
    print(f"  {'forward':8s}{n_fwd:10.3f}{t_fwd:10.4f}{tt_fwd:10.4f}{n_fwd / t_fwd:12.0f}{t_fwd / tt_fwd:12.2f}")
    print(f"  {'backward':8s}{n_bwd:10.3f}{t_bwd:10.4f}{tt_all - tt_fwd:10.4f}{n_bwd / t_bwd:12.0f}"
          f"{t_bwd / max(tt_all - tt_fwd, 1e-9):12.2f}")
    tot = t_fwd + t_bwd
    print(f"  {'fwd+bwd':8s}{n_fwd + n_bwd:10.3f}{tot:10.4f}{tt_all:10.4f}"
          f"{(n_fwd + n_bwd) / tot:12.0f}{tot / tt_all:12.2f}   (seconds; ratios)")
    print(f"  peak memory of one fast call: forward {mem_f:.1f} MiB, backward {mem_b:.1f} MiB "
          f"(one column buffer = {col_mb:.1f} MiB); max rel. diff vs torch {err:.1e}")
    ok_naive = min(n_fwd / t_fwd, n_bwd / t_bwd) >= 300
    ok_torch = tot / tt_all <= 1.5
    print(f"  targets: fast >= 300x naive fwd and bwd: {'met' if ok_naive else 'MISSED'}; "
          f"fast fwd+bwd within 1.5x torch: {'met' if ok_torch else 'MISSED'}")
    return ok_naive and ok_torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (same for both)")
    ap.add_argument("--dtype", default="both", choices=["float32", "float64", "both"],
                    help="float64 is the course's default (tests, modules); float32 is torch's usual")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--clock", default="auto", choices=["auto", "wall", "cpu"],
                    help="auto: CPU time (process_time) with 1 thread, wall time otherwise")
    ap.add_argument("--naive-batch", type=int, default=4)
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits
    import torch
    import torch.nn.functional as F

    from coursekit import nn

    global CLOCK
    clock = args.clock if args.clock != "auto" else ("cpu" if args.threads == 1 else "wall")
    CLOCK = time.process_time if clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    print(f"threads: {args.threads} (numpy BLAS via threadpoolctl, torch.set_num_threads); "
          f"clock: {clock} time, best of {args.repeat}; "
          f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ok = True
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    with threadpool_limits(args.threads):
        for dt in dtypes:
            for xs, ws, s, p in CASES:
                ok &= run_case(xs, ws, s, p, np.dtype(dt), args.repeat, args.naive_batch, nn, torch, F)
    print("\nall targets met" if ok else "\nsome targets missed (see above)")


if __name__ == "__main__":
    main()
