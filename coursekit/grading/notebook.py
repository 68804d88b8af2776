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
import os
import stat
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


MAX_CELLS = 5000                 # more cells than any honest notebook: refused with a clear status
MAX_SOURCE_CHARS = 2_000_000     # per cell
_NBGRADER_KEYS = {"grade", "solution", "locked", "points", "task", "grade_id", "schema_version",
                  "cell_type"}


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (valid JSON, not valid UTF-8) replaced by U+FFFD, so
    everything written from it (feedback, journal, gradebook) can be encoded."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _clean_nbgrader(meta) -> dict:
    """Only the nbgrader keys grading reads, with scalar values (no deep structures)."""
    if not isinstance(meta, dict):
        return {}
    out = {}
    for k, v in meta.items():
        if k in _NBGRADER_KEYS and (v is None or isinstance(v, (bool, int, float, str))):
            out[k] = clean_text(v)[:200] if isinstance(v, str) else v
    return out


def parse_notebook(data: bytes) -> list[Cell]:
    """Cells of a notebook file's bytes; :class:`InvalidNotebook` with a clear reason.

    Student content is bounded here, before anything else sees it: at most ``MAX_CELLS``
    cells, ``MAX_SOURCE_CHARS`` per cell, lone surrogates replaced, nbgrader metadata reduced
    to its scalar grading keys (any other metadata, however deep, is dropped)."""
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
    if len(nb["cells"]) > MAX_CELLS:
        raise InvalidNotebook(f"{len(nb['cells'])} cells; at most {MAX_CELLS} are accepted")
    cells = []
    for i, c in enumerate(nb["cells"]):
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook(f"cell {i} is not a notebook cell")
        src = c.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise InvalidNotebook(f"cell {i} has no text source")
        if len(src) > MAX_SOURCE_CHARS:
            raise InvalidNotebook(f"cell {i} has {len(src)} characters; at most {MAX_SOURCE_CHARS} are accepted")
        meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
        cells.append(Cell(c["cell_type"], clean_text(src), _clean_nbgrader(meta.get("nbgrader"))))
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
    kinds: list = field(default_factory=list)        # per cell: "answer", "locked", "release" or "extra"
    origins: list = field(default_factory=list)      # per cell: its index in the student's notebook (or None)
    checkpoints: dict = field(default_factory=dict)  # test id -> number of cells run before that test


def merge(release: list[Cell], student: list[Cell]) -> Merged:
    """Merge a submission with the release: student answers + extra cells, release set-up
    cells, no test cells."""
    by_id = {c.grade_id: c for c in release if c.grade_id and c.cell_type == "code"}
    test_src = {normalize(c.source): c.grade_id for c in release if c.is_test}
    locked_src = {normalize(c.source): c.grade_id for c in release if c.is_locked_code}
    plain_src = {normalize(c.source) for c in release if c.cell_type == "code" and not c.grade_id}
    seen: set = set()
    run, tampered, notes, kinds, origins, checkpoints = [], [], [], [], [], {}

    def add(source: str, kind: str, origin) -> None:
        run.append(source)
        kinds.append(kind)
        origins.append(origin)

    for pos, cell in enumerate(student):
        if cell.cell_type != "code":
            continue
        gid = cell.grade_id
        ref = by_id.get(gid) if gid and gid not in seen else None
        if ref is not None:
            seen.add(gid)
            same_src = normalize(cell.source) == normalize(ref.source)
            same_meta = _grading_meta(cell) == _grading_meta(ref)
            if ref.is_test:
                checkpoints[gid] = len(run)
                if not same_src:
                    tampered.append(f"test cell {gid!r} was edited (restored from the release)")
                elif not same_meta:
                    tampered.append(f"test cell {gid!r} metadata was changed (restored)")
                continue
            if ref.is_answer:
                if not same_meta:
                    tampered.append(f"answer cell {gid!r} metadata was changed (ignored)")
                add(cell.source, "answer", pos)
                continue
            if not same_src:
                tampered.append(f"locked cell {gid!r} was edited (restored from the release)")
            elif not same_meta:
                tampered.append(f"locked cell {gid!r} metadata was changed (restored)")
            add(ref.source, "locked", pos)
            continue
        norm = normalize(cell.source)
        if norm in test_src and test_src[norm] not in seen:
            seen.add(test_src[norm])  # a re-typed, identical test cell: not run, not tampering
            checkpoints[test_src[norm]] = len(run)
            continue
        if norm in test_src:
            continue
        if norm in locked_src and locked_src[norm] not in seen:
            seen.add(locked_src[norm])
            add(by_id[locked_src[norm]].source, "locked", pos)
            continue
        # the student's own extra cell (or an answer cell whose metadata another editor dropped);
        # an unchanged release cell without grade_id (e.g. a4's training cell) is not scratch
        add(cell.source, "release" if norm in plain_src else "extra", pos)
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
    n = len(missing_locked)
    run = [c.source for c in missing_locked] + run
    kinds = ["locked"] * n + kinds
    origins = [None] * n + origins
    checkpoints = {gid: p + n for gid, p in checkpoints.items()}
    for c in release:  # a deleted test runs after every cell
        if c.is_test and c.grade_id not in checkpoints:
            checkpoints[c.grade_id] = len(run)
    return Merged(run, tampered, notes, kinds, origins, checkpoints)


HASH_CONTENT_BYTES = 16 << 20  # files larger than this are identified by size, mtime and inode


def folder_checksum(folder: Path) -> str:
    """SHA-256 over every entry under ``folder`` (relative path + content); '' if missing.

    Never follows a symbolic link (a linked folder or file contributes its link text only),
    sizes come from ``lstat``, contents are hashed in 1 MiB chunks, and a file larger than
    ``HASH_CONTENT_BYTES`` (a student's data file: never graded) contributes its size, mtime
    and inode instead of its bytes, so a 1 GiB file costs neither time nor memory."""
    folder = Path(folder)
    try:
        st = os.lstat(folder)
    except OSError:
        return ""
    h = hashlib.sha256()
    if stat.S_ISLNK(st.st_mode):
        h.update(b"link:" + os.fsencode(os.readlink(folder)))
        return h.hexdigest()
    if not stat.S_ISDIR(st.st_mode):
        return ""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            entries.append(os.path.join(dirpath, name))
    for path in sorted(entries):
        rel = os.fsencode(os.path.relpath(path, folder))
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            h.update(b"link:" + rel + b"\0" + os.fsencode(os.readlink(path)))
        elif stat.S_ISREG(st.st_mode):
            h.update(rel + b"\0")
            h.update(_file_digest(path, st))
        elif not stat.S_ISDIR(st.st_mode):
            h.update(b"special:" + rel)
    return h.hexdigest()


def _file_digest(path: str, st: os.stat_result) -> bytes:
    if st.st_size > HASH_CONTENT_BYTES:
        return f"large:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode()
    d = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        return f"unreadable:{e.errno}".encode()
    with os.fdopen(fd, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            d.update(chunk)
    return d.digest()
