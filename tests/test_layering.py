"""DESIGN.md's layers: the NumPy half of the course never imports torch at import time.

Each module is imported in a fresh interpreter where torch and torchvision cannot be imported
(``tests/no_torch/sitecustomize.py`` installs a meta-path finder that raises ImportError), and
the test asserts that torch never got into ``sys.modules``.
"""
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import coursekit.data
import coursekit.nn

NO_TORCH = Path(__file__).parent / "no_torch"

# torch-side submodules of layer 1, loaded lazily by coursekit.data's __getattr__
DATA_TORCH_SIDE = {f"coursekit.data.{m}" for m in coursekit.data._LAZY.values()}


def _submodules(package) -> list[str]:
    return sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__))


LAYER_0_1 = ["coursekit", "coursekit.config", "coursekit.arithmetic", "coursekit.lazy",
             "coursekit.claims", "coursekit.nn", *_submodules(coursekit.nn), "coursekit.data",
             *(m for m in _submodules(coursekit.data) if m not in DATA_TORCH_SIDE)]
NUMPY_WIDGETS = ["coursekit.widgets", "coursekit.widgets.kernel_playground",
                 "coursekit.widgets.conv_explorer", "coursekit.widgets.layer_stack"]
NUMPY_VIZ = ["coursekit.viz", "coursekit.viz.kernels", "coursekit.viz.conv_grid",
             "coursekit.viz.numpy_training"]


def _import_without_torch(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(NO_TORCH), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_the_blocker_blocks_torch():
    out = _import_without_torch("import torch")
    assert out.returncode != 0 and "blocked by tests/no_torch" in out.stderr


# (module, what it must not load): layers 0-1 load no plotting either
CASES = [(m, ("torch", "torchvision", "matplotlib")) for m in LAYER_0_1] + \
        [(m, ("torch", "torchvision")) for m in NUMPY_WIDGETS + NUMPY_VIZ]


@pytest.mark.parametrize("module, forbidden", CASES, ids=[m for m, _ in CASES])
def test_numpy_half_imports_without_torch(module, forbidden):
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(sorted(m for m in {forbidden!r} if m in sys.modules))")
    out = _import_without_torch(code)
    assert out.returncode == 0, f"importing {module} without torch failed:\n{out.stderr}"
    assert out.stdout.strip() == "[]", f"importing {module} pulled in {out.stdout.strip()}"


def test_lazy_packages_keep_their_names():
    """``from coursekit.viz import X`` works for every exported name, and a function that
    shares its submodule's name (``viz.saliency``) stays the function once the submodule
    has been imported."""
    code = """
import importlib
for pkg in ("coursekit.viz", "coursekit.widgets"):
    p = importlib.import_module(pkg)
    for name, sub in p.EXPORTS.items():
        importlib.import_module(f"{pkg}.{sub}")
        obj = getattr(p, name)
        assert callable(obj) and not isinstance(obj, type(p)), (pkg, name, obj)
        assert obj is getattr(importlib.import_module(f"{pkg}.{sub}"), name), (pkg, name)
    assert sorted(p.EXPORTS) == p.__all__
from coursekit.viz import saliency, show_convolution
from coursekit.widgets import kernel_playground
assert callable(saliency) and callable(kernel_playground)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# The NumPy lessons run where torch is not installed (lesson 04 still imports torch for its
# timing comparison, so only 03 is held to it for now).
TORCH_FREE_LESSONS = ["03"]


@pytest.mark.notebook
@pytest.mark.parametrize("number", TORCH_FREE_LESSONS)
def test_numpy_lessons_execute_without_torch(number, tmp_path, monkeypatch):
    from coursekit.lessons import execute, lesson_paths
    path = next(p for p in lesson_paths() if p.name.startswith(number))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(NO_TORCH), *filter(None, [os.environ.get("PYTHONPATH")])]))
    run = execute(path, tmp_path, fast=True, cell_timeout=600)
    assert run.ok, f"{path.name} without torch: {run.status} (executed copy: {run.output})"
