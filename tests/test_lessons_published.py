"""Where the course is published (Colab, Binder, pip): one setting, and everything generated from it."""
import subprocess

import nbformat
import pytest

from coursekit.config import COURSE_REF, COURSE_REPO
from coursekit.lessons import SETUP_TAG, colab_table, lesson_paths, setup_cell_source

from conftest import ROOT

LESSONS = lesson_paths(ROOT)
FIX = "run `.venv/bin/python -m coursekit.lessons` to regenerate"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_generated_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert SETUP_TAG in first.metadata.get("tags", []) and first.source == setup_cell_source(), \
        f"{path.name}: the first code cell should be the set-up cell; {FIX}"


def test_readme_links_follow_the_one_setting():
    readme = (ROOT / "README.md").read_text()
    assert colab_table(LESSONS) in readme, f"README's Colab table is out of date; {FIX}"
    assert f"git+https://{COURSE_REPO}@{COURSE_REF}" in readme
    owner_repo = COURSE_REPO.split("github.com/", 1)[1]
    assert f"mybinder.org/v2/gh/{owner_repo}/{COURSE_REF}" in readme


def test_setup_cell_does_nothing_where_coursekit_is_installed(monkeypatch):
    def no_install(*args, **kwargs):
        raise AssertionError(f"the set-up cell ran {args} although coursekit is importable")

    monkeypatch.setattr(subprocess, "run", no_install)
    exec(setup_cell_source(), {})


def test_setup_cell_installs_the_pinned_version_when_missing(monkeypatch, capsys):
    import importlib.util

    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(subprocess, "run", lambda cmd: calls.append(cmd) or subprocess.CompletedProcess(cmd, 1))
    exec(setup_cell_source(), {})
    # the whole course: torch is an optional extra of coursekit since the NumPy half runs without it
    assert calls and calls[0][-1] == f"coursekit[torch] @ git+https://{COURSE_REPO}@{COURSE_REF}"
    assert "could not install coursekit" in capsys.readouterr().out   # offline: says so, no error


def test_static_pages_show_a_note_instead_of_a_widgets_repr():
    import nbformat

    from coursekit.lessons import WIDGET_MIME, WIDGET_NOTE, static_widgets

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "ConvExplorer(children=(HBox(children=(VBox(...",
    }), nbformat.v4.new_output("display_data", data={"text/plain": "a plain result"})]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    page = static_widgets(nb)
    assert page.cells[0].outputs[0]["data"] == {"text/plain": WIDGET_NOTE}
    assert "widgets" not in page.metadata and "widgets" in nb.metadata
    assert page.cells[0].outputs[1]["data"]["text/plain"] == "a plain result"
    assert nb.cells[0].outputs[0]["data"]["text/plain"].startswith("ConvExplorer(")  # the notebook itself unchanged
