"""The submitted notebook is a symbolic link to the instructor's solution notebook (a zip
or folder upload can carry one). Fair outcome: the solution is NOT graded as this
student's work — an error status and zero."""
BASE = "blank"
SYMLINK_TO = "{{ROOT}}/solutions/{{ASSIGNMENT}}/{{ASSIGNMENT}}.ipynb"
EXPECT = {"status": "error: ...", "score": 0, "tampered": False}
