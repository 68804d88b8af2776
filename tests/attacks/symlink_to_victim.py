"""The submitted notebook is a symbolic link to another student's submission (copying by
link). Fair outcome: not graded as this student's work — an error status and zero."""
BASE = "blank"
SYMLINK_TO = "{{VICTIM}}/{{ASSIGNMENT}}.ipynb"
EXPECT = {"status": "error: ...", "score": 0, "tampered": False}
