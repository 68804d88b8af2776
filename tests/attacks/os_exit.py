"""os._exit(0) after the answers: the process ends before anything can be graded. Fair
outcome: a clear "kernel died" status and zero for what could not be graded."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import os
os._exit(0)
'''
EXPECT = {"status": "error: kernel died in cell ...", "score": 0, "tampered": False}
