"""coursekit.timing: pinned threads are set and restored; best_time; the lesson-05 table."""
import pytest
import torch

from coursekit.timing import best_time, load_average, numpy_vs_torch_forward, pinned_threads


def test_pinned_threads_sets_and_restores():
    before = torch.get_num_threads()
    with pinned_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError):
        with pinned_threads(0):
            pass


def test_best_time_is_the_minimum_and_checks_arguments():
    calls = []
    t = best_time(lambda: calls.append(1), repeat=3, warmup=2)
    assert len(calls) == 5 and t >= 0
    with pytest.raises(TypeError):
        best_time(3)
    assert isinstance(load_average(), float)


def test_numpy_vs_torch_forward_rows():
    rows = numpy_vs_torch_forward(dtypes=("float32",), threads=(1,), batch_sizes=(2,),
                                  channels=(2, 4), size=8, repeat=1)
    assert len(rows) == 1
    r = rows[0]
    assert (r["dtype"], r["threads"], r["batch"]) == ("float32", 1, 2)
    assert r["ratio"] == pytest.approx(r["numpy_ms"] / r["torch_ms"])
