"""Patch InteractiveShell.run_cell (instance and class) to report success and swallow
errors, and install a custom exception handler. Fair outcome: blank's score."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "start"
CELL = r'''
from IPython.core.interactiveshell import InteractiveShell, ExecutionResult
ip = get_ipython()
_orig = InteractiveShell.run_cell
def run_cell(self, *a, **k):
    try:
        r = _orig(self, *a, **k)
    except BaseException:
        r = ExecutionResult(None)
    r.error_in_exec = None
    r.error_before_exec = None
    return r
InteractiveShell.run_cell = run_cell
ip.run_cell = run_cell.__get__(ip)
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
