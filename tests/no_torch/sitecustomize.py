"""Simulates an environment without torch: put this folder first on PYTHONPATH and any
import of torch or torchvision raises ImportError (tests/test_layering.py)."""
import sys


class _NoTorch:
    """Meta-path finder refusing torch and torchvision (and their submodules)."""

    BLOCKED = ("torch", "torchvision")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"No module named {name!r} (torch is blocked by tests/no_torch)",
                              name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
