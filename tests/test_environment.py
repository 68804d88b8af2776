"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""
import re
import tomllib

import pytest

from conftest import ROOT


def _normalize(spec: str) -> tuple[str, str]:
    spec = spec.replace(" ", "")
    name = re.match(r"[A-Za-z0-9_.\-]+", spec).group(0)
    rest = spec[len(name):]
    if re.fullmatch(r"=[^=<>!].*", rest):  # conda's single '=' pin
        rest = "=" + rest
    return name.lower().replace("_", "-"), rest


def _pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = data["dependencies"] + data["optional-dependencies"]["dev"]
    return dict(map(_normalize, specs)), data["requires-python"]


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


def test_environment_python_and_editable_install():
    _, python = _environment()
    assert python == "python=3.11"
    assert "- -e ." in (ROOT / "environment.yml").read_text()


@pytest.mark.parametrize("name", ["notebooks", "coursekit", "assignments", "solutions", "tests",
                                  "benchmarks", "environment.yml", "pyproject.toml", "Makefile",
                                  "README.md", ".ci/run"])
def test_layout(name):
    assert (ROOT / name).exists(), f"the course layout needs {name} at the top level"
