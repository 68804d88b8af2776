"""Feedback for students: their notebook with each test's outcome, hidden tests reduced to
"hidden test: passed / failed (n points)" (no source, inputs or reference values).

Also writes the instructor-side autograded notebook (nbgrader's ``autograded/`` folder) in
which test cells are restored from the instructor source and carry the full result text.
"""
from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .notebook import Cell


def _pts(x: float) -> str:
    return f"{x:g}"


def hidden_line(t) -> str:
    """The only thing a student learns about a hidden test."""
    word = "passed" if t.score >= t.points else "failed"
    got = _pts(t.points) if word == "passed" else f"{_pts(t.score)} of {_pts(t.points)}"
    return f"hidden test: {word} ({got} points)"


def visible_lines(t) -> list[str]:
    word = "passed" if t.score >= t.points else "failed"
    lines = [f"visible test {t.grade_id}: {word} ({_pts(t.score)} of {_pts(t.points)} points, "
             f"{t.passed}/{t.total} cases)"]
    lines += [f"  - {m}" for m in t.messages[:8]]
    return lines


def summary_markdown(result) -> str:
    rows = ["| test | result |", "|---|---|"]
    for t in result.tests:
        text = hidden_line(t) if t.hidden else visible_lines(t)[0]
        rows.append(f"| {'hidden' if t.hidden else t.grade_id} | {html.escape(text)} |")
    parts = [f"# Feedback: {result.assignment}",
             f"**Student:** {html.escape(result.student)}  \n**Status:** {html.escape(result.status)}  \n"
             f"**Score:** {_pts(result.score)} / {_pts(result.max_score)}",
             "\n".join(rows)]
    if result.tampered:
        parts.append("**Changed test or set-up cells (restored from the release before grading):**\n"
                     + "\n".join(f"- {html.escape(x)}" for x in result.tampered))
    if result.cell_errors:
        parts.append("**Errors raised by your cells while grading:**\n"
                     + "\n".join(f"- cell {e.get('cell')}: `{html.escape(str(e.get('error'))[:100])}`"
                                 for e in result.cell_errors[:5]))
    if result.notes:
        parts.append("**Notes:**\n" + "\n".join(f"- {html.escape(x)}" for x in result.notes))
    return "\n\n".join(parts)


def feedback_notebook(result, release: list[Cell], student: list[Cell] | None):
    """The student-facing feedback notebook (hidden tests as one line each)."""
    nb = new_notebook()
    nb.cells.append(new_markdown_cell(summary_markdown(result)))
    tests = {t.grade_id: t for t in result.tests}
    rel_tests = {c.grade_id: c for c in release if c.is_test}
    shown = set()
    for cell in (student or []):
        gid = cell.grade_id
        if gid in rel_tests or (cell.cell_type == "code" and cell.nbgrader.get("grade")):
            if gid in tests and gid not in shown:
                shown.add(gid)
                nb.cells.extend(_test_cells(tests[gid], rel_tests[gid]))
            continue
        if cell.cell_type == "markdown":
            nb.cells.append(new_markdown_cell(cell.source))
        elif cell.cell_type == "code":
            nb.cells.append(new_code_cell(cell.source))
    for gid, t in tests.items():
        if gid not in shown:
            nb.cells.extend(_test_cells(t, rel_tests[gid]))
    return nb


def _test_cells(t, release_cell: Cell) -> list:
    if t.hidden:
        return [new_markdown_cell(f"**{hidden_line(t)}**")]
    cell = new_code_cell(release_cell.source)
    cell.outputs = [new_output("stream", name="stdout", text="\n".join(visible_lines(t)) + "\n")]
    return [cell]


def autograded_notebook(result, source: list[Cell], student: list[Cell] | None):
    """Instructor-side copy: student cells, instructor test cells with full messages."""
    nb = new_notebook()
    tests = {t.grade_id: t for t in result.tests}
    src_tests = {c.grade_id: c for c in source if c.is_test}
    used = set()
    for cell in (student or []):
        gid = cell.grade_id
        if gid in src_tests:
            if gid in used:
                continue
            used.add(gid)
            nb.cells.append(_instructor_test_cell(src_tests[gid], tests.get(gid)))
        elif cell.cell_type == "markdown":
            nb.cells.append(new_markdown_cell(cell.source, metadata={"nbgrader": cell.nbgrader} if cell.nbgrader else {}))
        elif cell.cell_type == "code":
            meta = {"nbgrader": cell.nbgrader} if cell.grade_id and not cell.nbgrader.get("grade") else {}
            nb.cells.append(new_code_cell(cell.source, metadata=meta))
    for gid, c in src_tests.items():
        if gid not in used:
            nb.cells.append(_instructor_test_cell(c, tests.get(gid)))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["coursekit"] = {"status": result.status, "score": result.score, "tampered": result.tampered}
    return nb


def _instructor_test_cell(src: Cell, t):
    cell = new_code_cell(src.source, metadata={"nbgrader": src.nbgrader})
    if t is not None:
        lines = [f"{t.grade_id}: {_pts(t.score)} / {_pts(t.points)} ({t.passed}/{t.total} cases)"]
        lines += [f"  - {m}" for m in t.messages]
        cell.outputs = [new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    return cell


_EXPORTER = None


def to_html(nb) -> str:
    """HTML of a notebook (one cached nbconvert exporter: loading templates is the slow part)."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        _EXPORTER = HTMLExporter(template_name="classic")
    body, _ = _EXPORTER.from_notebook_node(nb)
    return body


def write(result, release: list[Cell], source: list[Cell], student: list[Cell] | None,
          grading_dir: Path, html_out: bool = True) -> Path | None:
    """Write autograded/<s>/<a>/<a>.ipynb and feedback/<s>/<a>/<a>.html (nbgrader layout)."""
    name = result.assignment
    auto = Path(grading_dir) / "autograded" / result.student / name
    auto.mkdir(parents=True, exist_ok=True)
    nbformat.write(autograded_notebook(result, source, student), str(auto / f"{name}.ipynb"))
    if not html_out:
        return None
    fb = Path(grading_dir) / "feedback" / result.student / name
    fb.mkdir(parents=True, exist_ok=True)
    path = fb / f"{name}.html"
    path.write_text(to_html(feedback_notebook(result, release, student)), encoding="utf-8")
    return path
