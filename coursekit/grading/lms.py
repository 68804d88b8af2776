"""Grades out of the gradebook, in the CSV layouts learning management systems import.

- ``csv``: student_id, one column per assignment, total, then a ``max`` row.
- ``canvas``: Canvas's gradebook import layout (Student, ID, SIS User ID, SIS Login ID,
  Section, one column per assignment, a "Points Possible" row).
- ``moodle``: Moodle's grade import (an identifier column, "ID number", then one column per
  assignment; Moodle computes the course total itself, so it is not exported).

Students are keyed by the gradebook's ids; a mapping file (CSV with columns ``student_id``,
``lms_id`` and optionally ``name``, ``section``, ``email``) gives their LMS identities. An
existing export is never overwritten without ``force``.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

FORMATS = ("csv", "canvas", "moodle")


class ExportError(ValueError):
    """The grades cannot be exported as asked."""


def read_mapping(path: Path) -> dict[str, dict]:
    """student_id -> {lms_id, name, section, email} from the instructor's mapping CSV."""
    try:
        rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    except OSError as e:
        raise ExportError(f"cannot read the mapping file {path}: {e}") from e
    if not rows or not {"student_id", "lms_id"} <= set(rows[0]):
        raise ExportError(f"{path}: expected a CSV with the columns student_id,lms_id "
                          "(optional: name,section,email)")
    return {r["student_id"].strip(): {k: (v or "").strip() for k, v in r.items() if k} for r in rows}


def grade_table(grading_dir: Path, root: Path, assignments: list[str]) -> tuple[dict, dict]:
    """({student: {assignment: score}}, {assignment: max points}) from the gradebook."""
    from .gradebook import max_points, scores

    if not assignments:
        raise ExportError("no assignments to export: name them, or grade one first")
    table: dict = {}
    maxima = {}
    for a in assignments:
        maxima[a] = max_points(root, a)
        for student, score in scores(grading_dir, a).items():
            table.setdefault(student, {})[a] = score
    if not table:
        raise ExportError(f"the gradebook in {grading_dir} holds no scores for {', '.join(assignments)}: "
                          "run `coursekit autograde` first")
    return table, maxima


def render(fmt: str, table: dict, maxima: dict, mapping: dict | None = None) -> str:
    """The export as CSV text. Missing scores (never submitted) are left empty, not zero."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}': expected one of {', '.join(FORMATS)}")
    names = list(maxima)
    students = sorted(table)
    if mapping is not None:
        unmapped = [s for s in students if s not in mapping]
        if unmapped:
            raise ExportError(f"{len(unmapped)} student(s) missing from the mapping file: "
                              f"{', '.join(unmapped[:10])}{' …' if len(unmapped) > 10 else ''}")
    ident = lambda s, key, default: (mapping or {}).get(s, {}).get(key) or default
    score = lambda s, a: "" if a not in table[s] else f"{table[s][a]:g}"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if fmt == "csv":
        w.writerow(["student_id", *names, "total"])
        for s in students:
            w.writerow([s, *(score(s, a) for a in names), f"{sum(table[s].values()):g}"])
        w.writerow(["max", *(f"{maxima[a]:g}" for a in names), f"{sum(maxima.values()):g}"])
    elif fmt == "canvas":
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names])
        w.writerow(["    Points Possible", "", "", "", "", *(f"{maxima[a]:g}" for a in names)])
        for s in students:
            w.writerow([ident(s, "name", s), "", ident(s, "lms_id", s), "", ident(s, "section", ""),
                        *(score(s, a) for a in names)])
    else:
        w.writerow(["ID number", "Email address", *names])
        for s in students:
            w.writerow([ident(s, "lms_id", s), ident(s, "email", ""), *(score(s, a) for a in names)])
    return buf.getvalue()


def export(fmt: str, dest: Path, grading_dir: Path, root: Path, assignments: list[str],
           mapping: Path | None = None, force: bool = False) -> Path:
    """Write the grades of ``assignments`` to ``dest`` in ``fmt``; refuse to overwrite unless ``force``."""
    dest = Path(dest)
    if dest.exists() and not force:
        raise ExportError(f"{dest} exists: choose another file, or pass --force to replace it")
    table, maxima = grade_table(grading_dir, root, assignments)
    text = render(fmt, table, maxima, read_mapping(mapping) if mapping else None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest
