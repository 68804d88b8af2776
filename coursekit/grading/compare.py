"""Comparisons of received values with expected ones, with messages that say what differs.

Used by the trusted grader (on plain data decoded from the child) and by visible tests in
the student notebooks (``assert_close``). Every failure message states what was expected,
what was received and where (the first mismatching index for arrays).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .wire import Unsupported


def _short(x, limit: int = 120) -> str:
    if isinstance(x, np.ndarray):
        if x.size <= 6:
            s = np.array2string(x, precision=6, separator=", ").replace("\n", "")
        else:
            s = f"array of shape {x.shape}, dtype {x.dtype}"
        return s[:limit]
    if isinstance(x, Unsupported):
        return f"an object of type {x.type_name} (not plain data)"
    s = repr(x)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _as_numeric_array(x):
    """Arrays, numbers and (nested) lists/tuples of numbers as a float/int array, else None."""
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind in "biufc" else None
    if _is_number(x) or isinstance(x, (bool, np.bool_)):
        return np.asarray(x)
    if isinstance(x, (list, tuple)):
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError):
            return None
        return arr if arr.dtype.kind in "biufc" else None
    return None


def compare_values(expected, received, *, rtol: float = 1e-6, atol: float = 1e-8,
                   exact: bool = False, where: str = "value") -> str | None:
    """None when ``received`` matches ``expected``, else a message (expected / received / where).

    Structures (tuples, lists, dicts) are compared element by element; numbers and arrays
    with ``np.isclose(received, expected, rtol, atol)`` unless ``exact``; bools, ints in
    exact mode, strings and None must be equal; NaN matches NaN in both modes. Shapes must match
    exactly (no broadcasting).
    """
    if isinstance(received, Unsupported):
        return f"{where}: expected {_short(expected)}, received {_short(received)}"
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            return f"{where}: expected a dict, received {_short(received)}"
        missing = sorted(set(expected) - set(received))
        if missing:
            return f"{where}: missing key {missing[0]!r} (expected keys {sorted(expected)})"
        for k in expected:
            msg = compare_values(expected[k], received[k], rtol=rtol, atol=atol, exact=exact,
                                 where=f"{where}[{k!r}]")
            if msg:
                return msg
        return None
    if isinstance(expected, (tuple, list)) and not _all_numbers(expected):
        if not isinstance(received, (tuple, list)):
            return f"{where}: expected a sequence of {len(expected)} items, received {_short(received)}"
        if len(received) != len(expected):
            return (f"{where}: expected {len(expected)} items, received {len(received)} "
                    f"({_short(received)})")
        for i, (e, r) in enumerate(zip(expected, received)):
            msg = compare_values(e, r, rtol=rtol, atol=atol, exact=exact, where=f"{where}[{i}]")
            if msg:
                return msg
        return None
    if expected is None or isinstance(expected, str):
        if type(received) is not type(expected) or received != expected:
            return f"{where}: expected {_short(expected)}, received {_short(received)}"
        return None
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(received, (bool, np.bool_)) or bool(received) != bool(expected):
            return f"{where}: expected {bool(expected)}, received {_short(received)}"
        return None
    exp = _as_numeric_array(expected)
    rec = _as_numeric_array(received)
    if exp is None:
        raise TypeError(f"compare_values: cannot compare expected value {_short(expected)}")
    if rec is None:
        return f"{where}: expected {_short(expected)}, received {_short(received)}"
    if isinstance(received, (bool, np.bool_)) or (rec.dtype.kind == "b" and exp.dtype.kind != "b"):
        return f"{where}: expected {_short(expected)}, received a bool ({_short(received)})"
    if rec.shape != exp.shape:
        return (f"{where}: expected shape {exp.shape}, received shape {rec.shape} "
                f"({_short(received)})")
    if exact:
        bad = rec != exp
        if exp.dtype.kind in "fc" and rec.dtype.kind in "fc":
            bad &= ~(np.isnan(rec) & np.isnan(exp))   # NaN matches NaN, as in close mode
    else:
        with np.errstate(all="ignore"):
            bad = ~np.isclose(rec.astype(np.complex128 if "c" in (rec.dtype.kind + exp.dtype.kind)
                                          else np.float64),
                              exp.astype(np.complex128 if exp.dtype.kind == "c" else np.float64),
                              rtol=rtol, atol=atol, equal_nan=True)
    if not np.any(bad):
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    n_bad = int(np.count_nonzero(bad))
    if exp.ndim == 0:
        return f"{where}: expected {exp.item()!r}, received {rec.item()!r}"
    exp_v, rec_v = exp[idx].item(), rec[idx].item()
    tol = "" if exact else f" (rtol={rtol:g}, atol={atol:g})"
    return (f"{where}: {n_bad} of {exp.size} entries differ{tol}; first mismatch at index "
            f"{idx}: expected {exp_v!r}, received {rec_v!r}")


def _all_numbers(seq) -> bool:
    return len(seq) > 0 and all(_is_number(x) for x in seq)


def assert_close(received, expected, *, rtol: float = 1e-6, atol: float = 1e-8,
                 name: str = "value") -> None:
    """Raise ``AssertionError`` saying expected / received / first mismatching index.

    For visible tests in student notebooks: ``assert_close(out, correct_out, name="out")``.
    """
    msg = compare_values(expected, received, rtol=rtol, atol=atol, where=name)
    if msg:
        raise AssertionError(msg)


def assert_equal(received, expected, *, name: str = "value") -> None:
    """Exact version of :func:`assert_close` (ints, bools, tuples of ints)."""
    msg = compare_values(expected, received, exact=True, where=name)
    if msg:
        raise AssertionError(msg)


def compare_returns(expected: list, received, **kw) -> str | None:
    """Compare the list of a case's return values (one entry per graded return)."""
    if not isinstance(received, list) or len(received) != len(expected):
        return f"output: expected {len(expected)} value(s), received {_short(received)}"
    for i, (e, r) in enumerate(zip(expected, received)):
        msg = compare_values(e, r, where="output" if len(expected) == 1 else f"output {i}", **kw)
        if msg:
            return msg
    return None


@dataclass(frozen=True)
class Close:
    """Grade by ``np.isclose`` with these tolerances."""

    rtol: float = 1e-6
    atol: float = 1e-8

    def score(self, expected, received) -> tuple[float, str | None]:
        msg = compare_returns(expected, received, rtol=self.rtol, atol=self.atol)
        return (0.0, msg) if msg else (1.0, None)


@dataclass(frozen=True)
class Exact:
    """Grade by exact equality (ints, bools, strings, tuples of them)."""

    def score(self, expected, received) -> tuple[float, str | None]:
        msg = compare_returns(expected, received, exact=True)
        return (0.0, msg) if msg else (1.0, None)


@dataclass(frozen=True)
class Accuracy:
    """Grade predicted labels against true labels by accuracy thresholds.

    ``levels``: ((threshold, fraction of points), ...) best first, e.g. ((0.9, 1.0), (0.7, 0.5)).
    """

    levels: tuple = ((0.9, 1.0),)

    def score(self, expected, received) -> tuple[float, str | None]:
        one = lambda v: v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v
        exp = np.asarray(one(expected))
        rec = _as_numeric_array(one(received))
        if rec is None or rec.shape != exp.shape:
            shape = None if rec is None else rec.shape
            return 0.0, f"output: expected {exp.shape[0]} predicted labels, received shape {shape}"
        acc = float(np.mean(rec == exp))
        for threshold, fraction in self.levels:
            if acc >= threshold:
                return float(fraction), (f"accuracy {acc:.3f} >= {threshold:.2f}: {fraction:.0%} of the points"
                                         + ("" if fraction >= 1 else f" (full marks from {self.levels[0][0]:.2f})"))
        return 0.0, f"accuracy {acc:.3f} is below {self.levels[-1][0]:.2f}"
