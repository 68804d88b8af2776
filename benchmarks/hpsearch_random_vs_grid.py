"""Grid vs random vs successive halving at the same budget, on many synthetic tasks.

Prints, for 2 hyper-parameters (budget 9) and 3 with one irrelevant (budget 8), how often
random search picks a better configuration than grid search, and each method's median/mean
regret and learning-rate error. Usage: python benchmarks/hpsearch_random_vs_grid.py [n_tasks]
"""
import sys
import time

import numpy as np

from coursekit import hpsearch as hp


def main(n_tasks: int = 1000) -> None:
    space = {"lr": hp.LogUniform(1e-5, 1.0), "weight_decay": hp.LogUniform(1e-6, 1e-1)}
    setups = {"2 hyper-parameters, budget 9": (space, 9),
              "3 hyper-parameters (1 irrelevant), budget 8": (space | {"dropout": hp.Uniform(0, 0.5)}, 8)}
    for name, (sp, budget) in setups.items():
        t = time.perf_counter()
        c = hp.compare_search_methods(sp, budget=budget, max_resource=9, n_tasks=n_tasks, seed=0)
        print(f"{name}, {n_tasks} tasks ({time.perf_counter() - t:.1f} s): random better than grid on "
              f"{c['random_beats_grid']:.1%}, grid better on {c['grid_beats_random']:.1%}")
        for m in ("grid", "random", "halving"):
            print(f"  {m:8s} regret median {np.median(c[m]['regret']):.4f} mean {np.mean(c[m]['regret']):.4f}"
                  f"  lr error median {np.median(c[m]['lr_error']):.2f} decades  cost {c[m]['cost'].max()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
