"""Benchmark: how fast coursekit generates the "shapes" data set.

Prints images/s for generating 50,000 32x32 RGB shapes (with masks). Target: <= 10 s on a
2-core laptop. Usage: ``python benchmarks/shapes_generation.py [--n 50000] [--workers W]``.
"""
import argparse
import os
import time

from coursekit.data.shapes import make_shapes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--difficulty", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=None, help="threads (default: CPU cores)")
    args = ap.parse_args()
    make_shapes(1024, size=args.size)  # warm-up (imports, allocator)
    t0, c0 = time.perf_counter(), time.process_time()
    x, y, m = make_shapes(args.n, size=args.size, difficulty=args.difficulty,
                          workers=args.workers)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"shapes: {args.n} images {tuple(x.shape[1:])} + masks in {dt:.2f} s "
          f"= {args.n / dt:,.0f} images/s, {cpu:.2f} s CPU  (workers={args.workers or min(8, os.cpu_count() or 1)}, "
          f"cpu cores={os.cpu_count()}, target <= 10 s: {'OK' if dt <= 10 else 'MISSED'}; load average "
          f"{os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
