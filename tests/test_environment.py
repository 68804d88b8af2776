"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""
import ast
import functools
import json
import re
import sys
import tomllib
from importlib import metadata

import pytest

from conftest import ROOT


def _normalize(spec: str) -> tuple[str, str]:
    spec = spec.replace(" ", "")
    name = re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)
    rest = spec[len(name):]
    if re.fullmatch(r"=[^=<>!].*", rest):  # conda's single '=' pin
        rest = "=" + rest
    return name.lower().replace("_", "-"), rest


def _requirements(data: dict, *extras: str) -> list:
    """pyproject's dependencies plus those of ``extras``, a self-reference such as
    ``coursekit[torch]`` (in ``dev``) expanded into that extra's list."""
    specs, todo = list(data["dependencies"]), list(extras)
    while todo:
        for spec in data["optional-dependencies"][todo.pop()]:
            own = re.fullmatch(r"coursekit\[([\w,-]+)\]", spec.replace(" ", ""))
            if own:
                todo += own.group(1).split(",")
            else:
                specs.append(spec)
    return specs


def _pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(map(_normalize, _requirements(data, "dev"))), data["requires-python"]


def _environment():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs, python = [], None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            specs += [d for d in dep["pip"] if not d.startswith("-e")]
        elif dep.startswith("python"):
            python = dep
        elif dep != "pip":
            specs.append(dep)
    return dict(map(_normalize, specs)), python


def test_same_packages_and_versions():
    pip_deps, _ = _pyproject()
    conda_deps, _ = _environment()
    missing = sorted(set(pip_deps) - set(conda_deps))
    extra = sorted(set(conda_deps) - set(pip_deps))
    assert not missing and not extra, f"environment.yml lacks {missing}, has extra {extra}"
    differ = {n: (pip_deps[n], conda_deps[n]) for n in pip_deps if pip_deps[n] != conda_deps[n]}
    assert not differ, f"version specs differ (pyproject, environment.yml): {differ}"


def test_torch_pins():
    pip_deps, _ = _pyproject()
    assert pip_deps["torch"] == "==2.14.1" and pip_deps["torchvision"] == "==0.29.1"
    # torch is the `torch` extra (the NumPy half installs without it), and `dev` brings it
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not {"torch", "torchvision"} & {_normalize(d)[0] for d in data["dependencies"]}
    assert dict(map(_normalize, data["optional-dependencies"]["torch"])) == \
        {"torch": "==2.14.1", "torchvision": "==0.29.1"}
    assert "coursekit[torch]" in data["optional-dependencies"]["dev"]


def test_environment_python_and_editable_install():
    _, python = _environment()
    assert python == "python=3.11"
    assert "- -e ." in (ROOT / "environment.yml").read_text()


@pytest.mark.parametrize("name", ["notebooks", "coursekit", "assignments", "solutions", "tests",
                                  "benchmarks", "environment.yml", "pyproject.toml", "Makefile",
                                  "README.md", ".ci/run"])
def test_layout(name):
    assert (ROOT / name).exists(), f"the course layout needs {name} at the top level"


# ------------------------------------------------------------------ Binder (repo2docker)
# repo2docker (what mybinder.org runs) builds a repository from its configuration files; with
# environment.yml at the top level and no binder/ folder it picks its conda build pack, installs
# the file into the environment the Jupyter server itself runs in (so the widgets' front end
# comes with ipywidgets), reads the Python version from the `python=X.Y` line, and stages the
# whole checkout before the install when the pip section holds a local requirement (`-e .`).
# Any of these files would replace environment.yml or add build steps:
REPO2DOCKER_FILES = ["binder", ".binder", "Dockerfile", "Project.toml", "REQUIRE", "default.nix",
                     "DESCRIPTION", "install.R", "runtime.txt", "requirements.txt", "Pipfile",
                     "Pipfile.lock", "apt.txt", "postBuild", "start"]
# Pythons repo2docker ships a frozen base environment for (buildpacks/conda/environment.py-X.Y.yml)
REPO2DOCKER_PYTHONS = {"3.10", "3.11", "3.12", "3.13"}


def test_binder_builds_from_environment_yml_alone():
    present = [f for f in REPO2DOCKER_FILES if (ROOT / f).exists()]
    assert not present, (f"{present} would change how Binder (repo2docker) builds the course; "
                         "environment.yml alone must describe it")


def test_binder_python_and_checkout_install():
    import yaml
    from packaging.specifiers import SpecifierSet

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    m = re.fullmatch(r"python=(\d+\.\d+)", python[0]) if len(python) == 1 else None
    assert m, f"one `python=X.Y` line (what repo2docker reads), got {python}"
    assert m.group(1) in REPO2DOCKER_PYTHONS, f"repo2docker has no base environment for {m.group(1)}"
    assert m.group(1) + ".0" in SpecifierSet(_pyproject()[1]), "outside pyproject's requires-python"
    assert env["channels"] == ["conda-forge"]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip) == 1 and pip[0]["pip"][-1] == "-e .", \
        "the pip section ends with `-e .`: the checkout installed (repo2docker copies it first)"
    assert "pip" in env["dependencies"], "conda's pip must be listed for the pip section"


def _imports(source: str) -> set:
    """Top-level names of the absolute imports in Python ``source``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _notebook_code(path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").splitlines()
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith(("%", "!")))


def _closure(requirements) -> set:
    """Installed distributions needed by ``requirements`` (names), with their dependencies."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen, todo = set(), [canonicalize_name(Requirement(r).name) for r in requirements]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for r in map(Requirement, reqs):
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(r.name))
    return seen


@functools.lru_cache(maxsize=1)
def _owners() -> dict:
    return metadata.packages_distributions()  # module -> distributions (slow: read once)


def _missing(modules: set, requirements, local=()) -> dict:
    """Imported modules whose distribution ``requirements`` do not bring: {module: dists}."""
    from packaging.utils import canonicalize_name

    provided = _closure(requirements)
    owners = _owners()
    third_party = modules - set(sys.stdlib_module_names) - {"coursekit", *local}
    return {m: owners.get(m) for m in sorted(third_party)
            if not any(canonicalize_name(d) in provided for d in owners.get(m, []))}


def test_nothing_else_needed_for_the_course():
    """Every module coursekit and the lessons import comes with pyproject's dependencies
    (and so with environment.yml, which mirrors them): no other install step is needed."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    modules = set()
    for f in (ROOT / "coursekit").rglob("*.py"):
        modules |= _imports(f.read_text())
    for f in (ROOT / "notebooks").glob("*.ipynb"):
        modules |= _imports(_notebook_code(f))
    missing = _missing(modules, _requirements(data, "torch"))
    assert not missing, f"imported but not brought by pyproject's dependencies: {missing}"


def test_nothing_else_needed_for_the_tests():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    tests = ROOT / "tests"
    modules, local = set(), {p.stem for p in tests.rglob("*.py")} | {p.name for p in tests.iterdir()}
    for f in tests.rglob("*.py"):
        try:
            modules |= _imports(f.read_text())
        except SyntaxError:  # the attack corpus may hold deliberately odd files
            continue
    missing = _missing(modules, _requirements(data, "dev"), local)
    assert not missing, f"the tests import what pyproject's dev extra does not bring: {missing}"
