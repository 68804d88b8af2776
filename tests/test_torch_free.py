"""The NumPy half of the course in an environment where torch is not installed.

DESIGN.md's layer rule: layers 0-1 (``config``, ``arithmetic``, ``claims``, ``nn/``, the NumPy
side of ``data/``), the NumPy plots and widgets, and the NumPy lessons 03-04 need no torch, so
``pip install coursekit`` without the ``torch`` extra runs them.

The environment is real, not an import hook: a fresh venv whose only site directory is a
folder of links to this environment's installed packages minus torch, torchvision, triton,
the CUDA wheels and the packages that require torch (captum). There, torch is simply not
installed: ``import torch`` fails as it would for a student, ``importlib.metadata`` does not
list it, and every kernel started from that venv's Python inherits the same packages. Built
from links, it needs no download and takes about a second.
"""
import json
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("torch_free")]

# distributions a torch-free install does not have: torch itself, what comes only with it,
# and what cannot work without it
WITHOUT = ("torch", "torchvision", "triton", "captum", "coursekit")


def _left_out(dist: metadata.Distribution) -> bool:
    """Whether ``dist`` is torch & co. or needs torch (not merely in one of its extras)."""
    from packaging.requirements import Requirement

    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name in WITHOUT or name.startswith("nvidia-"):
        return True
    needs = [Requirement(r) for r in dist.requires or []]
    return any(r.name.lower() in ("torch", "torchvision")
               and (r.marker is None or r.marker.evaluate({"extra": ""})) for r in needs)


def _entries_of(dist: metadata.Distribution, site: Path) -> set[str]:
    """Top-level names in ``site`` that belong to ``dist`` (packages, modules, its dist-info)."""
    names = {Path(str(f)).parts[0] for f in dist.files or []}  # its RECORD names the dist-info too
    return {n for n in names if n not in ("..", "") and (site / n).exists()}


@pytest.fixture(scope="module")
def torch_free(tmp_path_factory) -> tuple[Path, dict]:
    """(python, env) of a venv with everything this environment has except torch & co."""
    site = Path(sysconfig.get_paths()["purelib"])
    drop = set()
    for dist in metadata.distributions(path=[str(site)]):
        if _left_out(dist):
            drop |= _entries_of(dist, site)
    drop |= {p.name for p in site.iterdir() if p.name.startswith("__editable__")
             or p.suffix == ".pth"}  # the editable coursekit and other path hooks
    tmp = tmp_path_factory.mktemp("torch_free")
    farm = tmp / "site-packages"
    farm.mkdir()
    for entry in site.iterdir():
        if entry.name not in drop:
            (farm / entry.name).symlink_to(entry)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "PYTHONSTARTUP")}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")],
                   check=True, env=env)
    python = tmp / "venv" / "bin" / "python"
    purelib = subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True, env=env).strip()
    # the checkout's coursekit (as an editable install would give) and the packages
    Path(purelib, "_torch_free.pth").write_text(f"{ROOT}\n{farm}\n")
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", JUPYTER_PATH=str(tmp / "venv" / "share" / "jupyter"))
    return python, env


def _run(python, env, code: str, timeout: float = 120) -> str:
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env,
                         timeout=timeout, cwd=ROOT)
    assert out.returncode == 0, f"failed without torch:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def test_torch_is_not_installed_there(torch_free):
    python, env = torch_free
    out = _run(python, env, """
import importlib.metadata as m, importlib.util as u, coursekit
try:
    m.version("torch"); print("torch installed")
except m.PackageNotFoundError:
    print("no torch", u.find_spec("torch"), u.find_spec("torchvision"), coursekit.__file__)
""")
    assert out.split()[:3] == ["no", "torch", "None"] and out.split()[3] == "None", out
    assert out.split()[4].startswith(str(ROOT)), "coursekit must come from the checkout"


def _layer_0_1_modules(python, env) -> list[str]:
    """coursekit's layer 0-1 modules, listed where torch is missing (coursekit.data's lazy
    table names its torch-side submodules)."""
    return json.loads(_run(python, env, """
import json, pkgutil, coursekit.data, coursekit.nn
subs = lambda p: sorted(f"{p.__name__}.{m.name}" for m in pkgutil.iter_modules(p.__path__))
torch_side = {f"coursekit.data.{m}" for m in coursekit.data._LAZY.values()}
print(json.dumps(["coursekit", "coursekit.config", "coursekit.arithmetic", "coursekit.lazy",
                  "coursekit.claims", "coursekit.nn", *subs(coursekit.nn), "coursekit.data",
                  *(m for m in subs(coursekit.data) if m not in torch_side)]))
"""))


NUMPY_SHOW = ["coursekit.viz", "coursekit.viz.kernels", "coursekit.viz.conv_grid",
              "coursekit.viz.numpy_training", "coursekit.viz.schedules", "coursekit.viz.curves",
              "coursekit.widgets", "coursekit.widgets.kernel_playground",
              "coursekit.widgets.conv_explorer", "coursekit.widgets.layer_stack"]


def test_numpy_half_imports_without_torch(torch_free):
    """Layers 0-1 import without torch and load no plotting; then the NumPy plots and
    widgets import and build their objects. (One interpreter is enough: where torch is not
    installed, any module that imports it fails whatever was imported before.)"""
    python, env = torch_free
    modules = _layer_0_1_modules(python, env)
    assert "coursekit.nn.trainer" in modules and "coursekit.data.shapes" in modules
    out = _run(python, env, f"""
import importlib, sys
for module in {modules!r}:
    importlib.import_module(module)
print(sorted(m for m in ("matplotlib", "ipywidgets") if m in sys.modules))
for module in {NUMPY_SHOW!r}:
    importlib.import_module(module)
from coursekit.widgets import conv_explorer, kernel_playground, layer_stack
from coursekit.viz import conv_grid
conv_explorer(); kernel_playground(); layer_stack()
conv_grid(7, 3, stride=2, padding=1)
print("ok")
""")
    lines = out.strip().splitlines()
    assert lines[0] == "[]", f"layers 0-1 loaded plotting without being asked: {lines[0]}"
    assert lines[-1] == "ok", out


# lessons 01-02 keep torch for their "torch agrees" checks; 03-04 are the NumPy half.
# {lesson: what its executed copy says where torch is missing (None: nothing to say)}
TORCH_FREE_LESSONS = {"03": None, "04": "torch is not installed here"}


@pytest.mark.notebook
@pytest.mark.parametrize("number", sorted(TORCH_FREE_LESSONS))
def test_numpy_lessons_execute_without_torch(torch_free, number, tmp_path):
    """The lesson runs top to bottom in fast mode in a kernel of the torch-free venv."""
    python, env = torch_free
    out = _run(python, env, f"""
from coursekit.lessons import execute, lesson_paths
path = next(p for p in lesson_paths() if p.name.startswith({number!r}))
run = execute(path, {str(tmp_path)!r}, fast=True, cell_timeout=300)
print(run.ok, run.status, run.output)
""", timeout=400)
    assert out.startswith("True"), f"lesson {number} without torch: {out}"
    executed = next(tmp_path.rglob("*.ipynb")).read_text()
    if TORCH_FREE_LESSONS[number]:
        assert TORCH_FREE_LESSONS[number] in executed, "the kernel was not the torch-free one"
