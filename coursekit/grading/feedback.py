"""Feedback for students: their notebook with each test's outcome, hidden tests reduced to
"hidden test: n of m points — failed on: <families>; passed: <families>" (no source,
inputs or reference values).

Also writes the instructor-side autograded notebook (nbgrader's ``autograded/`` folder) in
which test cells are restored from the instructor source and carry the full result text.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .notebook import Cell


MAX_STUDENT_CELLS = 400       # student cells shown in feedback / autograded notebooks
MAX_CELL_CHARS = 20_000       # characters shown per student cell
MAX_TOTAL_CHARS = 1_000_000   # characters shown from the student's cells in all


def safe_markdown(text: str) -> str:
    """A student's markdown, inert in HTML: no tag (``<`` and ``&`` escaped, so no
    ``<script>`` nor ``on*=`` attribute can exist) and no script URL in links."""
    return _no_script_urls(text.replace("&", "&amp;").replace("<", "&lt;"))


def _no_script_urls(text: str) -> str:
    return re.sub(r"(?i)\b(javascript|vbscript|data)(\s*):", r"\1\2&#58;", text)


def _bounded(student: list | None) -> tuple[list, int]:
    """The first cells of ``student`` within the caps (test cells always kept) and how many
    of the rest were left out."""
    out, chars, left_out = [], 0, 0
    for cell in student or []:
        if cell.nbgrader.get("grade") and not cell.nbgrader.get("solution"):
            out.append(cell)
            continue
        if len(out) >= MAX_STUDENT_CELLS or chars >= MAX_TOTAL_CHARS:
            left_out += 1
            continue
        src = cell.source[:MAX_CELL_CHARS]
        chars += len(src)
        out.append(Cell(cell.cell_type, src, cell.nbgrader) if src is not cell.source else cell)
    return out, left_out


def display_id(student: str) -> str:
    """A student id as printable text (a non-UTF-8 folder name shows its bytes as \\xNN)."""
    try:
        student.encode("utf-8")
        return student
    except UnicodeEncodeError:
        try:
            return student.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return student.encode("utf-8", "backslashreplace").decode("utf-8")


def _pts(x: float) -> str:
    return f"{x:g}"


def hidden_line(t) -> str:
    """The only thing a student learns about a hidden test: its points and which of its case
    families (instructor labels, fixed per assignment) failed and passed, e.g.
    "hidden test: 1 of 3 points — failed on: padding = 0; passed: padding > 0, stride > 1"."""
    line = f"hidden test: {_pts(t.score)} of {_pts(t.points)} points"
    fams = getattr(t, "families", None) or []
    failed = [str(name) for name, ok in fams if not ok]
    passed = [str(name) for name, ok in fams if ok]
    parts = ([f"failed on: {', '.join(failed)}"] if failed else []) + \
            ([f"passed: {', '.join(passed)}"] if passed else [])
    return line + (" — " + "; ".join(parts) if parts else "")


def visible_lines(t) -> list[str]:
    word = "passed" if t.score >= t.points else "failed"
    lines = [f"visible test {t.grade_id}: {word} ({_pts(t.score)} of {_pts(t.points)} points, "
             f"{t.passed}/{t.total} cases)"]
    lines += [f"  - {m}" for m in t.messages[:8]]
    return lines


def summary_markdown(result, policy=None) -> str:
    """The feedback's first cell: status (with what it means and what to do, see
    :func:`coursekit.grading.statuses.advice`; ``policy``: the assignment's limits), score,
    a line per test, cell errors and notes."""
    from .statuses import advice

    rows = ["| test | result |", "|---|---|"]
    for t in result.tests:
        text = hidden_line(t) if t.hidden else visible_lines(t)[0]
        rows.append(f"| {'hidden' if t.hidden else t.grade_id} | {html.escape(text)} |")
    parts = [f"# Feedback: {result.assignment}",
             f"**Student:** {html.escape(display_id(result.student))}  \n**Status:** {html.escape(result.status)}  \n"
             f"**Score:** {_pts(result.score)} / {_pts(result.max_score)}",
             "\n".join(rows)]
    what = advice(result.status, policy)
    if what:
        parts.insert(2, f"**What this status means:** {html.escape(what)}")
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


def _left_out_cell(n: int):
    return new_markdown_cell(f"*({n} more cells of your notebook are not shown here.)*")


def feedback_notebook(result, release: list[Cell], student: list[Cell] | None, policy=None):
    """The student-facing feedback notebook (hidden tests as one line each)."""
    nb = new_notebook()
    nb.cells.append(new_markdown_cell(_no_script_urls(summary_markdown(result, policy))))
    tests = {t.grade_id: t for t in result.tests}
    rel_tests = {c.grade_id: c for c in release if c.is_test}
    shown = set()
    student, left_out = _bounded(student)
    for cell in student:
        gid = cell.grade_id
        if gid in rel_tests or (cell.cell_type == "code" and cell.nbgrader.get("grade")):
            if gid in tests and gid not in shown:
                shown.add(gid)
                nb.cells.extend(_test_cells(tests[gid], rel_tests[gid]))
            continue
        if cell.cell_type == "markdown":
            nb.cells.append(new_markdown_cell(safe_markdown(cell.source)))
        elif cell.cell_type == "code":
            nb.cells.append(new_code_cell(cell.source))
    if left_out:
        nb.cells.append(_left_out_cell(left_out))
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
    student, left_out = _bounded(student)
    for cell in student:
        gid = cell.grade_id
        if gid in src_tests:
            if gid in used:
                continue
            used.add(gid)
            nb.cells.append(_instructor_test_cell(src_tests[gid], tests.get(gid)))
        elif cell.cell_type == "markdown":
            nb.cells.append(new_markdown_cell(safe_markdown(cell.source),
                                              metadata={"nbgrader": cell.nbgrader} if cell.nbgrader else {}))
        elif cell.cell_type == "code":
            meta = {"nbgrader": cell.nbgrader} if cell.grade_id and not cell.nbgrader.get("grade") else {}
            nb.cells.append(new_code_cell(cell.source, metadata=meta))
    if left_out:
        nb.cells.append(_left_out_cell(left_out))
    for gid, c in src_tests.items():
        if gid not in used:
            nb.cells.append(_instructor_test_cell(c, tests.get(gid)))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["coursekit"] = {"status": result.status, "score": result.score, "tampered": result.tampered,
                                "detail": getattr(result, "detail", "")}
    return nb


def _instructor_test_cell(src: Cell, t):
    cell = new_code_cell(src.source, metadata={"nbgrader": src.nbgrader})
    if t is not None:
        lines = [f"{t.grade_id}: {_pts(t.score)} / {_pts(t.points)} ({t.passed}/{t.total} cases)"]
        lines += [f"  - {m}" for m in t.messages]
        cell.outputs = [new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    return cell


# Light HTML for feedback (issue 19): no nbconvert exporter (jinja templates and syntax
# highlighting cost ~1 s per submission), no script anywhere, bounded time on any input.
RICH_CELL_CHARS = 8_000       # a markdown cell longer than this is shown as plain text
RICH_TOTAL_CHARS = 60_000     # markdown rendered as markdown per page; the rest as plain text
_SAFE_SCHEMES = ("http", "https", "mailto")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:"
_STYLE = (
    "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:62rem;margin:1.5rem auto;"
    "padding:0 1rem;line-height:1.45;color:#1d1d1d}"
    ".cell{margin:.9rem 0}.md table{border-collapse:collapse}"
    ".md td,.md th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
    "pre{margin:0;padding:.55rem .7rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}"
    ".code pre{background:#f5f7f9;border:1px solid #d8dde2;border-radius:3px;font-size:.9em}"
    ".out pre{border-left:4px solid #7a7a7a;background:#fcfcfc;font-size:.9em}"
    ".out.passed pre{border-left-color:#2e8b57}.out.failed pre{border-left-color:#c0392b}"
    ".plain{white-space:pre-wrap;word-break:break-word}"
)
_MARKDOWN = None


def _markdown(text: str) -> str:
    """Markdown as HTML with raw HTML escaped (mistune, already a dependency of nbconvert)
    and every link or image address that is not http(s)/mailto/relative made inert."""
    global _MARKDOWN
    if _MARKDOWN is None:
        import mistune

        _MARKDOWN = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return _safe_addresses(_MARKDOWN(text))


def _safe_addresses(page: str) -> str:
    def fix(m):
        url = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(m.group(2))).lower()
        scheme = re.match(r"([a-z][a-z0-9+.\-]*):", url)
        if scheme and scheme.group(1) not in _SAFE_SCHEMES:
            return f'{m.group(1)}="#harmful-link"'
        return m.group(0)
    return re.sub(r'\b(href|src)\s*=\s*"([^"]*)"', fix, page, flags=re.I)


def _plain(text: str) -> str:
    return f'<div class="plain">{html.escape(text)}</div>'


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def to_html(nb, title: str = "Feedback") -> str:
    """A self-contained, script-free HTML page of a feedback notebook: markdown cells rendered
    (entities decoded once, then raw HTML escaped and script addresses removed; past
    :data:`RICH_CELL_CHARS` per cell or :data:`RICH_TOTAL_CHARS` per page as plain text, so
    any notebook renders in bounded time), code cells and their text outputs escaped in
    ``<pre>``. A Content-Security-Policy forbids scripts even if something slipped through
    (so no MathJax: formulas show as their LaTeX source)."""
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"]
    rich_left = RICH_TOTAL_CHARS
    for cell in nb.cells:
        src = _source(cell)
        if cell.get("cell_type") == "markdown":
            # feedback markdown was made inert as text (safe_markdown, escaped summary): decode
            # those entities once, the renderer escapes every tag and entity itself
            src = html.unescape(src)
            if len(src) <= min(RICH_CELL_CHARS, rich_left):
                rich_left -= len(src)
                parts.append(f'<div class="cell md">{_markdown(src)}</div>')
            else:
                parts.append(f'<div class="cell md">{_plain(src)}</div>')
        elif cell.get("cell_type") == "code":
            parts.append(f'<div class="cell code"><pre><code>{html.escape(src)}</code></pre>')
            for out in cell.get("outputs", []):
                text = out.get("text", "")
                text = "".join(text) if isinstance(text, list) else str(text)
                first = text.split("\n", 1)[0]
                state = " failed" if ": failed" in first else " passed" if ": passed" in first else ""
                parts.append(f'<div class="out{state}"><pre>{html.escape(text)}</pre></div>')
            parts.append("</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write(result, release: list[Cell], source: list[Cell], student: list[Cell] | None,
          grading_dir: Path, html_out: bool = True, folder_name: str | None = None,
          policy=None) -> Path | None:
    """Write autograded/<s>/<a>/<a>.ipynb and feedback/<s>/<a>/<a>.html (nbgrader layout;
    ``<s>`` = ``folder_name``, a safe file name for the student, default the student id)."""
    name = result.assignment
    folder_name = folder_name or result.student
    auto = Path(grading_dir) / "autograded" / folder_name / name
    auto.mkdir(parents=True, exist_ok=True)
    nbformat.write(autograded_notebook(result, source, student), str(auto / f"{name}.ipynb"))
    if not html_out:
        return None
    fb = Path(grading_dir) / "feedback" / folder_name / name
    fb.mkdir(parents=True, exist_ok=True)
    path = fb / f"{name}.html"
    path.write_text(to_html(feedback_notebook(result, release, student, policy), title=f"Feedback: {name}"),
                    encoding="utf-8")
    return path
