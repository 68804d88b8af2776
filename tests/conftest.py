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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep ``pytest -n 2 --dist loadgroup`` grouping by ``xdist_group`` marks.

    xdist (3.8) groups a test by the suffix ``@group`` it writes into ``item._nodeid``; pytest
    9.2 keeps node ids in ``item._id`` and ignored it, so every group was split over both
    workers (the attack batches, the browser lab and each lesson's fast run were built twice).
    This writes the suffix where this pytest reads it, if xdist's did not land."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers under loadgroup
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if not names or item.nodeid.rfind("@") > item.nodeid.rfind("]"):
            continue  # no group, or xdist's suffix is there (pytest < 9.2)
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


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
