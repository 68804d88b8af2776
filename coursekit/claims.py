"""Checked claims: a lesson states each conclusion in code, next to the numbers behind it.

A lesson never types a measured figure into its prose. It computes the figure, renders the
sentence from it (:func:`say`), and states every conclusion it draws as a :func:`claim`::

    from coursekit.claims import claim, say, seeds_summary

    say("With augmentation validation accuracy is {acc:.1%}.", acc=acc)
    claim(aug.mean > plain.mean, "augmentation raises validation accuracy",
          values={"with": aug, "without": plain}, full_only=True)

Rules (``COURSEKIT_FAST`` picks the mode, see :mod:`coursekit.config`):

- full mode: a claim that does not hold raises :class:`ClaimError` with its text and values,
  so the lesson fails in ``make course``;
- fast mode: claims marked ``full_only=True`` (they need full-size runs) are shown as
  "not checked (fast mode)"; every other claim (equalities with torch, arithmetic, shapes)
  is checked in fast mode too, and therefore by ``make test``.

Each claim is displayed as a line of the executed notebook and also carried in the output
under the MIME type :data:`MIME`, from which ``make course`` builds its claims table
(:func:`claims_in_notebook`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .config import fast_mode

MIME = "application/vnd.coursekit.claim+json"

HELD, FAILED, NOT_CHECKED = "held", "FAILED", "not checked (fast mode)"


class ClaimError(AssertionError):
    """A lesson's claim did not hold on the numbers it printed."""


def _plain(value):
    """A JSON-friendly, readable form of a value (numbers rounded to 4 significant digits)."""
    if isinstance(value, Spread):
        return str(value)
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and hasattr(value, "ndim")):
        items = value.tolist() if hasattr(value, "tolist") else value
        return [_plain(v) for v in items]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _values_text(values: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in _plain(values).items())


def claim(condition, text: str, values: dict | None = None, full_only: bool = False) -> bool:
    """State a conclusion the lesson draws; check it and show it.

    condition: the test (anything with a truth value); text: the conclusion in words, as the
    prose states it; values: the numbers it rests on (shown beside it and in errors);
    full_only: True when the claim needs full-size runs (then fast mode shows it unchecked).
    Returns whether it held (False only in fast mode for ``full_only`` claims, never raised).
    Raises :class:`ClaimError` when it does not hold and is checked in this mode.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("claim(text=...): give the conclusion in words, e.g. 'BN trains faster'")
    if values is not None and not isinstance(values, dict):
        raise TypeError(f"claim(values=...): expected a dict of name -> number, got {type(values).__name__}")
    values = values or {}
    held = bool(condition)
    checked = not (full_only and fast_mode())
    status = NOT_CHECKED if not checked else (HELD if held else FAILED)
    _show(text, status, values, full_only)
    if checked and not held:
        raise ClaimError(f"claim does not hold: {text} ({_values_text(values) or 'no values given'})")
    return held and checked


def _show(text: str, status: str, values: dict, full_only: bool) -> None:
    """Display the claim (plain text + markdown + the machine-readable record)."""
    record = {"text": text, "status": status, "values": _plain(values), "full_only": full_only}
    mark = {"held": "✔", "FAILED": "✘"}.get(status, "·")
    vals = _values_text(values)
    plain = f"{mark} claim {status}: {text}" + (f"  [{vals}]" if vals else "")
    md = f"{mark} **claim {status}:** {text}" + (f" <small>({vals})</small>" if vals else "")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: print only
        print(plain)
        return
    if get_ipython() is None:
        print(plain)
        return
    display({"text/plain": plain, "text/markdown": md, MIME: record}, raw=True)


def say(template: str, **values) -> str:
    """Render prose from computed values and display it as markdown.

    ``say("The gap closes from {a:.1%} to {b:.1%}.", a=gap0, b=gap1)``. Returns the text.
    """
    text = template.format(**values)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        print(text)
        return text
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(text))
    return text


def correction(slide: str, actual: str, because: str) -> str:
    """The course's one callout form for correcting a lecture slide; displays and returns it.

    ``correction("10·4·4·10 + 10 = 1,600", "1,610", "the 10 biases add 10, not 0")``
    """
    return say("> **The slide says** {s}; **it is** {a}, because {b}.", s=slide, a=actual, b=because)


@dataclass
class Spread:
    """Summary of one measurement repeated over seeds: mean, standard deviation, the values."""

    values: list = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float:
        n = len(self.values)
        if n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (n - 1))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def format(self, spec: str = ".3f") -> str:
        """``'0.812 ± 0.009 (3 seeds)'``: mean ± sample standard deviation."""
        n = len(self.values)
        return f"{format(self.mean, spec)} ± {format(self.std, spec)} ({n} seed{'s' if n != 1 else ''})"

    def __format__(self, spec: str) -> str:
        return self.format(spec or ".3f")

    def __str__(self) -> str:
        return self.format()


def seeds_summary(values) -> Spread:
    """Wrap per-seed measurements (a sequence of numbers) as a :class:`Spread`."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("seeds_summary(values): expected at least one measurement, got none")
    return Spread(vals)


def clearly_greater(a: Spread, b: Spread) -> bool:
    """True when every seed of ``a`` beats every seed of ``b`` (the ranges do not overlap).

    The comparison a claim on a few seeds can honestly rest on: a difference smaller than
    the seed-to-seed spread is not a difference.
    """
    a = a if isinstance(a, Spread) else seeds_summary(a)
    b = b if isinstance(b, Spread) else seeds_summary(b)
    return a.low > b.high


def standard_error(a, b=None) -> float:
    """Standard error of the mean of ``a`` (a :class:`Spread` or a sequence of numbers): the
    sample standard deviation over √n. With ``b``, the standard error of the difference of
    the two means, for independent samples: √(se(a)² + se(b)²); for a paired comparison (the
    same seeds, the same images) pass the per-pair differences as ``a`` instead. NaN with
    fewer than two values: one value has no spread to estimate.
    """
    if b is not None:
        return math.hypot(standard_error(a), standard_error(b))
    vals = a.values if isinstance(a, Spread) else [float(v) for v in a]
    return Spread(vals).std / math.sqrt(len(vals)) if len(vals) > 1 else math.nan


# ---------------------------------------------------------------------------------------------
# Reading claims back, and finding figures typed into prose

def claims_in_notebook(nb) -> list[dict]:
    """The claim records displayed in an executed notebook (nbformat node or dict)."""
    found = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data") or {}
            if MIME in data:
                found.append(dict(data[MIME]))
    return found


_CITED = re.compile(r"<!--\s*cited:\s*\S[^>]*-->", re.IGNORECASE)
_FIGURE_PATTERNS = [
    re.compile(r"\d(?:[\d,.]*\d)?\s*%"),                                      # 81.5%
    re.compile(r"\d(?:[\d,.]*\d)?\s*[x×]\s+(?:faster|slower|speed|more|less|fewer)", re.I),  # 47x slower
    re.compile(r"\d(?:[\d,.]*\d)?\s*(?:ms|µs|us|seconds?|minutes?|s)\b(?!\w)(?![-/])"),     # 16 ms
    re.compile(r"(?:accuracy|loss|error|F1|AUC|IoU)\s+(?:of|is|was|=|reaches|reached|near|about)?\s*"
               r"(?:about\s+|~|≈\s*)?0\.\d+", re.I),                          # accuracy of 0.98
]


def typed_figures(markdown: str) -> list[str]:
    """Measured-looking figures typed into a markdown cell (percentages, "Nx faster", times,
    accuracies). A cell that cites literature says so with ``<!-- cited: SOURCE -->`` and is
    exempt; code spans and LaTeX are ignored."""
    if _CITED.search(markdown):
        return []
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    hits = []
    for pat in _FIGURE_PATTERNS:
        hits += [m.group(0).strip() for m in pat.finditer(text)]
    return hits
