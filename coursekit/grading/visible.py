"""The visible-case pack: what ``coursekit check`` needs to score visible tests as the grader
does, on a student's own copy of an assignment (no spec, no instructor notebook).

``coursekit release`` writes ``assignments/<a>/<a>.visible`` next to the release notebook
(nbgrader's release/fetch copies the whole folder to students; the wheel carries it too).
It holds, for each VISIBLE test of the spec: grade_id, points, description, the compare rule
as data (``{"rule": "Close", "rtol": ..., "atol": ...}``), and per case its label, family, the
calls in wire form and the expected values (the reference solution's outputs, computed as
:func:`coursekit.grading.runner.prepare` computes them: the solution's cells run in the
sandboxed child); plus the release's code cells (what ``merge`` needs) and the assignment's
settings (limits, the coursekit modules the child may import). One section per mode
(``full``, ``fast``; ``"same"`` when the fast one is identical).

Nothing of a hidden test is in it: no hidden case, family or grade_id (a hidden test cell of
the release is listed only as a salted hash of its grade_id, so that the student's own copy
of that cell is skipped as autograde skips it). It is encoded with :mod:`~coursekit.grading.wire`
(JSON + stored NumPy arrays, never pickle).

Size: an input array that the spec took from ``coursekit.data.load`` (a4's 1000 generated
validation images: 12 MB) travels as its recipe (the ``load`` call and the rows taken, with
three sums of the values) and is generated again by :func:`assignment_from_pack`
with the same code the grader runs; a recipe whose values do not match its sums makes the
pack stale.
"""
from __future__ import annotations

import hashlib
import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import wire
from .compare import Accuracy, Close, Exact

FORMAT = 1
SUFFIX = ".visible"
RECIPE_BYTES = 16 << 10     # arrays from data.load at least this large travel as a recipe
# what a recipe may ask for: generated shapes only (no download, no path, no file written),
# at most RECIPE_MAX_N images, so a doctored pack can make check neither fetch nor exhaust
RECIPE_KWARGS = {"n", "seed", "size", "difficulty", "num_classes"}
RECIPE_MAX_N = 20_000
MAX_PACK_BYTES = 64 << 20
_DATA = "__coursekit_data__"
# verify: how far a regenerated float may be from the committed one, relative to the largest
# magnitude in its array (BLAS builds reorder sums: float64 differs by ~1e-13 of it at most),
# plus FLOAT_ATOL (a difference that small changes no grade under any compare rule's atol)
FLOAT_TOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
FLOAT_ATOL = 1e-12


class PackError(ValueError):
    """The pack file is not a readable visible-case pack."""


def pack_path(folder: Path, name: str) -> Path:
    return Path(folder) / f"{name}{SUFFIX}"


def hidden_id(name: str, grade_id: str) -> str:
    """Salted hash naming a hidden test cell in the pack (never its grade_id)."""
    return hashlib.sha256(f"coursekit-visible:{name}:{grade_id}".encode()).hexdigest()[:20]


# ---------------------------------------------------------------- compare rules as data
def rule_to_data(compare) -> dict:
    if type(compare) is Close:
        return {"rule": "Close", "rtol": float(compare.rtol), "atol": float(compare.atol)}
    if type(compare) is Exact:
        return {"rule": "Exact"}
    if type(compare) is Accuracy:
        return {"rule": "Accuracy", "levels": [[float(t), float(f)] for t, f in compare.levels]}
    raise TypeError(f"compare rule {type(compare).__name__} has no data form: add it to coursekit.grading.visible")


def rule_from_data(d: dict):
    rule = d.get("rule")
    if rule == "Close":
        return Close(rtol=float(d["rtol"]), atol=float(d["atol"]))
    if rule == "Exact":
        return Exact()
    if rule == "Accuracy":
        return Accuracy(tuple((float(t), float(f)) for t, f in d["levels"]))
    raise PackError(f"unknown compare rule {rule!r}")


# ---------------------------------------------------------------- data recipes
@contextmanager
def recorded_loads():
    """Record every ``coursekit.data.load`` call made inside (the spec's): yields the list of
    ``(args, kwargs, result)``."""
    from coursekit import data

    calls, original = [], data.load

    def load(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append((args, kwargs, out))
        return out

    data.load = load
    try:
        yield calls
    finally:
        data.load = original


def _sums(arr: np.ndarray) -> list[float]:
    """Sum, sum of squares and row-weighted sum (rows in another order change it)."""
    a = np.asarray(arr, dtype=np.float64).reshape(len(arr), -1)
    rows = a.sum(axis=1)
    return [float(rows.sum()), float(np.square(a).sum()), float(rows @ np.arange(1, len(rows) + 1))]


def _sums_match(a: list, b: list) -> bool:
    """Whether two :func:`_sums` describe the same data: within 1e-6 relative. The generated
    images are float32 and NumPy's float32 ``arctan2`` (the shapes' polygons) differs in the last
    bit between CPUs with and without AVX-512: sums of regenerated data differ by ~1e-9 of their
    size on another machine, other data (another seed, rows, difficulty) by far more than 1e-6."""
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6) for x, y in zip(a, b))


def _recipe(arr: np.ndarray, loads: list) -> dict | None:
    """``{load call, item, rows, sums}`` when ``arr`` is (a leading-axis slice of) an array a
    recorded ``data.load`` returned, else None."""
    if not isinstance(arr, np.ndarray) or arr.nbytes < RECIPE_BYTES or arr.ndim == 0:
        return None
    for args, kwargs, out in loads:
        items = out if isinstance(out, tuple) else (out,)
        for k, whole in enumerate(items):
            if (not isinstance(whole, np.ndarray) or whole.ndim == 0 or whole.dtype != arr.dtype
                    or whole.shape[1:] != arr.shape[1:] or whole.strides != arr.strides):
                continue
            offset = arr.__array_interface__["data"][0] - whole.__array_interface__["data"][0]
            step = whole.strides[0]
            if step <= 0 or offset % step:
                continue
            start = offset // step
            stop = start + arr.shape[0]
            if 0 <= start <= stop <= whole.shape[0] and np.array_equal(whole[start:stop], arr):
                if not _allowed(list(args), dict(kwargs)):
                    return None
                return {_DATA: {"args": list(args), "kwargs": dict(kwargs), "item": k, "rows": [start, stop],
                                "sums": _sums(arr)}}
    return None


def _allowed(args: list, kwargs: dict) -> bool:
    """A ``data.load`` call a recipe may make (see :data:`RECIPE_KWARGS`)."""
    from coursekit.data import SPLITS

    n = kwargs.get("n", 0)
    return (1 <= len(args) <= 2 and args[0] == "shapes" and all(a in SPLITS for a in args[1:])
            and set(kwargs) <= RECIPE_KWARGS and type(n) is int and 0 <= n <= RECIPE_MAX_N
            and all(type(v) in (str, int, float, bool) for v in kwargs.values()))


def _with_recipes(obj, loads: list):
    """``obj`` (a case's arguments or expected values) with large loaded arrays as recipes."""
    if isinstance(obj, np.ndarray):
        return _recipe(obj, loads) or obj
    if isinstance(obj, tuple):
        return tuple(_with_recipes(x, loads) for x in obj)
    if isinstance(obj, list):
        return [_with_recipes(x, loads) for x in obj]
    if isinstance(obj, dict):
        if _DATA in obj:
            raise ValueError(f"a case argument uses the reserved key {_DATA!r}")
        return {k: _with_recipes(v, loads) for k, v in obj.items()}
    return obj


def _resolve(obj, cache: dict):
    """``obj`` with every recipe replaced by its data (generated once per load call)."""
    if isinstance(obj, tuple):
        return tuple(_resolve(x, cache) for x in obj)
    if isinstance(obj, list):
        return [_resolve(x, cache) for x in obj]
    if isinstance(obj, dict):
        if set(obj) == {_DATA}:
            return _load_recipe(obj[_DATA], cache)
        return {k: _resolve(v, cache) for k, v in obj.items()}
    return obj


def _load_recipe(r: dict, cache: dict) -> np.ndarray:
    from coursekit import data

    try:
        if not _allowed(r["args"], r["kwargs"]):
            raise PackError("a visible case asks for data other than generated shapes")
        key = repr((r["args"], sorted(r["kwargs"].items())))
        if key not in cache:
            cache[key] = data.load(*r["args"], **r["kwargs"])
        out = cache[key]
        whole = out[r["item"]] if isinstance(out, tuple) else out
        start, stop = r["rows"]
        arr = whole[start:stop]
        sums = r["sums"]
    except PackError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure: the pack does not fit this install
        raise PackError(f"cannot generate the data of a visible case ({type(e).__name__}: {e})"[:300]) from None
    if not _sums_match(_sums(arr), sums):
        raise PackError("the data of a visible case differs from the release's (another coursekit version?)")
    return arr


# ---------------------------------------------------------------- building the pack
def _spec_tests(root: Path, name: str, source: list, fast: bool) -> tuple[list, list]:
    """(the spec's visible tests, the ``data.load`` calls it made), seed 0 (visible cases
    never depend on the seed)."""
    from .runner import _check_spec_matches
    from .spec import load_spec, make_tests

    with recorded_loads() as loads:
        every = make_tests(load_spec(root, name), name, 0, fast)
    _check_spec_matches(name, every, source)
    return [t for t in every if not t.hidden], loads


def _section(tests: list, loads: list, expected: list | None = None) -> list:
    """The visible tests as plain data (``expected``: per flattened case; None: the spec's
    own expected values, None where the reference must compute them)."""
    cases = [c for t in tests for c in t.cases]
    if expected is None:
        expected = [None if c.needs_reference else list(c.expected) for c in cases]
    it = iter(expected)
    return [{"grade_id": t.grade_id, "points": float(t.points), "description": t.description,
             "compare": rule_to_data(t.compare),
             "cases": [{"label": c.label, "family": c.family, "steps": _with_recipes(c.to_wire()["steps"], loads),
                        "returns": c.to_wire()["returns"], "expected": _with_recipes(next(it), loads)}
                       for c in t.cases]}
            for t in tests]


def _reference(root: Path, name: str, tests: list, release: list, source: list, settings: dict,
               fast: bool) -> list:
    """Expected values of every visible case, flattened: the spec's, or the reference
    solution's outputs computed as :func:`~coursekit.grading.runner.prepare` computes them
    (:func:`~coursekit.grading.runner.fill_references`)."""
    from .runner import assemble, fill_references

    return fill_references(assemble(name, root, release, source, tests, settings, fast)).expected


def build_pack(root: Path, name: str, release_notebook: Path, fast: bool | None = None) -> dict:
    """The pack of ``name`` (plain data) for the release notebook ``release_notebook``; the
    reference runs once when the fast mode's visible cases are the full mode's (and the
    solution does not read the mode). ``fast``:
    only that mode's section (``coursekit check`` in a course checkout)."""
    from .notebook import read_cells
    from .runner import notebook_settings

    root = Path(root)
    source = read_cells(root / "solutions" / name / f"{name}.ipynb")
    release = read_cells(release_notebook)
    settings = notebook_settings(root, name)
    modes = {}
    # the reference solution's outputs are the same in both modes unless its code reads the mode
    reads_mode = any(w in c.source for c in source for w in ("pick(", "fast_mode", "COURSEKIT_FAST"))
    for mode in ((False, True) if fast is None else (fast,)):
        tests, loads = _spec_tests(root, name, source, mode)
        if mode and modes and not reads_mode and not _diff(_section(tests, loads), _section(full_tests, full_loads),
                                                           "", [], exact=True):
            modes["fast"] = "same"
            break
        modes["fast" if mode else "full"] = _section(
            tests, loads, _reference(root, name, tests, release, source, settings, mode))
        full_tests, full_loads = tests, loads
    visible = {t.grade_id for t in tests}
    cells = [{"hidden": hidden_id(name, c.grade_id)} if c.is_test and c.grade_id not in visible
             else {"source": c.source, "nbgrader": dict(c.nbgrader)}
             for c in release if c.cell_type == "code"]
    return {"format": FORMAT, "assignment": name, "settings": settings, "release": cells, "modes": modes}


def encode(pack: dict) -> bytes:
    return wire.pack(pack)


# ---------------------------------------------------------------- reading it back
def decode(data: bytes) -> dict:
    """The pack in ``data``; :class:`PackError` with a clear reason for anything else."""
    try:
        pack = wire.unpack(data, allow_refs=True, max_bytes=MAX_PACK_BYTES)
    except wire.WireError as e:
        raise PackError(f"not a visible-case pack ({e})") from None
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise PackError(f"not a visible-case pack of format {FORMAT}")
    if not (isinstance(pack.get("assignment"), str) and isinstance(pack.get("settings"), dict)
            and isinstance(pack.get("release"), list) and isinstance(pack.get("modes"), dict)):
        raise PackError("visible-case pack with missing parts")
    return pack


def read_pack(path: Path) -> dict:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise PackError(f"cannot read {Path(path).name} ({e.strerror})") from None
    return decode(data)


def find_pack(notebook: Path, root: Path | None = None) -> Path | None:
    """The pack for ``notebook``: named like it beside it, or the only pack beside it (a
    renamed download, ``a1_conv_arithmetic (1).ipynb``), else in ``root``'s assignments/
    (default: the checkout, or the copies the installed wheel carries)."""
    name = Path(notebook).stem
    here = pack_path(Path(notebook).parent, name)
    if here.is_file():
        return here
    beside = sorted(p for p in Path(notebook).parent.glob(f"*{SUFFIX}") if p.is_file())
    if len(beside) == 1:
        return beside[0]
    try:
        if root is None:
            from coursekit.lessons import course_files_dir

            root = course_files_dir()
        there = pack_path(Path(root) / "assignments" / name, name)
    except (FileNotFoundError, OSError):
        return None
    return there if there.is_file() else None


def stale_reason(pack: dict, name: str, student: list) -> str | None:
    """Why the pack does not belong to the notebook whose cells are ``student`` (None when it
    does): another assignment, or a graded cell the pack's release does not have."""
    if pack["assignment"] != name:
        return f"it is the pack of {pack['assignment']}, not of {name}"
    try:
        known = {c["nbgrader"].get("grade_id"): c["nbgrader"] for c in pack["release"] if "nbgrader" in c}
        hidden = {c["hidden"] for c in pack["release"] if "hidden" in c}
    except (KeyError, TypeError, AttributeError):
        raise PackError("visible-case pack with unreadable release cells") from None
    for c in student:
        gid = c.grade_id
        if not gid or not (c.is_test or c.is_answer) or hidden_id(name, gid) in hidden:
            continue
        ref = known.get(gid)
        if ref is None:
            return f"your notebook has a graded cell {gid!r} that its release does not have"
        if c.is_test and float(ref.get("points") or 0) != float(c.nbgrader.get("points") or 0):
            return f"test {gid!r} is worth {c.nbgrader.get('points')} in your notebook, {ref.get('points')} in the pack"
    return None


def assignment_from_pack(pack: dict, fast: bool, student: list, folder: Path):
    """The grader's :class:`~coursekit.grading.runner.Assignment` of the pack's visible tests
    (``student``: the notebook's cells, whose hidden test cells are skipped as autograde skips
    them); :class:`PackError` when the pack cannot serve."""
    from .notebook import Cell, _clean_nbgrader
    from .runner import assemble
    from .spec import Case, Step, Test

    name = pack["assignment"]
    section = pack["modes"].get("fast" if fast else "full")
    if section == "same":
        section = pack["modes"].get("full")
    try:
        hidden = {c["hidden"] for c in pack["release"] if "hidden" in c}
        release = [Cell("code", c["source"], _clean_nbgrader(c["nbgrader"]))
                   for c in pack["release"] if "hidden" not in c]
        release += [Cell("code", c.source, dict(c.nbgrader)) for c in student
                    if c.cell_type == "code" and c.is_test and c.grade_id and hidden_id(name, c.grade_id) in hidden]
        cache, tests, expected = {}, [], []
        for t in section:
            test = Test(t["grade_id"], t["points"], [], compare=rule_from_data(t["compare"]),
                        description=t["description"])
            for c in t["cases"]:
                steps = [Step(s["fn"], tuple(s["args"]), dict(s["kwargs"])) for s in _resolve(c["steps"], cache)]
                test.cases.append(Case(steps, [tuple(r) for r in c["returns"]], label=c["label"], family=c["family"]))
                expected.append(_resolve(c["expected"], cache))
            tests.append(test)
        return assemble(name, folder, release, [], tests, pack["settings"], fast, expected)
    except PackError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PackError(f"visible-case pack with unreadable parts ({type(e).__name__}: {e})"[:300]) from None


# ---------------------------------------------------------------- verify
def differences(committed: bytes, fresh: bytes) -> list[str]:
    """What differs between a committed pack and a regenerated one: structure, strings, ints
    and bools exactly; floats within :data:`FLOAT_TOL` of the largest magnitude in their array
    (so another BLAS build never makes the pack stale, a changed reference always does)."""
    try:
        old = decode(committed)
    except PackError as e:
        return [str(e)]
    out: list[str] = []
    _diff(old, decode(fresh), "pack", out)
    return out[:5]


def _diff(a, b, where: str, out: list, exact: bool = False) -> list:
    """Append to ``out`` (at most 5) where ``a`` differs from ``b``; returns ``out``."""
    if len(out) >= 5:
        return out
    if isinstance(b, dict):
        if not isinstance(a, dict) or set(a) != set(b):
            out.append(f"{where}: keys {sorted(a) if isinstance(a, dict) else type(a).__name__} "
                       f"!= {sorted(b)}")
            return out
        for k in b:
            if not exact and where.endswith(_DATA) and k == "sums":   # regenerated on another CPU: _load_recipe's rule
                if not (isinstance(a[k], list) and _sums_match(a[k], b[k])):
                    out.append(f"{where}.sums: the data of the case changed ({a[k]} != {b[k]})"[:300])
                continue
            _diff(a[k], b[k], f"{where}.{k}", out, exact)
    elif isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            out.append(f"{where}: {_kind(a)} != {_kind(b)}")
            return out
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{where}[{i}]", out, exact)
    elif isinstance(b, (np.ndarray, float)) and not isinstance(b, bool):
        x, y = np.asarray(a), np.asarray(b)
        if type(a) is not type(b) or x.dtype != y.dtype or x.shape != y.shape:
            out.append(f"{where}: {_kind(a)} != {_kind(b)}")
        elif y.dtype.kind in "fc":
            scale = float(np.nanmax(np.abs(y), initial=0.0)) if y.size else 0.0
            tol = 0.0 if exact else FLOAT_TOL.get(y.dtype, 1e-9) * scale + FLOAT_ATOL
            if not np.allclose(x, y, rtol=0, atol=tol, equal_nan=True):
                out.append(f"{where}: reference values changed (max difference "
                           f"{float(np.nanmax(np.abs(x - y))):.3g}, tolerance {tol:.3g})")
        elif not np.array_equal(x, y):
            out.append(f"{where}: values changed")
    elif type(a) is not type(b) or a != b:
        out.append(f"{where}: {str(a)[:60]!r} != {str(b)[:60]!r}")
    return out


def _kind(x) -> str:
    if isinstance(x, np.ndarray):
        return f"array{x.shape} {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)}"
    return type(x).__name__
