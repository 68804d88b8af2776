"""DESIGN.md's layers: the NumPy half of the course never imports torch at import time."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["coursekit", "coursekit.config", "coursekit.arithmetic",
                                    "coursekit.nn", "coursekit.data"])
def test_layer_0_and_1_import_without_torch(module):
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'torchvision', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing {module} pulled in {out.stdout.strip()}"
