"""Shared pytest set-up: fast mode, a headless matplotlib, and the repo paths."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("COURSEKIT_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Two xdist workers on two cores: one OpenMP thread each (set before torch is imported).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    """The course checkout."""
    return ROOT


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """``../shared/data/mnist`` (the real MNIST t10k idx files); fails clearly if missing."""
    d = SHARED / "data" / "mnist"
    if not (d / "t10k-images-idx3-ubyte.gz").exists():
        pytest.fail(f"the real MNIST test files are expected in {d} (see shared/README.md)")
    return d
