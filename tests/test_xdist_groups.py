"""``pytest -n 2 --dist loadgroup`` (``make test``) keeps each ``xdist_group`` on one worker.

The suite builds its expensive fixtures (the attack batches, the browser lab, each lesson's
fast run) once per group; with pytest 9.2 and xdist 3.8 every group was silently split over
both workers and built twice, until ``tests/conftest.py`` wrote the group into the node id.
A small suite with this conftest's hook runs here in a subprocess, on two workers.
"""
import os
import subprocess
import sys
from collections import defaultdict

from conftest import ROOT

CONFTEST = '''\
import importlib.util
spec = importlib.util.spec_from_file_location("ck_conftest", {path!r})
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
pytest_collection_modifyitems = mod.pytest_collection_modifyitems
'''
SUITE = '''\
import os
import pytest

pytestmark = pytest.mark.xdist_group("{group}")


@pytest.mark.parametrize("i", range(6))
def test_one(i):
    with open({log!r}, "a") as f:
        f.write("{group} %d\\n" % os.getpid())
'''


def test_a_group_runs_on_one_worker(tmp_path):
    log = tmp_path / "log"
    (tmp_path / "conftest.py").write_text(CONFTEST.format(path=str(ROOT / "tests" / "conftest.py")))
    for group in ("alpha", "beta"):
        (tmp_path / f"test_{group}.py").write_text(SUITE.format(group=group, log=str(log)))
    (tmp_path / "test_loose.py").write_text("import pytest\n\n@pytest.mark.parametrize('i', range(8))\n"
                                            "def test_loose(i):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
                           "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    workers = defaultdict(set)
    for group, pid in (line.split() for line in log.read_text().splitlines()):
        workers[group].add(pid)
    assert {g: len(p) for g, p in workers.items()} == {"alpha": 1, "beta": 1}, dict(workers)

