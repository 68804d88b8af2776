"""Every figure a lesson draws meets the style contract of ``coursekit.viz.style``.

``test_lesson_figures[NN_name]`` reads the figure records of the lesson's fast-mode run (shared
with ``tests/test_notebooks.py``: the lesson is executed once) and fails with the list of
problems (too wide, panels too small, signed data in a sequential map or without a colorbar,
overlapping labels, a legend over the data, a hidden line, unlabelled log axes, compared
panels on different ranges) and stray outputs such as ``Generator(PCG64) at 0x…``.

Check one lesson (and its run) with::

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest -p no:xdist -q tests/test_figures.py tests/test_notebooks.py -k 09_

The other tests check the audit itself on small figures drawn here (no kernel, ~2 s).
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit.figure_audit import (MIME, audit_figure, figure_problems, figures_in_notebook,  # noqa: E402
                                    notebook_problems, stray_outputs)
from coursekit.viz import style  # noqa: E402

from lesson_runs import fast_run, lesson_params  # noqa: E402


@pytest.mark.notebook
@pytest.mark.parametrize("path", lesson_params())
def test_lesson_figures(path, tmp_path_factory):
    run = fast_run(path, tmp_path_factory.getbasetemp() / "lessons")
    if not run.ok:
        pytest.skip(f"{path.name} did not run ({run.status}): see test_notebook_executes")
    assert run.figures or "figure" not in path.read_text(), f"{path.name}: no figure was recorded"
    assert not run.figure_problems, f"{path.name} ({run.output}):\n" + "\n".join(run.figure_problems)


def _problems(fig):
    rec = audit_figure(fig)
    plt.close(fig)
    return figure_problems(rec)


def test_a_good_figure_has_no_problems():
    fig, axes = style.grid(3, panel=(3.0, 2.4), sharey=True)
    for k, ax in enumerate(axes):
        ax.plot(np.arange(10), np.arange(10) * (k + 1) / 3, label="line")
        ax.set(xlabel="epoch", ylabel="loss", title=f"run {k}")
    style.legend_outside(axes[-1])
    fig.tight_layout()
    assert _problems(fig) == []


def test_too_wide_and_too_small_panels():
    fig, axes = plt.subplots(1, 16, figsize=(17.5, 1.2))
    for ax in axes:
        ax.imshow(np.random.default_rng(0).random((8, 8)), cmap="gray")
        ax.axis("off")
    probs = _problems(fig)
    assert any("too wide: 17.5 in" in p for p in probs), probs
    assert any("image panel(s) under" in p for p in probs), probs


def test_grid_wraps_into_rows_within_the_width():
    fig, axes = style.grid(48, panel=(1.3, 1.3))
    assert len(axes) == 48 and fig.get_size_inches()[0] <= style.MAX_WIDTH_IN
    plt.close(fig)


def test_signed_data_needs_a_diverging_symmetric_map_and_a_colorbar():
    data = np.random.default_rng(0).standard_normal((12, 12))
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(data, cmap="gray")
    probs = _problems(fig)
    assert any("sequential map 'gray'" in p for p in probs) and any("without a colorbar" in p for p in probs), probs

    fig, ax = plt.subplots(figsize=(3, 3))
    im = ax.imshow(data, cmap="RdBu_r", vmin=-1, vmax=3)
    fig.colorbar(im, ax=ax)
    assert any("not symmetric" in p for p in _problems(fig))

    fig, ax = plt.subplots(figsize=(3, 3))
    style.show_signed(ax, data, label="activation")
    assert _problems(fig) == []

    fig, ax = plt.subplots(figsize=(3, 3))          # unsigned data in grey needs nothing
    ax.imshow(np.abs(data), cmap="gray")
    assert _problems(fig) == []


def test_overlapping_tick_labels_are_found():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(range(40))
    ax.set_xticks(range(40))
    ax.set_xticklabels([f"label {i}" for i in range(40)])
    assert any("overlapping labels" in p for p in _problems(fig))


def test_log_axis_ticks():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.semilogy(np.logspace(-3, 0, 20))
    style.log_ticks(ax)
    assert _problems(fig) == []
    fig, ax = plt.subplots(figsize=(4, 3))      # under a decade: matplotlib labels minor ticks
    ax.loglog([2, 128], [0.04, 0.006])
    assert any("labels" in p and "minor ticks" in p for p in _problems(fig))
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.loglog([2, 128], [0.04, 0.006])
    style.log_ticks(ax, "y")
    style.log_ticks(ax, "x")
    assert _problems(fig) == []


def test_legend_over_the_data_and_a_hidden_line():
    x = np.linspace(0, 1, 50)
    fig, ax = plt.subplots(figsize=(4, 3))
    for k in range(6):
        ax.plot(x, np.full_like(x, 0.9 - 0.02 * k), label=f"a long legend entry {k}")
    ax.plot(x, x, label="diagonal")
    ax.plot(x, x, label="the same diagonal")
    ax.legend(loc="upper right")
    probs = _problems(fig)
    assert any("legend covers" in p for p in probs), probs
    assert any("'diagonal' under 'the same diagonal'" in p for p in probs), probs


def test_compared_panels_must_share_their_ranges():
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for k, ax in enumerate(axes):
        ax.hist(np.random.default_rng(k).standard_normal(200) * (k + 1))
        ax.set(xlabel="activation", ylabel="count")
    assert any("different x ranges" in p for p in _problems(fig))


def test_stray_outputs_and_notebook_records():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1])
    rec = audit_figure(fig)
    plt.close(fig)
    nb = {"cells": [
        {"cell_type": "code", "outputs": [
            {"output_type": "execute_result", "data": {"text/plain": "Generator(PCG64) at 0x7F3A2C1B5E40"}}]},
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {"text/plain": "<Figure size 300x200 with 1 Axes>",
                                                       "image/png": "iVBORw0KGgoAAAANSUhEUgAAASwAAADI", MIME: rec}}]},
        {"cell_type": "code", "outputs": [{"output_type": "stream", "text": "accuracy 0.93\n"}]},
    ]}
    assert stray_outputs(nb) == ["cell 0: stray output 'Generator(PCG64) at 0x7F3A2C1B5E40'"]
    figs = figures_in_notebook(nb)
    assert len(figs) == 1 and figs[0]["cell"] == 1 and figs[0]["png_px"] == (300, 200)
    assert notebook_problems(nb) == stray_outputs(nb)
