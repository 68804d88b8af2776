"""``make course`` runs lessons side by side; a lesson that times CPU work must run alone."""
import json
import re

import pytest

from coursekit import conv_speed, timing
from coursekit.course import course_jobs, exclusive_reason
from coursekit.lessons import lesson_paths

# What a lesson calls when it measures wall time: a shared machine would distort it.
TIMING_HELPERS = [name for module in (timing, conv_speed) for name in module.__dict__
                  if callable(module.__dict__[name]) and getattr(module.__dict__[name], "__module__", "") == module.__name__
                  and not name.startswith("_") and name != "load_average"]
TIMING = re.compile(r"perf_counter|timeit|\btime\.time\(|" + "|".join(TIMING_HELPERS))


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: p.stem)
def test_a_lesson_that_times_code_runs_alone(path):
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    if TIMING.search(code):
        assert exclusive_reason(path), (
            f"{path.name} times code: add notebook metadata {{'coursekit': {{'exclusive': '<why>'}}}} "
            "so that `make course` runs it alone")


def test_course_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setenv("COURSEKIT_JOBS", "3")
    assert course_jobs() == 3
    monkeypatch.delenv("COURSEKIT_JOBS")
    assert 1 <= course_jobs() <= 4
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("COURSEKIT_JOBS", bad)
        with pytest.raises(ValueError, match="COURSEKIT_JOBS"):
            course_jobs()


def test_the_timing_helpers_are_known():
    assert {"best_time", "pinned_threads", "conv_forward_times", "numpy_vs_torch_forward"} <= set(TIMING_HELPERS)
