"""The mutation check's list stays in step with the code (the check itself, `make mutants`,
takes minutes and runs before a release): every mutant's text occurs exactly once in its
file, changes it, and names test files that exist."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("ck_mutants", ROOT / "tools" / "mutants.py")
mutants = sys.modules["ck_mutants"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)


def test_mutants_have_unique_ids_and_cover_every_layer():
    ids = [m.id for m in mutants.MUTANTS]
    assert len(ids) == len(set(ids))
    assert {i.split("-")[0] for i in ids} >= {"arithmetic", "nn", "data", "train", "viz", "grading"}


@pytest.mark.parametrize("m", mutants.MUTANTS, ids=lambda m: m.id)
def test_mutant_still_applies(m):
    text = (ROOT / m.path).read_text()
    assert text.count(m.old) == 1, (f"mutant {m.id} is stale: its text occurs {text.count(m.old)} times in "
                                    f"{m.path}; update it in tools/mutants.py with the code")
    assert m.new != m.old
    files = [a for a in m.tests if a.endswith(".py")]
    assert files and all((ROOT / f).is_file() for f in files), m.tests
