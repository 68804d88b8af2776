"""Reading submitted notebooks defensively and merging them with the instructor's release.

The grader never trusts a submission's structure: it parses the bytes itself (UTF-8, JSON,
cells), takes only the student's answer cells and extra cells, restores locked set-up cells
from the release and never runs any test cell (tests are scored from the spec). A test or
locked cell is reported as tampered only when its source or grading metadata really differs
from the release (not for execution counts, outputs or UI metadata Jupyter changes).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

_GRADING_KEYS = ("grade", "solution", "locked", "points", "task")


class InvalidNotebook(ValueError):
    """The submission is not a readable notebook."""


@dataclass
class Cell:
    """One cell, reduced to what grading needs."""

    cell_type: str
    source: str
    nbgrader: dict = field(default_factory=dict)

    @property
    def grade_id(self) -> str | None:
        gid = self.nbgrader.get("grade_id")
        return gid if isinstance(gid, str) else None

    @property
    def is_test(self) -> bool:
        return bool(self.nbgrader.get("grade")) and not self.nbgrader.get("solution")

    @property
    def is_answer(self) -> bool:
        return bool(self.nbgrader.get("solution"))

    @property
    def is_locked_code(self) -> bool:
        """A read-only set-up cell (restored from the release when changed)."""
        return (self.cell_type == "code" and bool(self.grade_id) and bool(self.nbgrader.get("locked"))
                and not self.is_test and not self.is_answer)


def normalize(source: str) -> str:
    """Source with trailing spaces, blank edges and line-ending differences removed."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(line.rstrip() for line in lines)


def parse_notebook(data: bytes) -> list[Cell]:
    """Cells of a notebook file's bytes; :class:`InvalidNotebook` with a clear reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidNotebook(f"not UTF-8 text (byte {e.start})") from None
    try:
        nb = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise InvalidNotebook(f"not valid JSON ({str(e)[:80]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("no list of cells")
    cells = []
    for i, c in enumerate(nb["cells"]):
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook(f"cell {i} is not a notebook cell")
        src = c.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise InvalidNotebook(f"cell {i} has no text source")
        meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        cells.append(Cell(c["cell_type"], src, dict(nbg)))
    return cells


def read_cells(path: Path) -> list[Cell]:
    return parse_notebook(Path(path).read_bytes())


def _grading_meta(cell: Cell) -> tuple:
    return tuple(bool(cell.nbgrader.get(k)) if k != "points" else float(cell.nbgrader.get(k) or 0)
                 for k in _GRADING_KEYS)


@dataclass
class Merged:
    """What the child runs and what the grader noticed."""

    cells: list            # code sources to execute, in order
    tampered: list         # human-readable tampering findings (empty for honest work)
    notes: list            # non-tampering remarks (e.g. a missing answer cell)


def merge(release: list[Cell], student: list[Cell]) -> Merged:
    """Merge a submission with the release: student answers + extra cells, release set-up
    cells, no test cells."""
    by_id = {c.grade_id: c for c in release if c.grade_id and c.cell_type == "code"}
    test_src = {normalize(c.source): c.grade_id for c in release if c.is_test}
    locked_src = {normalize(c.source): c.grade_id for c in release if c.is_locked_code}
    seen: set = set()
    run, tampered, notes = [], [], []
    for cell in student:
        if cell.cell_type != "code":
            continue
        gid = cell.grade_id
        ref = by_id.get(gid) if gid and gid not in seen else None
        if ref is not None:
            seen.add(gid)
            same_src = normalize(cell.source) == normalize(ref.source)
            same_meta = _grading_meta(cell) == _grading_meta(ref)
            if ref.is_test:
                if not same_src:
                    tampered.append(f"test cell {gid!r} was edited (restored from the release)")
                elif not same_meta:
                    tampered.append(f"test cell {gid!r} metadata was changed (restored)")
                continue
            if ref.is_answer:
                if not same_meta:
                    tampered.append(f"answer cell {gid!r} metadata was changed (ignored)")
                run.append(cell.source)
                continue
            if not same_src:
                tampered.append(f"locked cell {gid!r} was edited (restored from the release)")
            elif not same_meta:
                tampered.append(f"locked cell {gid!r} metadata was changed (restored)")
            run.append(ref.source)
            continue
        norm = normalize(cell.source)
        if norm in test_src and test_src[norm] not in seen:
            seen.add(test_src[norm])  # a re-typed, identical test cell: not run, not tampering
            continue
        if norm in test_src:
            continue
        if norm in locked_src and locked_src[norm] not in seen:
            seen.add(locked_src[norm])
            run.append(by_id[locked_src[norm]].source)
            continue
        run.append(cell.source)  # the student's own extra cell
    missing_locked = [c for c in release if c.is_locked_code and c.grade_id not in seen]
    for c in release:
        if not c.grade_id or c.grade_id in seen or c.cell_type != "code":
            continue
        if c.is_test:
            tampered.append(f"test cell {c.grade_id!r} was deleted (restored from the release)")
        elif c.is_answer:
            notes.append(f"answer cell {c.grade_id!r} is missing")
        else:
            tampered.append(f"locked cell {c.grade_id!r} was deleted (restored from the release)")
    run = [c.source for c in missing_locked] + run
    return Merged(run, tampered, notes)


def folder_checksum(folder: Path) -> str:
    """SHA-256 over every file (relative path + bytes) under ``folder``; '' if missing."""
    folder = Path(folder)
    if not folder.is_dir():
        return ""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(folder)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
        elif p.is_symlink():
            h.update(b"link:" + str(p.relative_to(folder)).encode())
    return h.hexdigest()
