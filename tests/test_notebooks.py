"""Every lecture notebook: committed clean, structured as a lesson, and runs top to bottom."""
import json

import nbformat
import pytest

from coursekit.lessons import lesson_paths

from conftest import ROOT
from lesson_runs import fast_run, lesson_params

LESSONS = lesson_paths(ROOT)


def test_there_are_lessons():
    assert len(LESSONS) >= 2, "notebooks/ should hold the numbered lecture notebooks"


def test_lesson_numbers_unique_and_ordered():
    numbers = [p.name[:2] for p in LESSONS]
    assert len(numbers) == len(set(numbers)), f"duplicate lesson numbers: {numbers}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them before committing"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_kernelspec_is_python3(path):
    spec = json.loads(path.read_text()).get("metadata", {}).get("kernelspec", {})
    assert spec.get("name") == "python3", \
        f"{path.name}: set metadata.kernelspec.name = 'python3' (else JupyterLab asks for a kernel)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_states_goals_and_review_questions(path):
    nb = nbformat.read(path, as_version=4)
    md = [c.source.lower() for c in nb.cells if c.cell_type == "markdown"]
    assert md and "goal" in md[0] + (md[1] if len(md) > 1 else ""), \
        f"{path.name}: the lesson should state its goals at the start"
    assert any("review question" in m for m in md[-3:]), \
        f"{path.name}: the lesson should end with review questions"


@pytest.mark.notebook
@pytest.mark.parametrize("path", lesson_params())
def test_notebook_executes(path, tmp_path_factory):
    run = fast_run(path, tmp_path_factory.getbasetemp() / "lessons")   # shared with test_figures.py
    assert run.ok, f"{path.name}: {run.status} (executed copy: {run.output})"
