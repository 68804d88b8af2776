"""Builders shared by the grading-fairness tests: a course copy with CI-sized limits and
submissions made from the release and the instructor's answers (no hidden test inside)."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
A1 = "a1_conv_arithmetic"
# CI-sized limits: a scratch budget of 3 s, 20 s per answer cell or graded call; memory as in
# the real assignment (3072 MiB), so importing torch must fit as it does for students.
LIMITS = {"cell_timeout": 20, "scratch_budget": 3, "fast_total_timeout": 60, "total_timeout": 60,
          "memory_mb": 3072}


def make_course(dest: Path, name: str = A1, limits: dict | None = None) -> Path:
    """A copy of the assignment (solutions + release + nbgrader config) with ``limits``."""
    for sub in ("solutions", "assignments"):
        shutil.copytree(ROOT / sub / name, dest / sub / name)
        path = dest / sub / name / f"{name}.ipynb"
        nb = json.loads(path.read_text())
        nb["metadata"].setdefault("coursekit", {}).update(LIMITS if limits is None else limits)
        path.write_text(json.dumps(nb, indent=1))
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    return dest


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def answers(course: Path, name: str = A1) -> dict:
    nb = json.loads((course / "solutions" / name / f"{name}.ipynb").read_text())
    out = {}
    for c in nb["cells"]:
        if _nbg(c).get("solution"):
            out[_nbg(c)["grade_id"]] = "\n".join(
                line for line in _src(c).split("\n")
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return out


def honest(course: Path, name: str = A1, changes: dict | None = None) -> dict:
    """The release with the instructor's answers (``changes``: grade_id -> new source)."""
    nb = json.loads((course / "assignments" / name / f"{name}.ipynb").read_text())
    ans = dict(answers(course, name), **(changes or {}))
    for c in nb["cells"]:
        gid = _nbg(c).get("grade_id")
        if _nbg(c).get("solution") and gid in ans:
            c["source"] = ans[gid]
    return nb


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def markdown_cell(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def insert(nb: dict, cells: list, where: str = "start") -> dict:
    """``cells`` after the first code cell (``start``) or at the end."""
    nb = copy.deepcopy(nb)
    if where == "start":
        i = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code") + 1
    else:
        i = len(nb["cells"])
    nb["cells"][i:i] = cells
    return nb


def write(submitted: Path, student: str, nb, name: str = A1) -> Path:
    folder = Path(submitted) / student / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    path.write_bytes(nb if isinstance(nb, bytes) else json.dumps(nb, indent=1).encode())
    return path
