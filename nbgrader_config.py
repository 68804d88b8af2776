"""nbgrader configuration for coursekit (read by every ``nbgrader`` command run from here).

- ``solutions/`` holds the instructor sources, ``assignments/`` the generated student release
  (``nbgrader generate_assignment A`` writes it; never edit it by hand).
- The gradebook and the submitted / autograded / feedback folders live OUTSIDE the repository:
  in ``$COURSEKIT_GRADING_DIR`` when set, else ``~/.cache/coursekit/grading``
  (``$XDG_CACHE_HOME/coursekit/grading`` when XDG_CACHE_HOME is set).
- ``spec.py`` files next to the source notebooks are the instructor-only grading specs used by
  ``coursekit autograde``; they are never copied into the release.
- Scores are produced by ``coursekit autograde`` (trusted, out-of-kernel grading) and written
  to this gradebook, so ``nbgrader export`` / formgrader keep working. Do not use
  ``nbgrader autograde`` for these assignments: it runs the tests inside the student's kernel.
"""
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader/traitlets when the file is loaded)

_ROOT = Path(__file__).resolve().parent

try:
    from coursekit.config import grading_dir
except ImportError:  # nbgrader run from a Python without coursekit: use this checkout's
    sys.path.insert(0, str(_ROOT))
    from coursekit.config import grading_dir

_GRADING = grading_dir()
_GRADING.mkdir(parents=True, exist_ok=True)

c.CourseDirectory.root = str(_ROOT)
c.CourseDirectory.course_id = "coursekit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# absolute paths: nbgrader joins them onto the root, and an absolute path wins
c.CourseDirectory.submitted_directory = str(_GRADING / "submitted")
c.CourseDirectory.autograded_directory = str(_GRADING / "autograded")
c.CourseDirectory.feedback_directory = str(_GRADING / "feedback")
c.CourseDirectory.solution_directory = str(_GRADING / "solution")
c.CourseDirectory.source_with_tests_directory = str(_GRADING / "source_with_tests")
c.CourseDirectory.db_url = "sqlite:///" + str(_GRADING / "gradebook.db")
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
    "spec.py",  # instructor-only grading specs (hidden-test generators)
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Training cells (a4) need more than nbgrader's 30 s default; coursekit's own runner reads
# per-assignment limits from each notebook's metadata["coursekit"] instead.
c.Execute.timeout = 600
