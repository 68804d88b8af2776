"""DESIGN.md's layers: each module imports (at module level or lazily in a function) only from
its own layer and those below, and the lazy package ``__init__``s keep every exported name.

That the NumPy half imports and runs without torch is tested where torch really is not
installed: ``tests/test_torch_free.py`` (a venv without torch, lessons 03-04 executed there).
"""
import subprocess
import sys


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


# README's layer table: a module imports only from its layer and below (also lazily)
LAYERS = {0: ["config", "lazy", "arithmetic", "claims", "nn"], 1: ["data"],
          2: ["torchutil", "train", "models", "architectures", "optim", "losses", "metrics",
              "checks", "monitor", "regularization", "lr_finder", "hpsearch", "imbalance",
              "pretrain", "transfer", "signal_propagation", "batch_dependence",
              "dropout_study", "invariance", "timing", "conv_speed"],
          3: ["viz", "widgets", "figure_audit"], 4: ["grading", "cli", "course", "lessons"]}
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names}


def _coursekit_imports(path, package: str) -> set[str]:
    """First components (below ``coursekit``) of what ``path`` imports, anywhere in it."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:                       # relative: resolve against the package
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts + [a.name] if len(parts) == 1 else parts for a in node.names]
            else:
                names = [node.module.split(".") + [a.name] for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        found |= {n[1] for n in names if n[0] == "coursekit" and len(n) > 1}
    return found


def test_every_module_has_a_layer_and_imports_none_above_it():
    from conftest import ROOT

    top = ROOT / "coursekit"
    assert set(LAYER_OF) == {p.stem for p in top.iterdir()
                             if p.suffix == ".py" and p.stem != "__init__"
                             or (p / "__init__.py").exists()}, "README's layer table is out of date"
    upward = []
    for path in top.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("").parts
        own = LAYER_OF.get(rel[1]) if len(rel) > 1 and rel[1] != "__init__" else 0
        for name in _coursekit_imports(path, ".".join(rel[:-1])):
            if LAYER_OF.get(name, 0) > own:
                upward.append(f"{'/'.join(rel)} (layer {own}) imports coursekit.{name} "
                              f"(layer {LAYER_OF[name]})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)
