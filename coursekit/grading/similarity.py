"""Similarity of students' answer code: winnowed token fingerprints (as MOSS and JPlag do),
computed locally, nothing uploaded.

Only the answer cells count, with the code the release gives subtracted. Each answer is
tokenized and normalised — identifiers become ``V``, numbers ``N``, strings ``S``, comments
and blank lines vanish — so renaming, reformatting and comment changes do not hide a copy.
Hashes of every k tokens are winnowed (the minimum of each window of ``w`` hashes), and a pair's
similarity is a weighted Jaccard index of their fingerprints, rare code weighing more than the
idioms every honest solution writes (see :func:`similar_pairs`). The reference solution takes part as the "student"
:data:`SOLUTION`, which catches a leaked solution.
"""
from __future__ import annotations

import builtins
import hashlib
import html
import io
import keyword
import math
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

SOLUTION = "(reference solution)"
_KEEP_NAMES = set(keyword.kwlist) | set(dir(builtins)) | {"np", "torch", "self"}


@dataclass
class Fingerprinted:
    """One student's answer code: its text lines and winnowed fingerprints {hash: [line, ...]}."""

    student: str
    lines: list
    prints: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.prints)


@dataclass
class Pair:
    """Two submissions and how much of each is found in the other."""

    a: str
    b: str
    similarity: float          # shared / fingerprints of the smaller one
    shared: int
    lines_a: list = field(default_factory=list)   # line numbers (0-based) of matched code
    lines_b: list = field(default_factory=list)


def answer_code(cells, release_cells) -> str:
    """The student's answer cells as one text, minus lines the release already gives.

    cells, release_cells: sequences of :class:`~coursekit.grading.notebook.Cell`.
    """
    given = defaultdict(set)
    for c in release_cells:
        if c.is_answer and c.grade_id:
            given[c.grade_id] = {ln.strip() for ln in c.source.splitlines() if ln.strip()}
    out = []
    for c in cells:
        if c.cell_type != "code" or not c.is_answer:
            continue
        keep = [ln for ln in c.source.splitlines() if ln.strip() and ln.strip() not in given.get(c.grade_id, ())]
        out.extend(keep)
    return "\n".join(out)


_FALLBACK = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?|\S")


def tokens(code: str) -> list[tuple[str, int]]:
    """Normalised tokens of ``code`` with their (0-based) line numbers."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            kind, text, line = tok.type, tok.string, tok.start[0] - 1
            if kind == tokenize.NAME:
                out.append((text if text in _KEEP_NAMES else "V", line))
            elif kind == tokenize.NUMBER:
                out.append(("N", line))
            elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                out.append(("S", line))
            elif kind == tokenize.OP:
                out.append((text, line))
            elif kind in (tokenize.INDENT, tokenize.DEDENT):
                out.append((tokenize.tok_name[kind], line))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = [(_normal(t), i) for i, ln in enumerate(code.splitlines())
               for t in _FALLBACK.findall(ln.split("#", 1)[0])]
    return out


def _normal(tok: str) -> str:
    """A raw token of code that does not tokenize (a syntax error), normalised like the rest."""
    if tok[0].isdigit():
        return "N"
    if (tok[0].isalpha() or tok[0] == "_") and tok not in _KEEP_NAMES:
        return "V"
    return tok


def fingerprint(student: str, code: str, k: int = 6, w: int = 4) -> Fingerprinted:
    """Winnowed fingerprints of ``code``: hashes of k-token windows, the minimum of each run of w."""
    toks = tokens(code)
    grams = []
    for i in range(len(toks) - k + 1):
        text = " ".join(t for t, _ in toks[i:i + k])
        h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        grams.append((h, toks[i][1], toks[i + k - 1][1]))
    prints: dict = {}
    for i in range(max(len(grams) - w + 1, 1 if grams else 0)):
        window = grams[i:i + w]
        h, first, last = min(window, key=lambda g: g[0])
        prints.setdefault(h, set()).update(range(first, last + 1))
    return Fingerprinted(student, code.splitlines(), {h: sorted(v) for h, v in prints.items()})


def similar_pairs(subs: list[Fingerprinted], threshold: float = 0.5, common: float = 0.3,
                  min_prints: int = 8) -> list[Pair]:
    """Pairs whose similarity is at least ``threshold``, most similar first.

    Similarity is a weighted Jaccard index of the two fingerprint sets: each fingerprint weighs
    log((N + 1) / df), df = how many submissions hold it, so idioms the whole class writes count
    little and rare code counts much; a disguised copy scores 1. Only pairs that share at least
    one fingerprint held by at most ``common`` of the class are compared (the inverted index keeps
    the work near-linear). subs: fingerprinted submissions (include :data:`SOLUTION` to catch
    leaks); min_prints: submissions with fewer fingerprints (blank or near blank) are left out.
    """
    subs = [s for s in subs if s.size >= min_prints]
    where = defaultdict(list)
    for i, s in enumerate(subs):
        for h in s.prints:
            where[h].append(i)
    n = len(subs)
    weight = {h: math.log((n + 1) / len(owners)) for h, owners in where.items()}
    total = [sum(weight[h] for h in s.prints) for s in subs]
    limit = max(2, int(common * n))
    candidates = set()
    for owners in where.values():
        if len(owners) <= limit:
            candidates.update(combinations(owners, 2))
    pairs = []
    for i, j in candidates:
        a, b = subs[i], subs[j]
        both = a.prints.keys() & b.prints.keys()
        shared = sum(weight[h] for h in both)
        union = total[i] + total[j] - shared
        sim = shared / union if union > 0 else 0.0
        if sim >= threshold:
            pairs.append(Pair(a.student, b.student, sim, len(both),
                              sorted({ln for h in both for ln in a.prints[h]}),
                              sorted({ln for h in both for ln in b.prints[h]})))
    return sorted(pairs, key=lambda p: (-p.similarity, p.a, p.b))


def _side(sub: Fingerprinted, marked: list) -> str:
    marked = set(marked)
    rows = []
    for i, ln in enumerate(sub.lines):
        cls = ' class="m"' if i in marked else ""
        rows.append(f"<div{cls}>{html.escape(ln) or '&nbsp;'}</div>")
    return "".join(rows)


def pairs_html(pairs: list[Pair], subs: dict, title: str) -> str:
    """A page listing the pairs, each with the two answers side by side, matches highlighted.

    subs: student -> :class:`Fingerprinted`. Student code is escaped (never interpreted).
    """
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif}.code{font-family:monospace;white-space:pre;"
             "font-size:12px;border:1px solid #ccc;padding:4px;overflow-x:auto}.m{background:#ffd27f}"
             "table{border-collapse:collapse}td{vertical-align:top;padding:4px;width:50%}</style>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(pairs)} pair(s) at or above the threshold. Highlighted lines hold matching "
             "normalised code (renaming and reformatting ignored). A high score is a reason to "
             "look, not a verdict.</p>"]
    for n, p in enumerate(pairs, 1):
        parts.append(f"<h2>{n}. {html.escape(p.a)} ↔ {html.escape(p.b)}: {p.similarity:.0%} "
                     f"({p.shared} shared fingerprints)</h2><table><tr>"
                     f"<td><b>{html.escape(p.a)}</b><div class='code'>{_side(subs[p.a], p.lines_a)}</div></td>"
                     f"<td><b>{html.escape(p.b)}</b><div class='code'>{_side(subs[p.b], p.lines_b)}</div></td>"
                     "</tr></table>")
    return "\n".join(parts)


def class_fingerprints(submitted: Path, assignment: str, release_cells, solution_cells=None,
                       k: int = 6, w: int = 4) -> list[Fingerprinted]:
    """Fingerprint every ``<submitted>/<student>/<assignment>/`` notebook (unreadable ones are
    skipped) and, when given, the reference solution as :data:`SOLUTION`."""
    from .autograde import _student_cells, list_students

    subs = []
    for student in list_students(submitted, assignment):
        cells = _student_cells(Path(submitted) / student / assignment, assignment)
        if cells is not None:
            subs.append(fingerprint(student, answer_code(cells, release_cells), k, w))
    if solution_cells is not None:
        subs.append(fingerprint(SOLUTION, answer_code(solution_cells, release_cells), k, w))
    return subs
