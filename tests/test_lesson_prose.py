"""The lessons' prose: no measured figure typed by hand, and every lesson reference a right link.

Measured results (percentages, "Nx faster", times, accuracies) are rendered from computed
values (``coursekit.claims.say``) in a code cell's output, never typed into markdown; a cell
that quotes literature carries ``<!-- cited: SOURCE -->``. A mention of "lesson NN" is a
markdown link to that lesson's notebook, so a renumbering or a wrong number cannot hide.
"""
import re

import nbformat
import pytest

from coursekit.claims import claims_in_notebook, typed_figures, claim, ClaimError, seeds_summary, clearly_greater, standard_error
from coursekit.lessons import lesson_paths

from conftest import ROOT

LESSONS = lesson_paths(ROOT)
NAMES = {p.name[:2]: p.name for p in LESSONS}


def _markdown(path):
    return [(i, c.source) for i, c in enumerate(nbformat.read(path, as_version=4).cells)
            if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_hand_typed_measured_figures(path):
    typed = [(i, hits) for i, src in _markdown(path) if (hits := typed_figures(src))]
    assert not typed, (f"{path.name}: markdown cells state measured figures by hand {typed}; render them "
                       "from computed values with coursekit.claims.say, or mark a literature figure "
                       "with <!-- cited: SOURCE -->")


_MENTION = re.compile(r"\b[Ll]essons?\s+(\d{1,2})\b")
_LINK = re.compile(r"\[[Ll]essons?\s+(\d{1,2})[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_references_are_links_to_the_right_notebook(path):
    bad = []
    for i, src in _markdown(path):
        linked = set()
        for m in _LINK.finditer(src):
            num, target = m.group(1).zfill(2), m.group(2)
            if NAMES.get(num) != target:
                bad.append(f"cell {i}: [lesson {m.group(1)}]({target}) should point to {NAMES.get(num, 'no such lesson')}")
            linked.add(m.start())
        for m in _MENTION.finditer(src):
            inside_link = any(start <= m.start() < start + 12 for start in linked) or src[max(0, m.start() - 1)] == "["
            if not inside_link:
                bad.append(f"cell {i}: '{m.group(0)}' is not a link (write [lesson {m.group(1)}]({NAMES.get(m.group(1).zfill(2), '??')}))")
    assert not bad, f"{path.name}:\n" + "\n".join(bad)


def test_typed_figures_finds_measured_results_and_spares_citations():
    assert typed_figures("The model reaches 81.5% on validation.") == ["81.5%"]
    assert typed_figures("torch is 47x slower here") == ["47x slower"]
    assert typed_figures("one epoch takes 16 ms") == ["16 ms"]
    assert typed_figures("a validation accuracy of 0.98") != []
    assert typed_figures("ResNet-152 reaches 3.57% top-5 error <!-- cited: He et al. 2016 -->") == []
    assert typed_figures("kernel `3x3`, stride 2, output 5x5, $p = 0.5$") == []


def test_claims_fail_in_full_mode_and_wait_in_fast_mode(monkeypatch):
    monkeypatch.setenv("COURSEKIT_FAST", "0")
    assert claim(1 + 1 == 2, "arithmetic holds", values={"sum": 2}) is True
    with pytest.raises(ClaimError, match="the gap closes.*gap = 0.5"):
        claim(False, "the gap closes", values={"gap": 0.5}, full_only=True)
    monkeypatch.setenv("COURSEKIT_FAST", "1")
    assert claim(False, "needs a full run", full_only=True) is False      # shown, not checked
    with pytest.raises(ClaimError):
        claim(False, "an equality with torch")                           # checked in fast mode too


def test_spread_and_clear_difference():
    a, b = seeds_summary([0.80, 0.82, 0.81]), seeds_summary([0.70, 0.79, 0.75])
    assert f"{a:.2f}" == "0.81 ± 0.01 (3 seeds)"
    assert clearly_greater(a, b) and not clearly_greater(b, a)
    assert not clearly_greater(seeds_summary([0.8, 0.9]), seeds_summary([0.85, 0.7]))


def test_standard_error_of_a_mean_and_of_a_difference():
    a, b = seeds_summary([1.0, 3.0, 5.0, 7.0]), [2.0, 2.0, 8.0, 8.0]         # sample std: 2.582 and 3.464
    assert standard_error(a) == pytest.approx((20 / 3) ** 0.5 / 2)
    assert standard_error([1.0, 3.0, 5.0, 7.0]) == standard_error(a)          # a Spread or plain numbers
    assert standard_error(a, b) == pytest.approx(((20 / 3) / 4 + 12 / 4) ** 0.5)   # independent samples
    assert standard_error([4.0, 4.0]) == 0.0
    assert standard_error([0.5]) != standard_error([0.5])                      # NaN: one value, no spread


def test_claims_are_read_back_from_an_executed_notebook():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/plain": "x", "application/vnd.coursekit.claim+json": {"text": "t", "status": "held"}})]
    nb.cells = [cell, nbformat.v4.new_markdown_cell("m")]
    assert claims_in_notebook(nb) == [{"text": "t", "status": "held"}]
