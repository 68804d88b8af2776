"""Lesson 15's figures (viz.transfer): shared axes, chance lines, legends off the data, n= seeds."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from coursekit import transfer  # noqa: E402
from coursekit.claims import seeds_summary  # noqa: E402
from coursekit.figure_audit import audit_figure, figure_problems  # noqa: E402
from coursekit.viz import plot_stage_probes, plot_two_by_two  # noqa: E402


def teardown_function():
    plt.close("all")


def fake_results():
    rng = np.random.default_rng(0)
    methods = (transfer.HANDCRAFTED, transfer.EXTRACTION, transfer.FINETUNE, transfer.SCRATCH)
    stages = [f"stage {k}" for k in (1, 2, 3)]
    keys = list(methods) + stages + [f"random init: {s}" for s in stages]
    return {(ds, size): dict({k: seeds_summary(list(rng.random(3))) for k in keys}, images=n, steps=10)
            for ds in ("shapes-new", "digits") for size, n in (("little data", 25), ("a lot of data", 250))}


def test_two_by_two_panels_share_the_axis_and_draw_chance():
    fig = plot_two_by_two(fake_results(), chance={"shapes-new": 0.2, "digits": 0.1})
    assert figure_problems(audit_figure(fig)) == []
    a, b = fig.axes
    assert a.get_ylim() == b.get_ylim() == (0, 1)
    assert [ln.get_ydata()[0] for ax in (a, b) for ln in ax.lines if ln.get_label().startswith("chance")] == [0.2, 0.1]
    assert "n=3 seeds" in a.get_ylabel() and fig.legends


def test_stage_probes_in_a_two_by_two_grid():
    fig = plot_stage_probes(fake_results(), chance={"shapes-new": 0.2, "digits": 0.1})
    assert figure_problems(audit_figure(fig)) == []
    assert len(fig.axes) == 4 and fig.get_size_inches()[0] <= 12
    assert len({ax.get_ylim() for ax in fig.axes}) == 1
