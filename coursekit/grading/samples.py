"""Sample submissions built from the release: the honest solution, the blank release, and
variants with some answer cells replaced (how the buggy samples under tests/ are made).

An honest student's notebook is the release with answer cells filled in, so a sample built
here carries no instructor-only content (no hidden tests) and is never reported as tampered.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from .notebook import read_cells


def release_notebook(root: Path, name: str):
    return nbformat.read(str(Path(root) / "assignments" / name / f"{name}.ipynb"), as_version=4)


def with_answers(root: Path, name: str, answers: dict[str, str]):
    """The release notebook with the answer cells ``{grade_id: source}`` filled in."""
    nb = release_notebook(root, name)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def solution_answers(root: Path, name: str) -> dict[str, str]:
    """``{grade_id: source}`` of the instructor's answer cells."""
    cells = read_cells(Path(root) / "solutions" / name / f"{name}.ipynb")
    return {c.grade_id: c.source for c in cells if c.is_answer}


def solution_notebook(root: Path, name: str):
    """The release with every answer cell taken from the instructor solution."""
    return with_answers(root, name, solution_answers(root, name))


def write_submission(nb, submitted_dir: Path, student: str, name: str) -> Path:
    """Place ``nb`` (notebook or raw bytes) as ``<submitted>/<student>/<name>/<name>.ipynb``."""
    folder = Path(submitted_dir) / student / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    if isinstance(nb, (bytes, bytearray)):
        path.write_bytes(nb)
    elif isinstance(nb, dict) and not isinstance(nb, nbformat.NotebookNode):
        path.write_text(json.dumps(nb, indent=1))
    else:
        nbformat.write(nb, str(path))
    return path
